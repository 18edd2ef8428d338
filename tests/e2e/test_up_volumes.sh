#!/usr/bin/env bash
# Volumes and bind mounts, shared into the VMs over virtio-9p: a bind mount
# sees the host's files and the host sees the guest's; a named volume is
# shared live between two services (read-only in one), survives `down` and
# `up`, and goes with `down -v` (with the anonymous ones); the bind-mounted
# host directory stays.
set -euo pipefail
source "$STACK_SOURCE_DIR/tests/lib/up.sh"
up_test_init volumes

cat > compose.yaml <<'YAML'
name: vol
services:
  a:
    image: busybox:amd64
    command: sleep 3600
    network_mode: none
    volumes:
      - ./host:/host
      - data:/data
      - /anon
  b:
    image: busybox:amd64
    command: sleep 3600
    network_mode: none
    volumes:
      - data:/shared:ro
volumes:
  data: {}
YAML
out=$(timeout 120 "$STACK" up -d 2>&1) || fail "up failed: $out"
[[ $out != *"not supported"* ]] || fail "up warns about volumes: $out"
[[ -d host ]] || fail "the bind mount's host directory was not created"
ex() { timeout 60 "$STACK" exec -T "$@"; }

# bind mount, both ways
echo from-host >host/in.txt
[[ $(ex a cat /host/in.txt) == from-host ]] || fail "the guest does not see the host's file"
ex a sh -c 'echo from-guest >/host/out.txt; mkdir -p /host/sub; echo deep >/host/sub/f'
[[ $(cat host/out.txt 2>/dev/null) == from-guest ]] || fail "the host does not see the guest's file"
[[ $(cat host/sub/f 2>/dev/null) == deep ]] || fail "the host does not see the guest's directory"

# a named volume, shared live; read-only where asked
ex a sh -c 'echo v1 >/data/f; echo keep >/anon/f'
[[ $(ex b cat /shared/f) == v1 ]] || fail "b does not see a's write to the shared volume"
if ex b sh -c 'echo x >/shared/g' 2>/dev/null; then fail "a read-only volume accepted a write"; fi
vols=$STACK_ROOT/volumes
[[ -f $vols/vol_data/_data/f ]] || fail "the named volume is not at $vols/vol_data/_data"

# kept across down / up
timeout 120 "$STACK" down -t 0 >/dev/null 2>&1 || fail "down failed"
[[ -f $vols/vol_data/_data/f ]] || fail "down without -v removed the volume"
out=$(timeout 120 "$STACK" up -d 2>&1) || fail "second up failed: $out"
[[ $(ex a cat /data/f) == v1 ]] || fail "the named volume lost its data across down/up"
[[ $(ex a cat /anon/f) == keep ]] || fail "the anonymous volume lost its data across down/up"

# down -v removes the project's volumes, not the bind-mounted directory
out=$(timeout 120 "$STACK" down -v -t 0 2>&1) || fail "down -v failed: $out"
[[ $out == *"Volume vol_data  Removed"* ]] || fail "down -v does not name the volume: $out"
[[ -z $(ls -A "$vols" 2>/dev/null) ]] || fail "volumes left after down -v: $(ls "$vols")"
[[ $(cat host/in.txt) == from-host ]] || fail "down -v touched the bind-mounted directory"
echo "ok"
