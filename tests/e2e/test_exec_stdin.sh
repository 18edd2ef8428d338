#!/usr/bin/env bash
# `stack exec` input as in Compose: stdin forwarded with -T (text and
# binary, EOF included) and the command's exit code; a pty by default when
# stdin is a terminal (driven through util-linux script), with typed input
# reaching it, its size and resizes; none when stdin is not a terminal;
# Ctrl-C forwarded; a dead client's session gets EOF; a command that
# ignores SIGTERM does not hold `stack exec` (given up 10 s after
# a SIGTERM, at once on a second one).
set -euo pipefail
. "$STACK_SOURCE_DIR/tests/lib/up.sh"
command -v script >/dev/null || { echo "SKIP: no script(1) (util-linux)"; exit 77; }
up_test_init exec-stdin

cat >compose.yaml <<'YAML'
name: execstdin
services:
  box:
    image: busybox:amd64
    command: sleep 300
YAML
timeout 300 "$STACK" up -d 2>"$tmp/err" || fail "up: $(cat "$tmp/err")"
wait_for eval '[[ $("$STACK" ps --format json box) == *\"State\":\"running\"* ]]' || fail "box not running"
x() { timeout 60 "$STACK" exec "$@"; }

out=$(printf 'hi\nthere\n' | x -T box cat) || fail "exec -T cat: $?"
[[ $out == $'hi\nthere' ]] || fail "piped stdin: '$out'"

rc=0
echo 7 | x -T box sh -c 'read n; exit $n' || rc=$?
((rc == 7)) || fail "exit code through stdin: $rc"

head -c 200000 /dev/urandom >"$tmp/blob"
want=$(md5sum <"$tmp/blob" | cut -d' ' -f1)
got=$(x -T box md5sum <"$tmp/blob" | cut -d' ' -f1) || fail "binary stdin: $?"
[[ $got == "$want" ]] || fail "binary stdin: md5 $got, want $want"

# stdin not a terminal: no pty even without -T (Compose's rule)
out=$(x box tty </dev/null 2>&1) && rc=0 || rc=$?
[[ $out == "not a tty" && $rc == 1 ]] || fail "no pty without a terminal: rc $rc '$out'"

# stdin a terminal: a pty, its exit code, and typed input.  script(1) turns
# its stdin's EOF into a control character typed into the pty, which the
# guest's pty may echo (^@) before or after the output: match, don't anchor.
out=$(timeout 60 script -qec "$STACK exec box sh -c 'tty; exit 3'" /dev/null </dev/null) && rc=0 || rc=$?
[[ $out == *"/dev/pts/"* && $rc == 3 ]] || fail "pty: rc $rc '$out'"
out=$(printf 'typed\n' | timeout 60 script -qec "$STACK exec box sh -c 'read l; echo \"got \$l\"'" /dev/null) ||
  fail "pty input: $? '$out'"
[[ $out == *"got typed"* ]] || fail "pty input: '$out'"
out=$(timeout 60 script -qec "stty rows 33 cols 77; $STACK exec box stty size" /dev/null </dev/null) ||
  fail "pty size: $? '$out'"
[[ $out == *"33 77"* ]] || fail "pty size: '$out'"
# a resize (SIGWINCH) while it runs: the command waits (bounded) for it
inner='stty size; i=0; while [ \"\$(stty size)\" = \"20 50\" ] && [ \$i -lt 300 ]; do sleep 0.1; i=\$((i+1)); done; stty size'
out=$(timeout 60 script -qec "stty rows 20 cols 50; sh -c '$STACK exec box sh -c \"$inner\" </dev/tty & sleep 1; stty rows 44 cols 88; wait'" /dev/null </dev/null) ||
  fail "resize: $? '$out'"
[[ $out == *"44 88"* ]] || fail "resize: '$out'"
out=$(timeout 60 script -qec "$STACK exec -T box tty" /dev/null </dev/null) && rc=0 || rc=$?
[[ $out == *"not a tty"* && $rc == 1 ]] || fail "-T still gave a pty: rc $rc '$out'"

# Ctrl-C (SIGINT to stack exec) reaches the command; not under timeout(1),
# which would take the signal (a watchdog instead)
"$STACK" exec -T box sh -c 'echo started; exec sleep 100' >"$tmp/out" </dev/null &
pid=$!
(sleep 60 && kill -9 "$pid") >/dev/null 2>&1 &
watchdog=$!
wait_for grep -q started "$tmp/out" || fail "exec did not start"
kill -INT "$pid"
rc=0
wait "$pid" || rc=$?
kill "$watchdog" 2>/dev/null || true
((rc == 130)) || fail "Ctrl-C: exit code $rc"

# the client dies (kill -9) while the command reads stdin: the supervisor
# ends its input, so it does not wait forever
mkfifo "$tmp/fifo"
sleep 100 >"$tmp/fifo" &
holder=$!
"$STACK" exec -T box sh -c 'echo started; cat >/dev/null; echo done >/tmp/marker' <"$tmp/fifo" >"$tmp/out2" &
pid=$!
wait_for grep -q started "$tmp/out2" || fail "exec (fifo) did not start"
kill -9 "$pid"
wait "$pid" 2>/dev/null || true
wait_for eval '[[ $(x -T box cat /tmp/marker </dev/null 2>/dev/null) == done ]]' || fail "input not ended when the client died"
kill "$holder" 2>/dev/null || true

# a command that ignores SIGTERM: one SIGTERM (what timeout(1) sends) must
# still end stack exec, 10 s after it forwarded it, saying it gave up
"$STACK" exec -T box sh -c 'trap "" TERM; echo started; sleep 100' >"$tmp/out3" </dev/null 2>"$tmp/err" &
pid=$!
(sleep 60 && kill -9 "$pid") >/dev/null 2>&1 &
watchdog=$!
wait_for grep -q started "$tmp/out3" || fail "exec (TERM once) did not start"
start=$SECONDS
kill -TERM "$pid"
rc=0
wait "$pid" || rc=$?
kill "$watchdog" 2>/dev/null || true
((rc == 128 + 15)) || fail "TERM once: exit code $rc: $(cat "$tmp/err")"
((SECONDS - start >= 9 && SECONDS - start < 30)) || fail "gave up after $((SECONDS - start)) s"
grep -q "the command did not end within 10 s of SIGTERM: giving up" "$tmp/err" || fail "said: $(cat "$tmp/err")"
# a second SIGTERM gives up at once
"$STACK" exec -T box sh -c 'trap "" TERM; echo started; sleep 100' >"$tmp/out4" </dev/null 2>"$tmp/err" &
pid=$!
(sleep 60 && kill -9 "$pid") >/dev/null 2>&1 &
watchdog=$!
wait_for grep -q started "$tmp/out4" || fail "exec (TERM twice) did not start"
kill -TERM "$pid"
sleep 0.5
start=$SECONDS
kill -TERM "$pid"
rc=0
wait "$pid" || rc=$?
kill "$watchdog" 2>/dev/null || true
((rc == 128 + 15)) || fail "TERM twice: exit code $rc: $(cat "$tmp/err")"
((SECONDS - start < 5)) || fail "TERM twice took $((SECONDS - start)) s"
grep -q "SIGTERM again: giving up" "$tmp/err" || fail "said: $(cat "$tmp/err")"
echo ok
