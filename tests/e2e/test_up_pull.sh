#!/usr/bin/env bash
# `stack up --pull` against a real registry (Debian's docker-registry on
# 127.0.0.1): by default only a missing image is pulled; --pull always asks
# the registry again for an image the store has, --pull never does not
# ask at all (and fails, naming the service, when the image is missing);
# `run SERVICE --pull` takes the same values.
set -euo pipefail
. "$STACK_SOURCE_DIR/tests/lib/up.sh"
up_test_init up-pull novm
. "$STACK_SOURCE_DIR/tests/lib/registry.sh"
trap 'for d in "${_registry_dirs[@]}"; do registry_stop "$d"; done; _up_cleanup' EXIT
registry_start plain "$tmp/registry"
registry_push_busybox
pulled() { grep -q "busybox:amd64 Pulling" "$tmp/err"; }

cat >compose.yaml <<YAML
name: uppull
services:
  app:
    image: $REGISTRY/busybox:amd64
YAML

# missing: pulled once
timeout 120 "$STACK" up --no-start 2>"$tmp/err" >/dev/null || fail "first up: $(cat "$tmp/err")"
pulled || fail "first up did not pull: $(cat "$tmp/err")"
# present: the default does not ask the registry
timeout 120 "$STACK" up --no-start 2>"$tmp/err" >/dev/null || fail "second up: $(cat "$tmp/err")"
! pulled || fail "up pulled an image the store has: $(cat "$tmp/err")"
timeout 120 "$STACK" up --no-start --pull missing 2>"$tmp/err" >/dev/null || fail "--pull missing: $(cat "$tmp/err")"
! pulled || fail "--pull missing pulled an image the store has"
# always: asked again
timeout 120 "$STACK" up --no-start --pull always 2>"$tmp/err" >/dev/null || fail "--pull always: $(cat "$tmp/err")"
pulled || fail "--pull always did not pull: $(cat "$tmp/err")"
# never: a missing image is an error naming the service, and no pull (the
# registry has this tag: a pull would succeed)
registry_push_busybox other
sed -i 's|busybox:amd64|other:amd64|' compose.yaml
! timeout 60 "$STACK" up --no-start --pull never >/dev/null 2>"$tmp/err" || fail "--pull never created"
grep -q "service app" "$tmp/err" || fail "--pull never: $(cat "$tmp/err")"
! grep -q "Pulling" "$tmp/err" || fail "--pull never pulled: $(cat "$tmp/err")"
timeout 120 "$STACK" up --no-start 2>"$tmp/err" >/dev/null || fail "up after never: $(cat "$tmp/err")"
! "$STACK" run --pull sometimes app true >/dev/null 2>"$tmp/err" || fail "run --pull sometimes accepted"
grep -q 'invalid --pull "sometimes"' "$tmp/err" || fail "run --pull sometimes: $(cat "$tmp/err")"
! "$STACK" up --pull build >/dev/null 2>"$tmp/err" || fail "--pull build accepted"
grep -q "does not build images" "$tmp/err" || fail "--pull build: $(cat "$tmp/err")"
echo ok
