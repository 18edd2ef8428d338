#!/usr/bin/env bash
# A container's writable layer lives as long as the container, as with
# Docker: files written in it survive `restart` and `stop`/`start`; a
# recreate (changed config) starts from the image again; `down` removes the
# layers.
set -euo pipefail
source "$STACK_SOURCE_DIR/tests/lib/up.sh"
up_test_init layer

cat > compose.yaml <<'YAML'
name: lay
services:
  a:
    image: busybox:amd64
    command: sleep 3600
    network_mode: none
    environment: {V: "1"}
YAML
out=$(timeout 120 "$STACK" up -d 2>&1) || fail "up failed: $out"
ex() { timeout 60 "$STACK" exec -T "$@"; }
ex a sh -c 'echo kept >/root/f; sync'

timeout 120 "$STACK" restart a >/dev/null 2>&1 || fail "restart failed"
[[ $(ex a cat /root/f 2>&1) == kept ]] || fail "restart lost the container's file"
timeout 120 "$STACK" stop a >/dev/null 2>&1 || fail "stop failed"
timeout 120 "$STACK" start a >/dev/null 2>&1 || fail "start failed"
[[ $(ex a cat /root/f 2>&1) == kept ]] || fail "stop/start lost the container's file"
out=$(timeout 120 "$STACK" up -d 2>&1) || fail "up (no change) failed: $out"
[[ $(ex a cat /root/f 2>&1) == kept ]] || fail "up with no change lost the container's file"

# a recreate starts from the image
sed -i 's/V: "1"/V: "2"/' compose.yaml
out=$(timeout 120 "$STACK" up -d 2>&1) || fail "up (recreate) failed: $out"
if ex a cat /root/f >/dev/null 2>&1; then fail "a recreated container kept the old layer"; fi

layers=$STACK_ROOT/projects/lay/layers
[[ -n $(ls -A "$layers" 2>/dev/null) ]] || fail "no layer under $layers"
timeout 120 "$STACK" down -t 0 >/dev/null 2>&1 || fail "down failed"
[[ -z $(ls -A "$layers" 2>/dev/null) ]] || fail "layers left after down: $(ls "$layers")"
echo "ok"
