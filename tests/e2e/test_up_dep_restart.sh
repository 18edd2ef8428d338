#!/usr/bin/env bash
# depends_on.<svc>.restart: true with real VMs: `stack restart db` restarts
# app (which declares restart: true on db) too, and leaves `other` (a plain
# dependent) alone; `restart --no-deps db` restarts db only; `up` that
# recreates db restarts app too.
set -euo pipefail
. "$STACK_SOURCE_DIR/tests/lib/up.sh"
up_test_init up-dep-restart

cat >compose.yaml <<'YAML'
name: updeprestart
services:
  db:
    image: busybox:amd64
    command: sh -c 'echo db-start; sleep 300'
  app:
    image: busybox:amd64
    command: sh -c 'echo app-start; sleep 300'
    depends_on:
      db:
        condition: service_started
        restart: true
  other:
    image: busybox:amd64
    command: sh -c 'echo other-start; sleep 300'
    depends_on: [db]
YAML
starts() { "$STACK" logs --no-color "$1" | grep -c "| $1-start$" || true; }
timeout 300 "$STACK" up -d 2>"$tmp/err" || fail "up: $(cat "$tmp/err")"
wait_for eval '[[ $(starts app) == 1 && $(starts db) == 1 && $(starts other) == 1 ]]' ||
  fail "after up: db $(starts db), app $(starts app), other $(starts other)"
timeout 300 "$STACK" restart -t 1 db 2>"$tmp/err" || fail "restart: $(cat "$tmp/err")"
grep -q "Container updeprestart-app-1  Started" "$tmp/err" || fail "restart output: $(cat "$tmp/err")"
wait_for eval '[[ $(starts app) == 2 && $(starts db) == 2 ]]' ||
  fail "after restart db: db $(starts db), app $(starts app)"
[[ $(starts other) == 1 ]] || fail "other was restarted: $(starts other)"
[[ $("$STACK" ps --format json app) == *'"State":"running"'* ]] || fail "app: $("$STACK" ps -a app)"
timeout 300 "$STACK" restart -t 1 --no-deps db 2>"$tmp/err" || fail "restart --no-deps: $(cat "$tmp/err")"
wait_for eval '[[ $(starts db) == 3 ]]' || fail "db after --no-deps: $(starts db)"
[[ $(starts app) == 2 ]] || fail "--no-deps restarted app: $(starts app)"

# up recreating db (a changed command) restarts app with it, not other; app
# keeps its container
app_id=$("$STACK" ps -q app)
sed -i "s/echo db-start; sleep 300/echo db-start; echo v2; sleep 300/" compose.yaml
timeout 300 "$STACK" up -d 2>"$tmp/err" || fail "up after the change: $(cat "$tmp/err")"
wait_for eval '[[ $(starts app) == 3 ]]' || fail "up recreating db: app $(starts app)"
[[ $(starts other) == 1 ]] || fail "up recreating db restarted other: $(starts other)"
[[ $("$STACK" ps -q app) == "$app_id" ]] || fail "app was recreated, not restarted"
[[ $("$STACK" ps --format json app) == *'"State":"running"'* ]] || fail "app: $("$STACK" ps -a app)"
echo ok
