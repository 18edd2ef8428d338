#!/usr/bin/env bash
# `up --wait` and a one-shot service that others need
# `service_completed_successfully`: Compose waits for it to complete; an
# exit 0 is done, not a failure; another exit code fails --wait with
# Compose's message.
set -euo pipefail
. "$STACK_SOURCE_DIR/tests/lib/up.sh"
up_test_init up-wait-oneshot

cat >compose.yaml <<'YAML'
name: upwaitoneshot
services:
  init:
    image: busybox:amd64
    command: sh -c 'sleep 1; echo migrated'
  app:
    image: busybox:amd64
    command: sleep 300
    depends_on:
      init:
        condition: service_completed_successfully
YAML
timeout 300 "$STACK" up -d --wait 2>"$tmp/err" || fail "up --wait: $(cat "$tmp/err")"
out=$("$STACK" ps -a)
grep -q "^upwaitoneshot-init-1 .*Exited (0)" <<<"$out" || fail "init not completed: $out"
grep -q "^upwaitoneshot-app-1 .*Up" <<<"$out" || fail "app not running: $out"
"$STACK" down -t 0 >/dev/null 2>&1

sed -i "s/echo migrated/exit 4/" compose.yaml
rc=0
timeout 300 "$STACK" up -d --wait 2>"$tmp/err" || rc=$?
((rc != 0)) || fail "up --wait succeeded with a failed one-shot: $(cat "$tmp/err")"
grep -q 'service "init" didn'"'"'t complete successfully: exit 4' "$tmp/err" ||
  fail "message: $(cat "$tmp/err")"
echo ok
