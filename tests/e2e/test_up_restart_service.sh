#!/usr/bin/env bash
# `restart SERVICE` as Compose's: that service (and those whose depends_on
# on it says restart: true), never its dependencies -- a completed one-shot
# job is not run again -- and nothing printed for the others.  start,
# restart and stop leave one-off (`run`) containers alone.
set -euo pipefail
. "$STACK_SOURCE_DIR/tests/lib/up.sh"
up_test_init up-restart-service

cat >compose.yaml <<'YAML'
name: uprestartsvc
services:
  init:
    image: busybox:amd64
    command: echo migrated
  app:
    image: busybox:amd64
    command: sleep 300
    depends_on:
      init:
        condition: service_completed_successfully
  web:
    image: busybox:amd64
    command: sleep 300
    depends_on:
      app:
        condition: service_started
        restart: true
  other:
    image: busybox:amd64
    command: sleep 300
YAML
timeout 300 "$STACK" up -d --wait 2>"$tmp/err" || fail "up: $(cat "$tmp/err")"
[[ $("$STACK" logs --no-color init | grep -c migrated) == 1 ]] || fail "init: $("$STACK" logs init)"

timeout 300 "$STACK" restart -t 0 app 2>"$tmp/err" || fail "restart app: $(cat "$tmp/err")"
grep -q "Container uprestartsvc-app-1  Started" "$tmp/err" || fail "app not restarted: $(cat "$tmp/err")"
grep -q "Container uprestartsvc-web-1  Started" "$tmp/err" || fail "web (restart: true) not restarted: $(cat "$tmp/err")"
! grep -q "init\|other" "$tmp/err" || fail "restart printed other services: $(cat "$tmp/err")"
[[ $("$STACK" logs --no-color init | grep -c migrated) == 1 ]] || fail "init ran again: $("$STACK" logs init)"
out=$("$STACK" ps -a)
grep -q "^uprestartsvc-app-1 .*Up" <<<"$out" || fail "app: $out"
grep -q "^uprestartsvc-init-1 .*Exited (0)" <<<"$out" || fail "init: $out"

# --no-deps: not the dependents
timeout 300 "$STACK" restart -t 0 --no-deps app 2>"$tmp/err" || fail "restart --no-deps: $(cat "$tmp/err")"
! grep -q "web" "$tmp/err" || fail "restart --no-deps restarted web: $(cat "$tmp/err")"

# a one-off container is left alone by stop, start and restart
run=$(timeout 300 "$STACK" run -d other sleep 300) || fail "run -d"
timeout 120 "$STACK" stop -t 0 2>"$tmp/err" || fail "stop: $(cat "$tmp/err")"
! grep -q "$run" "$tmp/err" || fail "stop named the one-off: $(cat "$tmp/err")"
grep -q "^$run .*Up" <<<"$("$STACK" ps -a)" || fail "stop stopped the one-off: $("$STACK" ps -a)"
timeout 300 "$STACK" start 2>"$tmp/err" || fail "start: $(cat "$tmp/err")"
timeout 300 "$STACK" restart -t 0 other 2>"$tmp/err" || fail "restart other: $(cat "$tmp/err")"
! grep -q "$run" "$tmp/err" || fail "restart named the one-off: $(cat "$tmp/err")"
grep -q "^$run .*Up" <<<"$("$STACK" ps -a)" || fail "the one-off did not stay up: $("$STACK" ps -a)"
echo ok
