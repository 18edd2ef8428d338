#!/usr/bin/env bash
# `stack system info`: kernel lookup order (cache, config file, --kernel),
# the accelerator and its reason, overrides, JSON output, and clear errors.
set -euo pipefail
STACK=${STACK_BIN:?}
tmp=$(mktemp -d /tmp/stack-sysinfo-test.XXXXXX)
trap 'rm -rf "$tmp"' EXIT
export STACK_ROOT=$tmp/root STACK_RUN_DIR=$tmp/run STACK_CACHE_DIR=$tmp/cache \
  STACK_CONFIG=$tmp/config.json HOME=$tmp/home
unset STACK_ACCEL
fail() { echo "FAIL: $*" >&2; exit 1; }

# No kernel anywhere: exit 1 and say how to build one.
out=$(timeout 30 "$STACK" system info) && fail "no kernel should fail"
grep -q "^Kernel: *missing: .*guest/kernel/build.sh" <<<"$out" || fail "missing kernel: $out"
grep -q "^Store root: *$tmp/root$" <<<"$out" || fail "store root: $out"

# The cache's current kernel.
mkdir -p "$tmp/cache/kernel/k1" && echo k >"$tmp/cache/kernel/k1/vmlinux"
ln -s k1 "$tmp/cache/kernel/current"
out=$(timeout 30 "$STACK" system info) || fail "system info: $out"
grep -q "^Kernel: *$tmp/cache/kernel/k1/vmlinux (from cache)$" <<<"$out" || fail "cache: $out"
grep -Eq "^Accelerator: *(tcg|kvm) \(.+\)$" <<<"$out" || fail "accelerator: $out"
grep -q "^QEMU: *QEMU emulator version" <<<"$out" || fail "qemu: $out"

# `stack version` names what VMs run with; --short and --format json as
# `docker compose version`; an unknown flag is named.
vout=$(timeout 30 "$STACK" version) || fail "version: $vout"
grep -Eq "^stack version [0-9]+\.[0-9]+\.[0-9]+$" <<<"$vout" || fail "version line: $vout"
grep -q "^ QEMU: *QEMU emulator version" <<<"$vout" || fail "version qemu: $vout"
grep -q "^ Kernel: *$tmp/cache/kernel/k1/vmlinux$" <<<"$vout" || fail "version kernel: $vout"
grep -Eq "^ Accelerator: *(tcg|kvm) \(.+\)$" <<<"$vout" || fail "version accelerator: $vout"
short=$(timeout 30 "$STACK" version --short) || fail "version --short"
[[ $short =~ ^[0-9]+\.[0-9]+\.[0-9]+$ ]] || fail "version --short: $short"
json=$(timeout 30 "$STACK" version --format json) || fail "version --format json"
python3 - "$short" "$tmp/cache/kernel/k1/vmlinux" "$json" <<'PY' || fail "version json: $json"
import json, re, sys
v = json.loads(sys.argv[3])
assert v["version"] == sys.argv[1] and v["kernel"] == sys.argv[2], v
assert v["qemu"].startswith("QEMU emulator version"), v
assert re.fullmatch(r"tcg|kvm", v["accelerator"]), v
PY
err=$(timeout 30 "$STACK" version --bogus 2>&1) && fail "version --bogus should fail"
grep -q "unknown flag: --bogus" <<<"$err" || fail "version --bogus: $err"
# QEMU's jail and per-VM cgroups (runtime/vm/jail.h)
if [[ $(id -u) == 0 ]]; then
  grep -q "^VM jail: *QEMU runs as uid/gid 1879048192 + its pid, in its own mount, network and IPC namespaces, with no capabilities" <<<"$out" ||
    fail "vm jail: $out"
  out2=$(STACK_VM_UID_BASE=100000 STACK_CGROUP=off timeout 30 "$STACK" system info) || fail "STACK_VM_UID_BASE: $out2"
  grep -q "^VM jail: *QEMU runs as uid/gid 100000 + its pid" <<<"$out2" || fail "STACK_VM_UID_BASE: $out2"
  grep -q "^VM cgroups: *off (\$STACK_CGROUP)$" <<<"$out2" || fail "STACK_CGROUP=off: $out2"
  out2=$(STACK_VM_UID_BASE=12 timeout 30 "$STACK" system info) && fail "a uid base of 12 was taken"
  grep -q "vm_uid_base \"12\" (from \$STACK_VM_UID_BASE): want a number from 65536" <<<"$out2" || fail "bad uid base: $out2"
