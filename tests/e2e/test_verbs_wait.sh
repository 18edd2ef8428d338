#!/usr/bin/env bash
# `stack wait` with real VMs: blocks until the named services' containers
# stop, prints Compose's line for each as it stops, exits with the status of
# the first to stop; a container that already stopped answers at once; a
# kill from another shell ends a wait; an unknown service fails.
set -euo pipefail
. "$STACK_SOURCE_DIR/tests/lib/up.sh"
up_test_init verbs-wait

cat >compose.yaml <<'YAML'
name: vwait
services:
  a:
    image: busybox:amd64
    command: sh -c 'sleep 2; exit 3'
  b:
    image: busybox:amd64
    command: sh -c 'sleep 4; exit 5'
  c:
    image: busybox:amd64
    command: sh -c 'exit 7'
  d:
    image: busybox:amd64
    command: sleep 300
YAML

timeout 300 "$STACK" up -d 2>"$tmp/err" || fail "up -d: $(cat "$tmp/err")"
rc=0
out=$(timeout 60 "$STACK" wait a b) || rc=$?
((rc == 3)) || fail "wait a b returned $rc: $out"
[[ $out == 'container "a" exited with status code 3'$'\n''container "b" exited with status code 5' ]] ||
  fail "wait a b printed: $out"
grep -q '^vwait-b-1 .*Exited (5)' <<<"$("$STACK" ps -a)" || fail "b had not exited: $("$STACK" ps -a)"

wait_for eval '"$STACK" ps -a | grep -q "^vwait-c-1 .*Exited"' || fail "c: $("$STACK" ps -a)"
rc=0
out=$(timeout 10 "$STACK" wait c) || rc=$?
((rc == 7)) && [[ $out == 'container "c" exited with status code 7' ]] || fail "wait c: $rc $out"

timeout 60 "$STACK" wait d >"$tmp/d.out" 2>&1 &
waiter=$!
sleep 1
kill -0 "$waiter" 2>/dev/null || fail "wait d returned while d runs: $(cat "$tmp/d.out")"
timeout 60 "$STACK" kill d >/dev/null 2>&1 || fail "kill d"
rc=0
wait "$waiter" || rc=$?
((rc == 137)) && grep -qx 'container "d" exited with status code 137' "$tmp/d.out" ||
  fail "wait d: $rc $(cat "$tmp/d.out")"

rc=0
"$STACK" wait nosuch 2>"$tmp/err" || rc=$?
((rc == 1)) && grep -q "no such service or container: nosuch" "$tmp/err" || fail "nosuch: $rc $(cat "$tmp/err")"
rc=0
"$STACK" wait 2>"$tmp/err" || rc=$?
((rc == 1)) && grep -q "requires at least 1 argument" "$tmp/err" || fail "no argument: $rc $(cat "$tmp/err")"
echo ok
