#!/usr/bin/env bash
# `stack pause` / `unpause` with real VMs (QMP stop/cont): a paused
# container writes nothing, `ps` says "Up ... (Paused)", its health check
# does not run (so it is not failed for the pause), events say pause and
# unpause; unpaused it goes on; a paused container stops promptly on
# `stop` and `kill`.
set -euo pipefail
. "$STACK_SOURCE_DIR/tests/lib/up.sh"
up_test_init verbs-pause

cat >compose.yaml <<'YAML'
name: vpause
services:
  tick:
    image: busybox:amd64
    command: sh -c 'i=0; while true; do i=$$((i+1)); echo tick-$$i; sleep 0.2; done'
    healthcheck:
      test: ["CMD", "true"]
      interval: 300ms
      timeout: 1s
      retries: 1
  other:
    image: busybox:amd64
    command: sleep 300
YAML

ticks() { "$STACK" logs --no-color --no-log-prefix tick | grep -c '^tick-' || true; }

timeout 300 "$STACK" up -d --wait 2>"$tmp/err" || fail "up -d --wait: $(cat "$tmp/err")"
timeout 60 "$STACK" events --json >"$tmp/events" 2>&1 &
events_pid=$!
sleep 0.5

out=$(timeout 60 "$STACK" pause tick 2>&1) || fail "pause: $out"
[[ $out == *"Container vpause-tick-1  Paused"* ]] || fail "pause output: $out"
ps_out=$("$STACK" ps)
grep -q '^vpause-tick-1 .*Up .* (Paused)' <<<"$ps_out" || fail "ps while paused: $ps_out"
grep -q '^vpause-other-1 .*Up ' <<<"$ps_out" || fail "other: $ps_out"
grep -q '^vpause-other-1 .*Paused' <<<"$ps_out" && fail "other paused too: $ps_out"
[[ $("$STACK" ps -a --format json tick) == *'"State":"paused"'* ]] || fail "ps json: $("$STACK" ps --format json tick)"
n1=$(ticks)
sleep 2
n2=$(ticks)
((n2 <= n1 + 1)) || fail "a paused container went on writing: $n1 -> $n2 lines"

# unpausing what is not paused does nothing; pausing twice neither
out=$(timeout 60 "$STACK" unpause other 2>&1) || fail "unpause other: $out"
[[ -z $out ]] || fail "unpause of a running container said: $out"

out=$(timeout 60 "$STACK" unpause 2>&1) || fail "unpause: $out"
[[ $out == *"Container vpause-tick-1  Unpaused"* ]] || fail "unpause output: $out"
wait_for eval '(( $(ticks) > n2 + 3 ))' || fail "no output after unpause: $(ticks) lines"
ps_out=$("$STACK" ps)
grep -q '^vpause-tick-1 .*Up .* (healthy)' <<<"$ps_out" || fail "not healthy after unpause: $ps_out"
[[ $("$STACK" ps --format json tick) == *'"Health":"healthy"'* ]] || fail "health: $("$STACK" ps --format json tick)"

kill "$events_pid" 2>/dev/null || true
wait "$events_pid" 2>/dev/null || true
grep -q '"action":"pause".*vpause-tick-1' "$tmp/events" || fail "no pause event: $(cat "$tmp/events")"
grep -q '"action":"unpause".*vpause-tick-1' "$tmp/events" || fail "no unpause event: $(cat "$tmp/events")"
# a probe run while paused would have timed out (1 s): unhealthy (retries 1)
grep -q '"health_status":"unhealthy"' "$tmp/events" &&
  fail "unhealthy while paused: $(cat "$tmp/events")"

# a paused container stops at once (its guest is continued to get the signal)
timeout 60 "$STACK" pause tick >/dev/null 2>&1 || fail "pause again"
start=$SECONDS
timeout 60 "$STACK" stop tick 2>"$tmp/err" || fail "stop paused: $(cat "$tmp/err")"
((SECONDS - start < 8)) || fail "stop of a paused container took $((SECONDS - start)) s"
grep -q '^vpause-tick-1 .*Exited' <<<"$("$STACK" ps -a)" || fail "not exited: $("$STACK" ps -a)"

timeout 60 "$STACK" pause other >/dev/null 2>&1 || fail "pause other"
timeout 60 "$STACK" kill other 2>"$tmp/err" || fail "kill paused: $(cat "$tmp/err")"
wait_for eval '"$STACK" ps -a | grep -q "^vpause-other-1 .*Exited"' || fail "kill: $("$STACK" ps -a)"
echo ok
