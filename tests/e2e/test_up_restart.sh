#!/usr/bin/env bash
# Restart policies with real VMs: on-failure:2 on a failing command runs it
# exactly 3 times; `stop` is never undone by `restart: always`.
set -euo pipefail
. "$STACK_SOURCE_DIR/tests/lib/up.sh"
up_test_init up-restart

cat >compose.yaml <<'YAML'
name: uprestart
services:
  flaky:
    image: busybox:amd64
    command: sh -c 'echo run; exit 3'
    restart: on-failure:2
  forever:
    image: busybox:amd64
    command: sh -c 'echo up; sleep 300'
    restart: always
YAML
timeout 300 "$STACK" up -d 2>"$tmp/err" || fail "up: $(cat "$tmp/err")"
runs() { "$STACK" logs --no-color flaky | grep -c "flaky-1 | run$" || true; }
wait_for eval '[[ $(runs) -ge 3 ]] && "$STACK" ps -a --format json flaky | grep -q "\"State\":\"exited\""' ||
  fail "flaky: $(runs) runs, $("$STACK" ps -a flaky)"
[[ $(runs) == 3 ]] || fail "flaky ran $(runs) times"
"$STACK" ps -a --format json flaky | grep -q '"ExitCode":3' || fail "exit code: $("$STACK" ps -a flaky)"

"$STACK" ps --format json forever | grep -q '"State":"running"' || fail "forever not running"
"$STACK" stop -t 1 forever 2>/dev/null || fail "stop"
"$STACK" ps -a --format json forever | grep -q '"State":"exited"' || fail "forever not stopped"
# the policy must not bring it back (give it the time a restart would take)
sleep 1
"$STACK" ps -a --format json forever | grep -q '"State":"exited"' || fail "stop was undone by restart: always"
echo ok
