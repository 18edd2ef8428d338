#!/usr/bin/env bash
# A dependency that fails stops `up` with Compose's message naming it; the
# dependent is created but never started.
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
[[ $("$STACK" logs --no-color app) == *'WARNING: optional dependency "db" didn'"'"'t complete successfully: exit 1'* ]] ||
  fail "no warning: $("$STACK" logs app)"
echo ok
