#!/usr/bin/env bash
# What root in a guest can do to the host (docs/how-it-works.md, "What the
# VM boundary protects"): QEMU runs as its own non-root uid, without
# capabilities (a VM with shared directories keeps only what serving files
# needs), with no_new_privs and seccomp; a set-user-ID file made in the
# guest is not set-user-ID on the host, neither in a named volume (the
# guest sees it: its modes live in xattrs, the host file is QEMU's, 0600)
# nor in a bind mount (refused, EPERM), nor is a set-group-ID one or a
# device node; a bind mount keeps Docker's owners; and a bind mount of a
# host path that gives the host away (/, /etc, stack's own state, the
# Docker socket) is refused when the file is loaded, unless the service or
# the project sets x-stack-allow-host-paths.
set -euo pipefail
source "$STACK_SOURCE_DIR/tests/lib/up.sh"
up_test_init privs
[[ $(id -u) == 0 ]] || { echo "SKIP: QEMU keeps the caller's uid when stack does not run as root"; exit 77; }

mkdir host
cat >compose.yaml <<'YAML'
name: privs
services:
  plain:
    image: busybox:amd64
    command: sleep 3600
    network_mode: none
  shared:
    image: busybox:amd64
    command: sleep 3600
    network_mode: none
    volumes:
      - ./host:/host
      - data:/data
volumes:
  data: {}
YAML
out=$(timeout 120 "$STACK" up -d 2>&1) || fail "up failed: $out"
ex() { timeout 60 "$STACK" exec -T "$@"; }

# QEMU's own process: the one whose command line names the container and
# this test's directory
qemu_pid() {
  local p
  for p in /proc/[0-9]*; do
    if tr '\0' ' ' <"$p/cmdline" 2>/dev/null | grep -q "^qemu-system.* guest=privs-$1-1 .*$tmp/"; then
      echo "${p#/proc/}"
      return
    fi
  done
}
field() { awk -v k="$2:" '$1 == k { $1 = ""; sub(/^ /, ""); print }' "/proc/$1/status"; }
check_qemu() {
  local svc=$1 caps=$2 p id
  p=$(qemu_pid "$svc")
  [[ -n $p ]] || fail "$svc: no QEMU process found"
  for id in $(field "$p" Uid) $(field "$p" Gid); do
    ((id >= 65536)) || fail "$svc: QEMU runs with uid/gid $id: $(grep -E '^(Uid|Gid)' "/proc/$p/status")"
  done
  [[ $(field "$p" Uid) == "$(field "$p" Gid)" ]] || fail "$svc: uid and gid differ"
  local set
  for set in CapPrm CapEff CapBnd CapAmb; do
    [[ $(field "$p" $set) == "$caps" ]] || fail "$svc: $set $(field "$p" $set), want $caps"
  done
  [[ $(field "$p" NoNewPrivs) == 1 && $(field "$p" Seccomp) == 2 ]] ||
    fail "$svc: no_new_privs $(field "$p" NoNewPrivs), seccomp $(field "$p" Seccomp)"
  # its own namespaces: the host's files, network and IPC are not there
  local ns
  for ns in mnt net ipc; do
    [[ $(readlink "/proc/$p/ns/$ns") != $(readlink "/proc/self/ns/$ns") ]] || fail "$svc: QEMU shares the host's $ns namespace"
  done
  [[ ! -e /proc/$p/root/etc/passwd && ! -e /proc/$p/root$STACK_ROOT/volumes/privs_data/_data/../project ]] ||
    fail "$svc: QEMU sees files it does not need"
}
check_qemu plain 0000000000000000
# CAP_CHOWN, CAP_DAC_OVERRIDE, CAP_FOWNER: files of every owner, the guest's owners kept
check_qemu shared 000000000000000b

# a named volume: the guest has its set-user-ID file, the host a plain one
ex shared sh -c 'cp /bin/busybox /data/suid && chmod 4755 /data/suid' || fail "chmod 4755 in the volume"
[[ $(ex shared stat -c '%a %u' /data/suid) == "4755 0" ]] || fail "the guest's view: $(ex shared stat -c '%a %u' /data/suid)"
vol=$STACK_ROOT/volumes/privs_data/_data
[[ -f $vol/suid && ! -u $vol/suid && ! -g $vol/suid && $(stat -c %u "$vol/suid") != 0 ]] ||
  fail "the volume's file on the host: $(stat -c '%A %u:%g' "$vol/suid")"
