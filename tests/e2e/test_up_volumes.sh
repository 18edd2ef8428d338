#!/usr/bin/env bash
# Volumes and bind mounts, shared into the VMs over virtio-9p: a bind mount
# sees the host's files and the host sees the guest's; a named volume is
# shared live between two services (read-only in one), survives `down` and
# `up`, and goes with `down -v` (with the anonymous ones); the bind-mounted
# host directory stays.  A single file bind-mounted is that file, both
# ways (read-only where asked), without the VM seeing the files beside it.
# More shares than a micro-VM has device slots fail with a clear error, and
# that first `up` leaves nothing behind.  `down -v` leaves no directory of
# the project under the state and run roots.
set -euo pipefail
source "$STACK_SOURCE_DIR/tests/lib/up.sh"
up_test_init volumes

echo conf-v1 >conf.txt
echo rw-v1 >rw.txt
echo do-not-share >secret.txt
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
      - ./conf.txt:/etc/app/conf.txt:ro
      - ./rw.txt:/srv/rw.txt
      - ./conf.txt:/etc/app2/conf.txt
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

# single files: the same file both ways, read-only where asked, and the
# staging of their directories gone
[[ $(ex b cat /etc/app/conf.txt) == conf-v1 ]] || fail "file bind: $(ex b cat /etc/app/conf.txt 2>&1)"
echo conf-v2 >conf.txt
[[ $(ex b cat /etc/app/conf.txt) == conf-v2 ]] || fail "file bind: the host's edit is not seen"
if ex b sh -c 'echo x >/etc/app/conf.txt' 2>/dev/null; then fail "a read-only file bind accepted a write"; fi
ex b sh -c 'echo rw-guest >/srv/rw.txt'
[[ $(cat rw.txt) == rw-guest ]] || fail "file bind: the host does not see the guest's write"
[[ $(ex b cat /etc/app2/conf.txt) == conf-v2 ]] || fail "file bind: the same file twice"
[[ $(ex b sh -c 'ls -a / | grep -c stack-binds; grep -c stack-binds /proc/mounts') == $'0\n0' ]] ||
  fail "file bind: staging left in the container: $(ex b cat /proc/mounts)"
[[ $(ex b sh -c 'ls /etc/app /etc/app2 /srv') != *secret* ]] || fail "file bind: the file's neighbours are shared"

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
# and nothing of the project under the state and run roots: no state,
# logs, layers, lock files or empty directories
for d in "$STACK_ROOT/projects/vol" "$STACK_RUN_DIR/projects/vol"; do
  [[ ! -e $d ]] || fail "down -v left $d: $(find "$d")"
done
[[ $(cat host/in.txt) == from-host ]] || fail "down -v touched the bind-mounted directory"
[[ $(cat conf.txt rw.txt) == $'conf-v2\nrw-guest' ]] || fail "down touched the bind-mounted files"

# more shared directories than a micro-VM has device slots: a clear error
cat > compose.yaml <<'YAML'
name: vol
services:
  many:
    image: busybox:amd64
    command: sleep 3600
    volumes: [./d1:/d1, ./d2:/d2, ./d3:/d3, ./d4:/d4]
YAML
rc=0
out=$(timeout 120 "$STACK" up -d 2>&1) || rc=$?
[[ $rc != 0 && $out == *"1 networks and 4 shared directories (volumes, bind mounts) are too many for one micro-VM: at most 4 together"* ]] ||
  fail "too many shares: rc=$rc $out"
for d in "$STACK_ROOT/projects/vol" "$STACK_RUN_DIR/projects/vol"; do
  [[ ! -e $d ]] || fail "the failed first up left $d: $(find "$d")"
done
timeout 120 "$STACK" down -t 0 >/dev/null 2>&1
echo "ok"
