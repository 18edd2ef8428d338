#!/usr/bin/env bash
# Restart policies with real VMs: on-failure:2 on a failing command runs it
# exactly 3 times; `stop` and `kill` are never undone by `restart: always`;
# `restart` brings the container back; `rm -s` removes it; `exec` runs a
# command in the running container with its output and exit code.
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
runs() { local l; l=$("$STACK" logs --no-color flaky); grep -c "^flaky-1 *| run$" <<<"$l" || true; }
state() { "$STACK" ps -a --format json "$1"; }
wait_for eval '[[ $(runs) -ge 3 && $(state flaky) == *\"State\":\"exited\"* ]]' ||
  fail "flaky: $(runs) runs, $("$STACK" ps -a flaky)"
[[ $(runs) == 3 ]] || fail "flaky ran $(runs) times"
[[ $(state flaky) == *'"ExitCode":3'* ]] || fail "exit code: $("$STACK" ps -a flaky)"

wait_for eval '[[ $(state forever) == *\"State\":\"running\"* ]]' || fail "forever not running"
out=$("$STACK" exec -e GREETING=hi forever sh -c 'echo "$GREETING from $(hostname)"; echo err >&2; exit 5' 2>"$tmp/err") && rc=0 || rc=$?
((rc == 5)) || fail "exec exit code $rc"
[[ $out == "hi from "* && $(cat "$tmp/err") == err ]] || fail "exec output: $out / $(cat "$tmp/err")"
rc=0
"$STACK" exec flaky true 2>"$tmp/err" || rc=$?
((rc == 1)) && grep -q 'service "flaky" is not running' "$tmp/err" || fail "exec in a stopped service: $rc $(cat "$tmp/err")"
"$STACK" stop -t 1 forever 2>/dev/null || fail "stop"
[[ $(state forever) == *'"State":"exited"'* ]] || fail "forever not stopped: $(state forever)"
# the policy must not bring it back (give it the time a restart would take)
sleep 1
[[ $(state forever) == *'"State":"exited"'* ]] || fail "stop was undone by restart: always"
timeout 300 "$STACK" restart forever 2>"$tmp/err" || fail "restart: $(cat "$tmp/err")"
[[ $(state forever) == *'"State":"running"'* ]] || fail "not running after restart: $(state forever)"
"$STACK" kill forever 2>"$tmp/err" || fail "kill: $(cat "$tmp/err")"
grep -q "Container uprestart-forever-1  Killed" "$tmp/err" || fail "kill output: $(cat "$tmp/err")"
wait_for eval '[[ $(state forever) == *\"State\":\"exited\"* ]]' || fail "kill: $(state forever)"
sleep 1
[[ $(state forever) == *'"State":"exited"'* ]] || fail "kill was undone by restart: always"
"$STACK" rm -s forever 2>"$tmp/err" || fail "rm -s: $(cat "$tmp/err")"
[[ -z $("$STACK" ps -aq forever 2>/dev/null) ]] || fail "forever not removed"
echo ok
