#!/usr/bin/env bash
# Attached `up` that ends on a container's exit: --abort-on-container-failure
# returns the failing exit code and stops the rest; --exit-code-from returns
# the chosen service's code.  And 10 independent services all come up (the
# times are printed; their ratio is for bench/, not a pass/fail here).
set -euo pipefail
. "$STACK_SOURCE_DIR/tests/lib/up.sh"
up_test_init up-abort

cat >compose.yaml <<'YAML'
name: upabort
services:
  long:
    image: busybox:amd64
    command: sleep 300
  fails:
    image: busybox:amd64
    command: sh -c 'sleep 1; exit 7'
YAML
rc=0
timeout 300 "$STACK" up --no-color --abort-on-container-failure >"$tmp/out" 2>"$tmp/err" || rc=$?
((rc == 7)) || fail "abort-on-container-failure returned $rc: $(cat "$tmp/out" "$tmp/err")"
grep -q "^fails-1 exited with code 7$" "$tmp/out" || fail "output: $(cat "$tmp/out")"
grep -q "Aborting on container exit" "$tmp/err" || fail "stderr: $(cat "$tmp/err")"
[[ -z $("$STACK" ps -q) ]] || fail "still running after abort: $("$STACK" ps)"

rc=0
timeout 300 "$STACK" up --no-color --exit-code-from fails >"$tmp/out" 2>"$tmp/err" || rc=$?
((rc == 7)) || fail "exit-code-from returned $rc: $(cat "$tmp/out" "$tmp/err")"
timeout 120 "$STACK" down -t 0 2>/dev/null || fail "down"

# 10 independent services
{
  echo "name: upabort"
  echo "services:"
  for i in $(seq 1 10); do printf '  s%d:\n    image: busybox:amd64\n    command: sleep 300\n' "$i"; done
} >compose.yaml
start=$(date +%s%N)
timeout 300 "$STACK" up -d 2>"$tmp/err" || fail "up of 10: $(cat "$tmp/err")"
ten=$((($(date +%s%N) - start) / 1000000))
[[ $("$STACK" ps -q | wc -l) == 10 ]] || fail "not 10 running: $("$STACK" ps -a)"
timeout 120 "$STACK" down -t 0 2>/dev/null || fail "down of 10"
printf 'name: upabort\nservices:\n  s1:\n    image: busybox:amd64\n    command: sleep 300\n' >compose.yaml
start=$(date +%s%N)
timeout 300 "$STACK" up -d 2>"$tmp/err" || fail "up of 1: $(cat "$tmp/err")"
one=$((($(date +%s%N) - start) / 1000000))
echo "up -d: 1 service ${one} ms, 10 services ${ten} ms"
echo ok
