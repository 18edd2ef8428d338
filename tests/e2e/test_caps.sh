#!/usr/bin/env bash
# Capabilities inside the VM are Docker's: the default set for `stack run`
# and services, changed by --cap-add/--cap-drop and cap_add/cap_drop,
# everything with --privileged / privileged; `run SERVICE --cap-add/--cap-drop`
# change the service's set; security_opt/--security-opt no-new-privileges
# sets NoNewPrivs; exec sessions get the
# container's set; a non-root user none.
set -euo pipefail
source "$STACK_SOURCE_DIR/tests/lib/up.sh"
up_test_init caps

eff() { "$@" sh -c 'grep CapEff /proc/self/status' | awk '{print $2}'; }
run() { timeout 120 "$STACK" run --rm "$@"; }
[[ $(eff run busybox:amd64) == 00000000a80425fb ]] || fail "default set: $(eff run busybox:amd64)"
[[ $(eff run --cap-drop NET_RAW --cap-add NET_ADMIN busybox:amd64) == 00000000a80415fb ]] ||
  fail "--cap-drop/--cap-add: $(eff run --cap-drop NET_RAW --cap-add NET_ADMIN busybox:amd64)"
p=$(eff run --privileged busybox:amd64)
[[ $p == 000001ffffffffff || $p == 000000ffffffffff ]] || fail "--privileged: $p"
[[ $(eff run -u 1000 busybox:amd64) == 0000000000000000 ]] || fail "a non-root user has capabilities"
# no-new-privileges: off by default, on with the security option, which
# others (AppArmor here) are warned about, not silently dropped
nnp() { "$@" grep NoNewPrivs /proc/self/status | awk '{print $2}'; }
[[ $(nnp run busybox:amd64) == 0 ]] || fail "NoNewPrivs set by default"
[[ $(nnp run --security-opt no-new-privileges busybox:amd64) == 1 ]] ||
  fail "--security-opt no-new-privileges"
out=$(run --security-opt apparmor=x busybox:amd64 true 2>&1) || fail "--security-opt apparmor=x: $out"
[[ $out == *"WARN: --security-opt apparmor=x not supported"* ]] || fail "no warning for apparmor: $out"
rc=0
out=$(run --cap-add FLY busybox:amd64 true 2>&1) || rc=$?
[[ $rc == 125 && $out == *FLY* ]] || fail "an unknown capability: rc=$rc $out"

cat > compose.yaml <<'YAML'
name: caps
services:
  a:
    image: busybox:amd64
    command: sleep 3600
    network_mode: none
    cap_add: [NET_ADMIN]
    cap_drop: [MKNOD]
    security_opt: ["no-new-privileges:true", "seccomp=unconfined"]
YAML
out=$(timeout 120 "$STACK" up -d 2>&1) || fail "up failed: $out"
[[ $out != *"not supported"* ]] || fail "up warns: $out"
# exec sessions get the container's set: NET_ADMIN added, MKNOD (bit 27) gone
got=$(eff timeout 60 "$STACK" exec -T a)
[[ $got == 00000000a00435fb ]] || fail "service cap_add/cap_drop: $got"
[[ $(nnp timeout 60 "$STACK" exec -T a) == 1 ]] || fail "security_opt no-new-privileges:true"
# run SERVICE: --cap-add/--cap-drop on top of the service's (SYS_TIME is
# bit 25, NET_RAW bit 13)
got=$(eff timeout 120 "$STACK" run --rm --cap-add SYS_TIME --cap-drop NET_RAW a)
[[ $got == 00000000a20415fb ]] || fail "run SERVICE --cap-add/--cap-drop: $got"
rc=0
out=$(timeout 120 "$STACK" run --rm --cap-add FLY a true 2>&1) || rc=$?
[[ $rc != 0 && $out == *FLY* ]] || fail "run SERVICE --cap-add FLY: rc=$rc $out"
echo "ok"
