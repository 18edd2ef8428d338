#!/usr/bin/env bash
# A VM killed from outside (QEMU gets SIGKILL while the container's process
# runs) ends as Docker reports a killed container: exit code 137, not 125.
# `wait` says 137, `ps -a` shows Exited (137), `events` a die with exitCode
# 137, the container's log says the VM was killed; `restart: on-failure`
# counts it as a failure and starts the container again.
set -euo pipefail
. "$STACK_SOURCE_DIR/tests/lib/up.sh"
up_test_init up-vm-killed
events_pid=
cleanup_more() {
  [[ -z $events_pid ]] || kill "$events_pid" 2>/dev/null || true
  _up_cleanup
}
trap cleanup_more EXIT

project=vmkill$$
cat >compose.yaml <<YAML
name: $project
services:
  plain:
    image: busybox:amd64
    command: sleep 100000
  flaky:
    image: busybox:amd64
    command: sleep 100000
    restart: on-failure
YAML
timeout 300 "$STACK" up -d --wait 2>"$tmp/err" >/dev/null || fail "up: $(cat "$tmp/err")"
timeout 120 "$STACK" events --json >"$tmp/events" 2>&1 &
events_pid=$!
qemu_of() { pgrep -f -- "-name guest=$project-$1-1 " || true; }
state() { "$STACK" ps -a --format json "$1"; }

pid=$(qemu_of plain)
[[ -n $pid ]] || fail "no VM for plain"
"$STACK" wait plain >"$tmp/wait" 2>&1 &
wait_pid=$!
sleep 0.5
kill -9 "$pid"
rc=0
timeout 60 tail --pid="$wait_pid" -f /dev/null || fail "wait did not return after the VM was killed"
wait "$wait_pid" || rc=$?
((rc == 137)) || fail "wait's exit code: $rc ($(cat "$tmp/wait"))"
grep -q 'exited with status code 137' "$tmp/wait" || fail "wait: $(cat "$tmp/wait")"
grep -q "^$project-plain-1 .*Exited (137)" <<<"$("$STACK" ps -a)" || fail "ps -a: $("$STACK" ps -a)"
[[ $(state plain) == *'"ExitCode":137'* ]] || fail "ps json: $(state plain)"
wait_for eval 'grep -q "\"action\":\"die\".*$project-plain-1" "$tmp/events"' || fail "no die event: $(cat "$tmp/events")"
die=$(grep "\"action\":\"die\".*$project-plain-1" "$tmp/events" | head -1)
[[ $die == *'"exitCode":"137"'* ]] || fail "die event: $die"
logs=$("$STACK" logs --no-color plain)
grep -q "the VM was killed by signal 9" <<<"$logs" || fail "the log does not say the VM was killed: $logs"
sleep 1
[[ $(state plain) == *'"State":"exited"'* ]] || fail "plain (restart: no) came back: $(state plain)"

# on-failure: the killed VM counts as a failure, the container starts again
pid=$(qemu_of flaky)
[[ -n $pid ]] || fail "no VM for flaky"
kill -9 "$pid"
restarted() {
  local now
  now=$(qemu_of flaky)
  [[ -n $now && $now != "$pid" && $(state flaky) == *'"State":"running"'* ]]
}
for ((i = 0; i < 60; i++)); do restarted && break; sleep 0.5; done
restarted || fail "flaky was not restarted after its VM was killed: $(state flaky)"
grep -q "\"action\":\"die\".*$project-flaky-1.*\"exitCode\":\"137\"" "$tmp/events" ||
  grep -q "\"exitCode\":\"137\".*$project-flaky-1" "$tmp/events" || fail "flaky's die event: $(grep flaky "$tmp/events")"
echo PASS
