#!/usr/bin/env bash
# A VM whose QEMU is killed counts as a failure: `restart: always` brings it
# back.  The supervisor killed with SIGKILL while three services run: the
# next `stack ps` (a new supervisor) reports them running, and `stack down`
# ends every VM -- no QEMU is left behind.
set -euo pipefail
. "$STACK_SOURCE_DIR/tests/lib/up.sh"
up_test_init up-adopt

cat >compose.yaml <<'YAML'
name: upadopt
services:
  a:
    image: busybox:amd64
    command: sleep 300
    restart: always
  b:
    image: busybox:amd64
    command: sleep 300
  c:
    image: busybox:amd64
    command: sleep 300
YAML
state=$STACK_ROOT/projects/upadopt/state.json
field() { # field SERVICE KEY
  python3 -c '
import json, sys
for c in json.load(open(sys.argv[1]))["containers"]:
    if c["service"] == sys.argv[2]:
        print(c[sys.argv[3]])' "$state" "$1" "$2"
}
running() { [[ $("$STACK" ps -q | wc -l) == 3 ]]; }
alive() { [[ -e /proc/$1 ]] && ! grep -q '^[^)]*) [ZX]' "/proc/$1/stat" 2>/dev/null; }

timeout 300 "$STACK" up -d 2>"$tmp/err" || fail "up: $(cat "$tmp/err")"
running || fail "not all running: $("$STACK" ps -a)"
qa=$(field a qemu_pid)
[[ $qa -gt 0 ]] && alive "$qa" || fail "no QEMU pid recorded for a: $qa"

# a VM crash is a failure: restart: always brings it back
kill -9 "$qa"
wait_for eval '[[ $(field a restart_count) -ge 1 && $(field a status) == running ]]' ||
  fail "a did not come back: $(cat "$state")"
[[ $(field a qemu_pid) != "$qa" ]] || fail "same QEMU pid after restart"

# the supervisor dies: ps (a new one) still sees the three VMs running
pids=$(for s in a b c; do field $s qemu_pid; done)
sup=$(cat "$STACK_RUN_DIR/projects/upadopt/supervisor.lock")
kill -9 "$sup"
wait_for eval '! alive $sup' || fail "supervisor did not die"
running || fail "after SIGKILL: $("$STACK" ps -a)"
for p in $pids; do alive "$p" || fail "VM $p died with the supervisor"; done

timeout 120 "$STACK" down -t 2 2>"$tmp/err" || fail "down: $(cat "$tmp/err")"
for p in $pids; do wait_for eval '! alive $p' || fail "QEMU $p left after down"; done
[[ -z $("$STACK" ps -aq) ]] || fail "containers left after down"
echo ok