ex shared mknod /data/null c 1 3 || fail "mknod in the volume"
[[ -f $vol/null && ! -c $vol/null ]] || fail "a device node on the host: $(stat -c %A "$vol/null")"

# a bind mount: the set-id bits and device nodes are refused, owners kept
ex shared sh -c 'cp /bin/busybox /host/suid' || fail "copy into the bind mount"
err=$(ex shared chmod 4755 /host/suid 2>&1) && fail "chmod 4755 in a bind mount was accepted"
[[ $err == *"Operation not permitted"* ]] || fail "chmod 4755: $err"
ex shared chmod 2755 /host/suid 2>/dev/null || true
[[ -f host/suid && ! -u host/suid && ! -g host/suid ]] || fail "a set-id file on the host: $(stat -c %A host/suid)"
err=$(ex shared sh -c 'cp /bin/busybox /host/suid2 && chmod u+s /host/suid2' 2>&1) && fail "chmod u+s was accepted"
[[ ! -u host/suid2 ]] || fail "chmod u+s made a set-user-ID file on the host"
ex shared mknod /host/null c 1 3 2>/dev/null && fail "mknod of a device in a bind mount was accepted"
[[ ! -e host/null ]] || fail "a device node on the host: $(stat -c %A host/null)"
ex shared sh -c 'touch /host/own && chown 1000:1000 /host/own && chmod 640 /host/own' || fail "chown in the bind mount"
[[ $(stat -c '%u:%g %a' host/own) == "1000:1000 640" && $(stat -c %u host/suid) == 0 ]] ||
  fail "the guest's owners on the host: $(stat -c '%u:%g %a' host/own host/suid)"

# host paths that give the host away: refused at load, unless allowed
mkdir -p "$tmp/refused" && cd "$tmp/refused"
refused() {
  local src=$1 why=$2 rc=0
  printf 'name: privs2\nservices:\n  s:\n    image: busybox:amd64\n    volumes:\n      - %s:/mnt/x:ro\n' "$src" >compose.yaml
  out=$(timeout 60 "$STACK" config 2>&1) || rc=$?
  [[ $rc != 0 && $out == *"compose.yaml:6:9: service \"s\": a bind mount of $src shares $why with the VM"*'"x-stack-allow-host-paths: true"'* ]] ||
    fail "a bind mount of $src: rc=$rc $out"
}
refused / "the host's root file system"
refused /etc "the host's configuration (/etc)"
refused /proc/sys "the host kernel's interface /proc"
refused "$STACK_ROOT/volumes" "stack's own state ($STACK_ROOT)"
refused "$tmp" "stack's own state ($STACK_ROOT)"
refused /run/docker.sock "the Docker daemon's socket"
rc=0
out=$(timeout 60 "$STACK" up -d 2>&1) || rc=$?
[[ $rc != 0 && $out == *"a bind mount of /run/docker.sock"* ]] || fail "up with the Docker socket: rc=$rc $out"
# a file of /etc is fine; the opt-in, on the service or the project, too
printf 'name: privs2\nservices:\n  s:\n    image: busybox:amd64\n    volumes: [/etc/hostname:/etc/h:ro]\n' >compose.yaml
timeout 60 "$STACK" config >/dev/null 2>&1 || fail "a bind mount of /etc/hostname was refused"
printf 'name: privs2\nservices:\n  s:\n    image: busybox:amd64\n    x-stack-allow-host-paths: true\n    volumes: [/:/host:ro]\n' >compose.yaml
timeout 60 "$STACK" config >/dev/null 2>&1 || fail "x-stack-allow-host-paths on the service: $(timeout 60 "$STACK" config 2>&1)"
printf 'name: privs2\nx-stack-allow-host-paths: true\nservices:\n  s:\n    image: busybox:amd64\n    volumes: [/etc:/host:ro]\n' >compose.yaml
timeout 60 "$STACK" config >/dev/null 2>&1 || fail "x-stack-allow-host-paths on the project"
# `run SERVICE -v` follows the same rule
cd "$app"
rc=0
out=$(timeout 60 "$STACK" run --rm --no-deps -v /etc:/mnt/etc plain true 2>&1) || rc=$?
[[ $rc != 0 && $out == *"-v/--volume: a bind mount of /etc shares the host's configuration (/etc)"* ]] ||
  fail "run -v /etc: rc=$rc $out"

timeout 120 "$STACK" down -v -t 0 >/dev/null 2>&1 || fail "down failed"
echo "ok"
