#!/usr/bin/env bash
# `stack attach SERVICE` as `docker compose attach`: the container's output
# from now on (not what it printed before), stdout and stderr apart; what
# is typed reaches the main process of a `stdin_open` service; signals sent
# to attach reach the process (--sig-proxy, the default); attach ends with
# the container and returns its exit code; a service that does not run is
# an error.
set -euo pipefail
. "$STACK_SOURCE_DIR/tests/lib/up.sh"
up_test_init verbs-attach

st() { timeout 120 "$STACK" "$@"; }

cat >compose.yaml <<'YAML'
name: pat
services:
  ticker:
    image: busybox:amd64
    command: sh -c 'i=0; while :; do i=$$((i+1)); echo tick $$i; echo err $$i >&2; sleep 0.2; done'
  reader:
    image: busybox:amd64
    stdin_open: true
    command: sh -c 'while read l; do echo "got $$l"; [ "$$l" = quit ] && exit 7; done; echo eof'
  trapper:
    image: busybox:amd64
    command: sh -c 'trap "echo caught TERM; exit 3" TERM; echo armed; while :; do sleep 0.1; done'
YAML
st up -d >/dev/null 2>"$tmp/err" || fail "up: $(cat "$tmp/err")"
wait_for eval '"$STACK" logs ticker | grep -q "tick 5"' || fail "ticker: $("$STACK" logs ticker)"

# output from now on, stdout and stderr apart; ends with the container
"$STACK" attach --no-stdin ticker >"$tmp/out" 2>"$tmp/errout" &
pid=$!
wait_for eval 'grep -q tick "$tmp/out"' || fail "no output attached: $(cat "$tmp/out")"
sleep 0.5
st kill -s KILL ticker >/dev/null 2>&1
rc=0
timeout 30 tail --pid=$pid -f /dev/null || fail "attach did not end with the container"
wait $pid || rc=$?
((rc == 137)) || fail "attach exit code $rc, not the container's 137"
grep -qx 'tick 1' "$tmp/out" && fail "attach printed what came before it"
grep -q '^err ' "$tmp/out" && fail "stderr on stdout"
grep -q '^err [0-9]' "$tmp/errout" || fail "no stderr: $(cat "$tmp/errout")"

# input to a stdin_open service, and its exit code
rc=0
{ echo hello; sleep 1; echo quit; sleep 30; } | timeout 60 "$STACK" attach reader >"$tmp/out" 2>&1 || rc=$?
((rc == 7)) || fail "attach reader: rc $rc: $(cat "$tmp/out")"
grep -qx 'got hello' "$tmp/out" && grep -qx 'got quit' "$tmp/out" || fail "input: $(cat "$tmp/out")"

# signals go to the process
wait_for eval '"$STACK" logs trapper | grep -q armed' || fail "trapper not armed"
"$STACK" attach --no-stdin trapper >"$tmp/out" 2>&1 &
pid=$!
sleep 1
kill -TERM $pid
rc=0
timeout 30 tail --pid=$pid -f /dev/null || fail "attach did not end after the proxied TERM"
wait $pid || rc=$?
((rc == 3)) && grep -qx 'caught TERM' "$tmp/out" || fail "sig-proxy: rc $rc: $(cat "$tmp/out")"

rc=0
st attach ticker 2>"$tmp/err" </dev/null || rc=$?
((rc == 1)) && grep -q 'service "ticker" is not running' "$tmp/err" || fail "attach to a stopped service: $rc $(cat "$tmp/err")"
echo ok
