#!/usr/bin/env bash
# What a service's VM mounts and sets beyond its root: `tmpfs` (short and
# long syntax, with size and mode), `shm_size`, `sysctls` written into the
# guest kernel, `read_only` (the root refuses writes, its tmpfs and /etc
# files still work); none of them named as ignored by `up` any more.
set -euo pipefail
source "$STACK_SOURCE_DIR/tests/lib/up.sh"
up_test_init mounts

cat > compose.yaml <<'YAML'
name: mnt
services:
  a:
    image: busybox:amd64
    command: sleep 3600
    network_mode: none
    tmpfs:
      - /scratch
      - /sized:size=8m,mode=750,noexec
      - /runnable:exec
    volumes:
      - type: tmpfs
        target: /cache
        tmpfs: {size: 4194304}
    shm_size: 16m
    sysctls:
      net.core.somaxconn: 1234
      vm.swappiness: 7
  ro:
    image: busybox:amd64
    command: sleep 3600
    network_mode: none
    read_only: true
    tmpfs: [/tmp]
YAML
out=$(timeout 120 "$STACK" up -d 2>&1) || fail "up failed: $out"
[[ $out != *"not supported"* ]] || fail "up still warns: $out"

ex() { timeout 60 "$STACK" exec -T "$@"; }
mounts=$(ex a cat /proc/mounts)
grep -q '^tmpfs /scratch tmpfs ' <<<"$mounts" || fail "no tmpfs on /scratch: $mounts"
grep -Eq '^tmpfs /sized tmpfs [^ ]*size=8192k' <<<"$mounts" || fail "/sized is not 8m: $mounts"
[[ $(ex a stat -c %a /sized) == 750 ]] || fail "/sized mode is not 750"
grep -Eq '^tmpfs /cache tmpfs [^ ]*size=4096k' <<<"$mounts" || fail "/cache is not 4 MiB: $mounts"
grep -Eq '^shm /dev/shm tmpfs [^ ]*size=16384k' <<<"$mounts" || fail "/dev/shm is not 16m: $mounts"
[[ $(ex a cat /proc/sys/net/core/somaxconn) == 1234 ]] || fail "somaxconn not set"
[[ $(ex a cat /proc/sys/vm/swappiness) == 7 ]] || fail "swappiness not set"
ex a sh -c 'echo x >/scratch/f && cat /scratch/f' | grep -qx x || fail "cannot write /scratch"
# Docker's tmpfs flags: noexec,nosuid,nodev unless the options say exec, ...
grep -Eq '^tmpfs /scratch tmpfs [^ ]*nosuid,nodev,noexec' <<<"$mounts" || fail "/scratch flags: $mounts"
grep -Eq '^tmpfs /runnable tmpfs rw,nosuid,nodev[, ]' <<<"$mounts" || fail "/runnable flags: $mounts"
ex a sh -c 'cp /bin/busybox /scratch/true; /scratch/true' 2>/dev/null && fail "a noexec tmpfs ran a program"
ex a sh -c 'cp /bin/busybox /runnable/true; /runnable/true' || fail "an exec tmpfs refused a program"

# read_only: the root refuses writes; its tmpfs and the /etc files work
if ex ro sh -c 'echo x >/rootfile' 2>/dev/null; then fail "a read_only root accepted a write"; fi
ex ro sh -c 'echo x >/tmp/f && cat /tmp/f' | grep -qx x || fail "read_only: /tmp (tmpfs) not writable"
ex ro hostname | grep -q . || fail "read_only: no hostname"

# a bad sysctl fails the container with the reason
cat > compose.yaml <<'YAML'
name: mnt
services:
  a:
    image: busybox:amd64
    command: sleep 3600
    network_mode: none
    sysctls: {no.such.setting: 1}
YAML
rc=0
out=$(timeout 120 "$STACK" up -d --remove-orphans 2>&1) || rc=$?
[[ $rc != 0 ]] || fail "up with an unknown sysctl succeeded: $out"
[[ $out == *"no.such.setting"* ]] || fail "the unknown sysctl is not named: $out"
echo "ok"
