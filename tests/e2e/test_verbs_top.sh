#!/usr/bin/env bash
# `stack top` with real VMs: the processes in each running container's
# guest (ps through an exec session), per container as Compose prints
# them, without kernel threads or the listing's own ps; SERVICE selects;
# a paused container is named, not listed; an unknown service fails.
set -euo pipefail
. "$STACK_SOURCE_DIR/tests/lib/up.sh"
up_test_init verbs-top

cat >compose.yaml <<'YAML'
name: vtop
services:
  web:
    image: busybox:amd64
    command: sh -c 'sleep 301 & exec sleep 300'
  other:
    image: busybox:amd64
    command: sleep 302
  done:
    image: busybox:amd64
    command: "true"
YAML

timeout 300 "$STACK" up -d 2>"$tmp/err" || fail "up -d: $(cat "$tmp/err")"
wait_for eval '"$STACK" ps -a | grep -q "^vtop-done-1 .*Exited"' || fail "done: $("$STACK" ps -a)"

# `up -d` returns once the main process started; its shell may still be
# forking the sleeps, so wait (bounded) until they show
top_ready() {
  out=$(timeout 60 "$STACK" top) &&
    grep -qE ' sleep 300$' <<<"$out" && grep -qE ' sleep 301$' <<<"$out"
}
wait_for top_ready || true
out=$(timeout 60 "$STACK" top) || fail "top: $out"
grep -qx 'vtop-web-1' <<<"$out" || fail "no web section: $out"
grep -qx 'vtop-other-1' <<<"$out" || fail "no other section: $out"
grep -q 'vtop-done-1' <<<"$out" && fail "a stopped container listed: $out"
(($(grep -c '^UID  *PID  *PPID  *STAT  *TTY  *CMD$' <<<"$out") == 2)) || fail "headers: $out"
web=$(sed -n '/^vtop-web-1$/,/^$/p' <<<"$out")
grep -qE '^root +[0-9]+ +[0-9]+ +[A-Z]+ +[^ ]+ +sleep 300$' <<<"$web" || fail "sleep 300: $web"
grep -qE '^root +[0-9]+ +[0-9]+ +[A-Z]+ +[^ ]+ +sleep 301$' <<<"$web" || fail "sleep 301: $web"
grep -q 'sleep 302' <<<"$web" && fail "another container's process in web's: $web"
grep -q '\[' <<<"$web" && fail "kernel threads listed: $web"
grep -q 'ps -o' <<<"$web" && fail "top's own ps listed: $web"

out=$(timeout 60 "$STACK" top other) || fail "top other: $out"
[[ $(head -1 <<<"$out") == vtop-other-1 ]] && grep -q 'sleep 302$' <<<"$out" || fail "top other: $out"
grep -q 'vtop-web-1' <<<"$out" && fail "top other listed web: $out"

timeout 60 "$STACK" pause other >/dev/null 2>&1 || fail "pause other"
out=$(timeout 60 "$STACK" top other 2>&1) || fail "top of a paused container: $out"
grep -q 'container vtop-other-1 is paused' <<<"$out" || fail "paused: $out"
timeout 60 "$STACK" unpause other >/dev/null 2>&1 || fail "unpause other"

rc=0
"$STACK" top nosuch 2>"$tmp/err" || rc=$?
((rc == 1)) && grep -q "no such service or container: nosuch" "$tmp/err" || fail "nosuch: $rc $(cat "$tmp/err")"
echo ok
