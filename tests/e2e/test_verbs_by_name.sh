#!/usr/bin/env bash
# The verbs that act on an existing project work with -p NAME alone from
# any directory, as Compose's do (no Compose file is read): start, stop,
# restart, logs, exec, ps, down.  down leaves no project directory behind.
set -euo pipefail
. "$STACK_SOURCE_DIR/tests/lib/up.sh"
up_test_init verbs-by-name

cat >compose.yaml <<'YAML'
name: verbsbyname
services:
  app:
    image: busybox:amd64
    command: sh -c 'echo app-says-hello; sleep 300'
YAML
timeout 300 "$STACK" up -d 2>"$tmp/err" || fail "up -d: $(cat "$tmp/err")"
mkdir "$tmp/elsewhere"
cd "$tmp/elsewhere"
P=(-p verbsbyname)

wait_for eval '[[ $("$STACK" "${P[@]}" logs --no-color app) == *app-says-hello* ]]' ||
  fail "logs -p: $("$STACK" "${P[@]}" logs app 2>&1)"
[[ $("$STACK" "${P[@]}" exec app echo exec-ok) == exec-ok ]] || fail "exec -p"
timeout 120 "$STACK" "${P[@]}" stop -t 0 2>"$tmp/err" || fail "stop -p: $(cat "$tmp/err")"
grep -q "^verbsbyname-app-1 .*Exited" <<<"$("$STACK" "${P[@]}" ps -a)" || fail "not stopped: $("$STACK" "${P[@]}" ps -a)"
timeout 300 "$STACK" "${P[@]}" start 2>"$tmp/err" || fail "start -p: $(cat "$tmp/err")"
grep -q "Container verbsbyname-app-1  Started" "$tmp/err" || fail "start -p said: $(cat "$tmp/err")"
grep -q "^verbsbyname-app-1 .*Up" <<<"$("$STACK" "${P[@]}" ps -a)" || fail "not started: $("$STACK" "${P[@]}" ps -a)"
timeout 300 "$STACK" "${P[@]}" restart -t 0 app 2>"$tmp/err" || fail "restart -p: $(cat "$tmp/err")"
grep -q "Container verbsbyname-app-1  Started" "$tmp/err" || fail "restart -p said: $(cat "$tmp/err")"
timeout 300 "$STACK" "${P[@]}" restart -t 0 2>"$tmp/err" || fail "restart -p (all): $(cat "$tmp/err")"
grep -q "^verbsbyname-app-1 .*Up" <<<"$("$STACK" "${P[@]}" ps -a)" || fail "not restarted: $("$STACK" "${P[@]}" ps -a)"

# the supervisor gone (its state stays): -p alone still starts it
timeout 120 "$STACK" "${P[@]}" stop -t 0 >/dev/null 2>&1 || fail "stop -p"
for lock in "$STACK_RUN_DIR"/projects/verbsbyname/supervisor.lock; do
  p=$(cat "$lock" 2>/dev/null) || continue
  [[ -n $p ]] && grep -qa supervisor "/proc/$p/cmdline" && kill -9 "$p"
done
timeout 300 "$STACK" "${P[@]}" start 2>"$tmp/err" || fail "start -p, new supervisor: $(cat "$tmp/err")"
grep -q "^verbsbyname-app-1 .*Up" <<<"$("$STACK" "${P[@]}" ps -a)" || fail "not started: $("$STACK" "${P[@]}" ps -a)"

timeout 120 "$STACK" "${P[@]}" down -t 0 2>"$tmp/err" || fail "down -p: $(cat "$tmp/err")"
grep -q "Container verbsbyname-app-1  Removed" "$tmp/err" || fail "down -p said: $(cat "$tmp/err")"
# nothing of the project stays: no lock file, log, state or empty directory
left=$(find "$STACK_RUN_DIR" "$STACK_ROOT" -path '*verbsbyname*' 2>/dev/null)
[[ -z $left ]] || fail "down left: $left"
[[ -z $(ls -A "$STACK_ROOT/containers" 2>/dev/null) ]] || fail "down left containers: $(ls -A "$STACK_ROOT/containers")"
echo ok
