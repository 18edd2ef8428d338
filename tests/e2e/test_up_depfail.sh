#!/usr/bin/env bash
# A dependency that fails stops `up` with Compose's message naming it; the
# dependent is created but never started.  An optional one only warns, on
# up's own output.  A dependency's exit is reported as its exit, before a
# missing health check (Compose looks at the state first).
set -euo pipefail
. "$STACK_SOURCE_DIR/tests/lib/up.sh"
up_test_init up-depfail

cat >compose.yaml <<'YAML'
name: updepfail
services:
  db:
    image: busybox:amd64
    command: sh -c 'exit 1'
  app:
    image: busybox:amd64
    command: echo should-not-run
    depends_on:
      db:
        condition: service_completed_successfully
YAML
rc=0
timeout 300 "$STACK" up -d 2>"$tmp/err" || rc=$?
((rc == 1)) || fail "up -d returned $rc: $(cat "$tmp/err")"
grep -q 'service "db" didn'"'"'t complete successfully: exit 1' "$tmp/err" || fail "message: $(cat "$tmp/err")"
out=$("$STACK" ps -a)
grep -q "^updepfail-app-1 .*Created" <<<"$out" || fail "app not left created: $out"
[[ $("$STACK" logs app) != *should-not-run* ]] || fail "app ran"

# an optional dependency only warns
cat >compose.yaml <<'YAML'
name: updepfail
services:
  db:
    image: busybox:amd64
    command: sh -c 'exit 1'
  app:
    image: busybox:amd64
    command: echo app-ran
    depends_on:
      db:
        condition: service_completed_successfully
        required: false
YAML
timeout 300 "$STACK" up -d 2>"$tmp/err" || fail "up with an optional dependency: $(cat "$tmp/err")"
wait_for eval '[[ $("$STACK" logs --no-color app) == *app-ran* ]]' || fail "app did not run: $("$STACK" logs app)"
# the warning is up's own output (Compose's logrus warning), not the app's log
grep -q 'optional dependency "db" didn'"'"'t complete successfully: exit 1' "$tmp/err" ||
  fail "no warning from up: $(cat "$tmp/err")"
[[ $("$STACK" logs --no-color app) != *'optional dependency'* ]] ||
  fail "the warning went into the app's log: $("$STACK" logs app)"
"$STACK" down -t 0 >/dev/null 2>&1

# service_healthy on a dependency without a health check that exits at
# once: Compose looks at its state first and reports the exit ...
cat >compose.yaml <<'YAML'
name: updepfail
services:
  db:
    image: busybox:amd64
    command: sh -c 'exit 1'
  app:
    image: busybox:amd64
    command: echo should-not-run
    depends_on:
      db:
        condition: service_healthy
YAML
rc=0
timeout 300 "$STACK" up -d 2>"$tmp/err" || rc=$?
((rc == 1)) || fail "up -d (healthy, exits) returned $rc: $(cat "$tmp/err")"
grep -q 'dependency failed to start: container updepfail-db-1 exited (1)' "$tmp/err" ||
  fail "the exit was not reported as the exit: $(cat "$tmp/err")"
! grep -q 'no healthcheck' "$tmp/err" || fail "reported as lacking a check: $(cat "$tmp/err")"
"$STACK" down -t 0 >/dev/null 2>&1

# ... and one that keeps running without a check has none configured
sed -i "s/sh -c 'exit 1'/sleep 60/" compose.yaml
rc=0
timeout 300 "$STACK" up -d 2>"$tmp/err" || rc=$?
((rc == 1)) || fail "up -d (healthy, no check) returned $rc: $(cat "$tmp/err")"
grep -q 'dependency failed to start: container updepfail-db-1 has no healthcheck configured' "$tmp/err" ||
  fail "message: $(cat "$tmp/err")"
"$STACK" down -t 0 >/dev/null 2>&1

# an optional one that fails so: the warning on up's output, the app runs
cat >compose.yaml <<'YAML'
name: updepfail
services:
  db:
    image: busybox:amd64
    command: sh -c 'exit 3'
  app:
    image: busybox:amd64
    command: echo app-ran
    depends_on:
      db:
        condition: service_healthy
        required: false
YAML
timeout 300 "$STACK" up -d 2>"$tmp/err" || fail "up with an optional healthy dependency: $(cat "$tmp/err")"
grep -q 'optional dependency "db" failed to start: container updepfail-db-1 exited (3)' "$tmp/err" ||
  fail "no warning from up: $(cat "$tmp/err")"
wait_for eval '[[ $("$STACK" logs --no-color app) == *app-ran* ]]' || fail "app did not run: $("$STACK" logs app)"
echo ok
