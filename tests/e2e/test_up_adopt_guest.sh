#!/usr/bin/env bash
# A supervisor killed with SIGKILL at the wrong moment loses nothing: the
# next one takes the VMs over through their guest channels.
#  - killed while a health check waits for the service to get healthy: the
#    adopted container's checks go on ((starting) -> (healthy)), a dependent
#    gated on service_healthy starts with `up -d` (no false "has no
#    healthcheck configured"), `exec` works in it, its logs go on;
#  - killed while it runs healthy: `exec` works, it stays (healthy);
#  - killed as soon as QEMU's pid file exists (before the state records the
#    VM): the next supervisor adopts or ends that VM, never a second VM with
#    the same name, and `down` leaves no QEMU of the project.
set -euo pipefail
. "$STACK_SOURCE_DIR/tests/lib/up.sh"
up_test_init up-adopt-guest

cat >compose.yaml <<'YAML'
name: adoptguest
services:
  db:
    image: busybox:amd64
    # healthy once /tmp/ready exists (the test makes it); a tick every 0.2 s
    command: sh -c 'i=0; while :; do i=$((i+1)); echo tick $i; sleep 0.2; done'
    healthcheck:
      test: ["CMD", "test", "-e", "/tmp/ready"]
      interval: 500ms
      retries: 1000
  app:
    image: busybox:amd64
    command: sleep 300
    depends_on:
      db:
        condition: service_healthy
YAML
state=$STACK_ROOT/projects/adoptguest/state.json
lock=$STACK_RUN_DIR/projects/adoptguest/supervisor.lock
alive() { [[ -e /proc/$1 ]] && ! grep -q '^[^)]*) [ZX]' "/proc/$1/stat" 2>/dev/null; }
field() { # field SERVICE KEY
  python3 -c '
import json, sys
for c in json.load(open(sys.argv[1]))["containers"]:
    if c["service"] == sys.argv[2]:
        print(c.get(sys.argv[3], ""))' "$state" "$1" "$2"
}
kill_supervisor() {
  local sup
  sup=$(cat "$lock")
  kill -9 "$sup"
  wait_for eval '! alive $sup' || fail "supervisor $sup did not die"
}
# QEMUs whose command line names this test's data root
qemus() { pgrep -f "qemu-system.*$STACK_ROOT/" | sort; }
wait_long() { # wait_long SECONDS CMD...: for what a VM does (slow under TCG)
  local end=$((SECONDS + $1))
  shift
  while ((SECONDS < end)); do
    "$@" && return 0
    sleep 0.2
  done
  return 1
}

# 1. killed during the health wait
"$STACK" up -d db 2>"$tmp/err" || fail "up -d db: $(cat "$tmp/err")"
[[ $("$STACK" ps db) == *"(starting)"* ]] || fail "db not starting: $("$STACK" ps -a)"
qemu_db=$(field db qemu_pid)
kill_supervisor
# a new supervisor (started by ps) adopts it; the check still fails
wait_long 60 eval '[[ $("$STACK" ps db) == *"(starting)"* ]]' || fail "after kill: $("$STACK" ps -a)"
"$STACK" exec db touch /tmp/ready 2>"$tmp/err" || fail "exec into the adopted db: $(cat "$tmp/err")"
wait_long 60 eval '[[ $("$STACK" ps db) == *"(healthy)"* ]]' ||
  fail "adopted db never got healthy: $("$STACK" ps -a); $(cat "$STACK_ROOT/projects/adoptguest/supervisor.log")"
[[ $(field db qemu_pid) == "$qemu_db" ]] || fail "db's VM was replaced: $(field db qemu_pid) != $qemu_db"
timeout 300 "$STACK" up -d 2>"$tmp/err" || fail "up -d after adoption: $(cat "$tmp/err")"
[[ $("$STACK" ps app) == *Up* ]] || fail "app not up: $("$STACK" ps -a)"
[[ $(field db qemu_pid) == "$qemu_db" ]] || fail "up -d replaced the adopted db"
# its output goes on reaching the logs after the adoption
before=$("$STACK" logs db | grep -c tick || true)
wait_long 30 eval '(( $("$STACK" logs db | grep -c tick) > before + 3 ))' ||
  fail "no output from the adopted db: $("$STACK" logs db | tail -3)"

# 2. killed while healthy: exec works, the status is live
kill_supervisor
out=$("$STACK" exec db echo hello-adopted 2>&1) || fail "exec after kill: $out"
[[ $out == *hello-adopted* ]] || fail "exec output: $out"
[[ $("$STACK" ps db) == *"(healthy)"* ]] || fail "db not healthy after adoption: $("$STACK" ps -a)"

# 3. killed right after a QEMU is spawned
"$STACK" stop app >/dev/null 2>&1 || fail "stop app"
"$STACK" rm -f app >/dev/null 2>&1 || fail "rm app"
before=$(qemus | wc -l)
timeout 300 "$STACK" up -d app >"$tmp/up.out" 2>&1 &
upc=$!
# the moment app's pid file appears (QEMU is being exec'd)
for ((i = 0; i < 3000; i++)); do
  n=$(ls "$STACK_ROOT"/containers/*/qemu.pid 2>/dev/null | wc -l)
  ((n > before)) && break
  sleep 0.01
done
((n > before)) || fail "app's QEMU never started"
kill_supervisor
wait "$upc" || true
# the next supervisor either runs app in that VM or has ended it
"$STACK" ps -a >/dev/null
timeout 300 "$STACK" up -d 2>"$tmp/err" || fail "up -d after a kill at spawn: $(cat "$tmp/err")"
[[ $("$STACK" ps app) == *Up* ]] || fail "app not up: $("$STACK" ps -a)"
(($(qemus | wc -l) == 2)) || fail "want 2 QEMUs (db, app), have: $(qemus | xargs -r ps -o pid,args -p)"

timeout 120 "$STACK" down -t 2 2>"$tmp/err" || fail "down: $(cat "$tmp/err")"
wait_for eval '[[ -z $(qemus) ]]' || fail "QEMUs left after down: $(qemus)"
echo ok
