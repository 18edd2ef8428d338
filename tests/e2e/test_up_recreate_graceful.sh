#!/usr/bin/env bash
# `up` replaces a changed service's running container as Compose does: it
# stops the old one as `stop` does (stop_signal, stop_grace_period, then
# SIGKILL), and only then removes it and starts the new one.  Checked: the
# old process sees its stop signal and ends cleanly (it writes that to a
# named volume), events come in Compose's order for the old container
# (kill with the signal, die, stop, destroy) before the new one's create
# and start; a process that ignores the signal gets SIGKILL after its grace
# period (kill 15, kill 9, die 137, stop); `up --force-recreate` and `down`
# stop the same way.
set -euo pipefail
. "$STACK_SOURCE_DIR/tests/lib/up.sh"
up_test_init up-recreate-graceful

write_compose() { # write_compose VERSION
  cat >compose.yaml <<YAML
name: recreate
services:
  db:
    image: busybox:amd64
    stop_signal: SIGUSR1
    stop_grace_period: 30s
    environment:
      VERSION: "$1"
    command:
      - sh
      - -c
      - |
        trap 'echo "v\$\$VERSION stopped by USR1" >>/data/log; sync; exit 0' USR1
        echo "v\$\$VERSION started" >>/data/log; sync
        while :; do sleep 0.1; done
    volumes:
      - data:/data
  stubborn:
    image: busybox:amd64
    stop_grace_period: 1s
    environment:
      VERSION: "$1"
    command: sh -c 'trap "" TERM; while :; do sleep 0.1; done'
volumes:
  data:
YAML
}
events_of() { # events_of NAME: its actions (kill with the signal), in order
  python3 - "$tmp/events" "$1" <<'PY'
import json, sys
out = []
for line in open(sys.argv[1]):
    try:
        e = json.loads(line)
    except ValueError:
        continue
    a = e.get("attributes", {})
    if a.get("name") != sys.argv[2]:
        continue
    act = e["action"]
    if act == "kill":
        act += "/" + a.get("signal", "?")
    if act == "die":
        act += "/" + a.get("exitCode", "?")
    out.append(act)
print(" ".join(out))
PY
}
volume_log() { "$STACK" exec db cat /data/log; }

write_compose 1
timeout 300 "$STACK" up -d 2>"$tmp/err" || fail "up: $(cat "$tmp/err")"
"$STACK" events --json >"$tmp/events" 2>&1 &
events_pid=$!
trap 'kill $events_pid 2>/dev/null || true; _up_cleanup' EXIT
sleep 0.5

# a changed service: the old container is stopped gracefully, then replaced
write_compose 2
start=$SECONDS
timeout 300 "$STACK" up -d 2>"$tmp/err" || fail "up (changed): $(cat "$tmp/err")"
((SECONDS - start < 25)) || fail "up waited for db's grace period: the stop signal was not seen"
# (the new process writes its line a moment after it started)
wait_for eval '[[ $(volume_log) == *"v1 stopped by USR1"*"v2 started"* ]]' ||
  fail "db was not stopped gracefully: $(volume_log)"
[[ $("$STACK" exec db sh -c 'echo $VERSION') == 2 ]] || fail "db not recreated"
want="kill/10 die/0 stop destroy create start"
wait_for eval '[[ $(events_of recreate-db-1) == *"$want" ]]' ||
  fail "db's events: '$(events_of recreate-db-1)', want them to end with '$want'"
want="kill/15 kill/9 die/137 stop destroy create start"
wait_for eval '[[ $(events_of recreate-stubborn-1) == *"$want" ]]' ||
  fail "stubborn's events: '$(events_of recreate-stubborn-1)', want them to end with '$want'"

# --force-recreate: the same
timeout 300 "$STACK" up -d --force-recreate db 2>"$tmp/err" || fail "up --force-recreate: $(cat "$tmp/err")"
wait_for eval '[[ $(volume_log) == *"v2 stopped by USR1"*"v2 started" ]]' ||
  fail "force-recreate not graceful: $(volume_log)"
wait_for eval '[[ $(events_of recreate-db-1) == *"stop destroy create start"*"stop destroy create start" ]]' ||
  fail "db's events after --force-recreate: $(events_of recreate-db-1)"

# down: stopped as well, then removed
timeout 120 "$STACK" down 2>"$tmp/err" || fail "down: $(cat "$tmp/err")"
wait_for eval '[[ $(events_of recreate-db-1) == *"kill/10 die/0 stop destroy" ]]' ||
  fail "db's events after down: $(events_of recreate-db-1)"
echo ok
