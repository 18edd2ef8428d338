#!/usr/bin/env bash
# The exit status of a stopped container, as Docker reports it: 143 for a
# process SIGTERM ends, 137 for one killed after the grace period because
# it ignores SIGTERM, its own status for one that handles it (the
# difference a VM makes is documented in docs/user-guide.md: the process is
# not PID 1, so SIGTERM is never ignored for it by the kernel).
set -euo pipefail
. "$STACK_SOURCE_DIR/tests/lib/up.sh"
up_test_init up-stop-status

cat >compose.yaml <<'YAML'
name: upstopstatus
services:
  term:
    image: busybox:amd64
    command: sleep 300
  stubborn:
    image: busybox:amd64
    command: sh -c "trap '' TERM; echo ready; while true; do sleep 1; done"
  handler:
    image: busybox:amd64
    command: sh -c "trap 'exit 0' TERM; echo ready; while true; do sleep 1; done"
YAML
timeout 300 "$STACK" up -d --wait 2>"$tmp/err" || fail "up: $(cat "$tmp/err")"
for s in stubborn handler; do
  wait_for eval '[[ $("$STACK" logs --no-color $s) == *ready* ]]' || fail "$s did not set its trap"
done
start=$SECONDS
timeout 120 "$STACK" stop -t 3 2>"$tmp/err" || fail "stop: $(cat "$tmp/err")"
((SECONDS - start >= 3)) || fail "stop did not wait the grace period for the stubborn one"
out=$("$STACK" ps -a)
grep -q "^upstopstatus-term-1 .*Exited (143)" <<<"$out" || fail "SIGTERM: $out"
grep -q "^upstopstatus-stubborn-1 .*Exited (137)" <<<"$out" || fail "SIGKILL after the grace period: $out"
grep -q "^upstopstatus-handler-1 .*Exited (0)" <<<"$out" || fail "handled SIGTERM: $out"
echo ok