fi
grep -q "^VM cgroups: " <<<"$out" || fail "vm cgroups: $out"
# How VMs use memory: template RAM (shared needs QEMU 8.2), the TCG
# translation cache, KSM (never changed by stack itself)
grep -Eq "^Template RAM: *(shared|private) \(.+\)$" <<<"$out" || fail "template ram: $out"
grep -q "^KSM: " <<<"$out" || fail "ksm line: $out"
if grep -q "^Accelerator: *tcg" <<<"$out"; then
  grep -q "^TCG cache: *64 MiB per VM (default; a service's x-stack-tcg-cache overrides it)$" <<<"$out" ||
    fail "tcg cache: $out"
  out2=$(STACK_TCG_CACHE=32M timeout 30 "$STACK" system info) || fail "STACK_TCG_CACHE=32M: $out2"
  grep -q "^TCG cache: *32 MiB per VM (\$STACK_TCG_CACHE;" <<<"$out2" || fail "STACK_TCG_CACHE: $out2"
fi
out2=$(STACK_TCG_CACHE=1 timeout 30 "$STACK" system info) && fail "a TCG cache of 1 MiB was taken"
grep -q 'bad TCG cache size "1" in \$STACK_TCG_CACHE: give MiB (or "1G"), at least 4' <<<"$out2" ||
  fail "bad STACK_TCG_CACHE: $out2"
out2=$(STACK_TEMPLATE_RAM=private timeout 30 "$STACK" system info) || fail "STACK_TEMPLATE_RAM: $out2"
grep -q "^Template RAM: *private (requested by \$STACK_TEMPLATE_RAM)$" <<<"$out2" ||
  fail "STACK_TEMPLATE_RAM=private: $out2"
out2=$(STACK_TEMPLATE_RAM=maybe timeout 30 "$STACK" system info) && fail "STACK_TEMPLATE_RAM=maybe taken"
grep -q 'unknown template RAM mode "maybe" in \$STACK_TEMPLATE_RAM' <<<"$out2" || fail "bad template ram: $out2"
if [[ -e /sys/kernel/mm/ksm/run ]]; then
  out2=$(timeout 30 "$STACK" system ksm) || fail "system ksm: $out2"
  grep -Eq "^KSM: *(on|off)" <<<"$out2" && grep -q "^Merged: " <<<"$out2" || fail "system ksm: $out2"
fi
timeout 30 "$STACK" system ksm on --pages 0 2>/dev/null && fail "ksm on --pages 0 accepted"
[[ $? == 2 ]] || fail "ksm on --pages 0: exit $?"
timeout 30 "$STACK" system ksm sometimes 2>/dev/null && fail "ksm sometimes accepted"
if [[ -e /dev/kvm ]] && ! grep -Eqw 'vmx|svm' /proc/cpuinfo; then
  grep -q "^Accelerator: *tcg (/dev/kvm exists but the CPU has no vmx/svm flag" <<<"$out" ||
    fail "accelerator reason: $out"
fi

# The config file wins over the cache, --kernel over both.
echo k >"$tmp/mine" && echo k >"$tmp/other"
printf '{"kernel": "%s", "accel": "tcg"}\n' "$tmp/mine" >"$tmp/config.json"
out=$(timeout 30 "$STACK" system info)
grep -q "^Kernel: *$tmp/mine (from config file)$" <<<"$out" || fail "config kernel: $out"
grep -q "^Accelerator: *tcg (tcg requested by the config file's \"accel\" key)$" <<<"$out" ||
  fail "config accel: $out"
out=$(timeout 30 "$STACK" system info --kernel "$tmp/other")
grep -q "^Kernel: *$tmp/other (from --kernel)$" <<<"$out" || fail "--kernel: $out"

# JSON.
out=$(STACK_ACCEL=tcg timeout 30 "$STACK" system info --format json)
python3 -c '
import json, sys
d = json.loads(sys.argv[1])
assert d["accelerator"]["name"] == "tcg", d
assert d["accelerator"]["reason"] == "tcg requested by $STACK_ACCEL", d
assert d["kernel"]["source"] == "config file", d
assert d["default_memory_mib"] == 1024, d
' "$out" || fail "json: $out"

# Bad overrides are errors that name their source.
out=$(STACK_ACCEL=hvf timeout 30 "$STACK" system info) && fail "bad STACK_ACCEL accepted"
grep -q 'unknown accelerator "hvf" in \$STACK_ACCEL' <<<"$out" || fail "bad accel: $out"
echo '{"kernel": 3}' >"$tmp/config.json"
out=$(timeout 30 "$STACK" system info) && fail "bad config accepted"
grep -q "$tmp/config.json: \"kernel\" must be a string" <<<"$out" || fail "bad config: $out"
timeout 30 "$STACK" system info --format yaml 2>/dev/null && fail "bad format accepted"
timeout 30 "$STACK" system bogus 2>/dev/null && fail "bad subcommand accepted"
echo ok
