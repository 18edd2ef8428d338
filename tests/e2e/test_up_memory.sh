#!/usr/bin/env bash
# How a service's VM uses host memory: x-stack-tcg-cache bounds its TCG
# translation cache (QEMU's tb-size; a default otherwise), and with a QEMU
# that can (8.2 or later, `stack system info` says) a VM restored from a
# template maps the template's RAM file read-only and copy-on-write, with
# the guest's free page reporting off; x-stack-template-ram: private gives
# a VM its own copy and keeps reporting.  A clone that fills and frees
# memory leaves the shared file as it was, and a later clone of the same
# template runs.  Bad values are errors naming file:line:col.
set -euo pipefail
source "$STACK_SOURCE_DIR/tests/lib/up.sh"
unset STACK_TCG_CACHE STACK_TEMPLATE_RAM
up_test_init memory

project=mem$$
cat >compose.yaml <<YAML
name: $project
services:
  small:
    image: busybox:amd64
    command: sleep 3600
    network_mode: none
    tmpfs: [/scratch]
    x-stack-tcg-cache: 16M
  priv:
    image: busybox:amd64
    command: sleep 3600
    network_mode: none
    x-stack-template-ram: private
YAML

info=$("$STACK" system info --format json) || fail "system info: $info"
read -r accel mode < <(python3 -c '
import json, sys
d = json.loads(sys.argv[1])
print(d["accelerator"]["name"], d["memory"]["template_ram"])' "$info") || fail "system info json: $info"
[[ $mode == shared || $mode == private ]] || fail "template_ram: $mode"

out=$(timeout 180 "$STACK" up -d 2>&1) || fail "up -d failed: $out"
cmdline() {
  local pid
  pid=$(pgrep -f -- "-name guest=$project-$1-1 " || true)
  [[ -n $pid ]] || fail "no QEMU for $project-$1-1"
  tr '\0' ' ' <"/proc/$pid/cmdline"
}
small=$(cmdline small)
priv=$(cmdline priv)
if [[ $accel == tcg ]]; then
  [[ $small == *",tb-size=16 "* ]] || fail "x-stack-tcg-cache: 16M not on small's command line: $small"
  [[ $priv == *",tb-size=64 "* ]] || fail "the default TCG cache (64 MiB) not on priv's command line: $priv"
else
  [[ $small != *tb-size* ]] || fail "a TCG cache under KVM: $small"
fi
order() { timeout 60 "$STACK" exec -T "$1" cat /sys/module/page_reporting/parameters/page_reporting_order; }
[[ $priv != *memory-backend* ]] || fail "x-stack-template-ram: private, yet a RAM file: $priv"
[[ $(order priv) != 11 ]] || fail "free page reporting off in a VM with private RAM"
if [[ $mode == shared ]]; then
  [[ $small =~ mem-path=([^ ,]+/ram\.[0-9]+),share=off,readonly=on,rom=off ]] ||
    fail "a clone does not map its template's RAM read-only: $small"
  ram=${BASH_REMATCH[1]}
  [[ -f $ram ]] || fail "no template RAM file $ram"
  [[ $(order small) == 11 ]] || fail "free page reporting not turned off with shared RAM: $(order small)"
  blocks=$(stat -c %b "$ram")
  sum=$(sha256sum <"$ram")
  # fill 150 MB and free it: with reporting on this would ask QEMU to
  # discard pages of the template's file
  timeout 120 "$STACK" exec -T small sh -c 'dd if=/dev/zero of=/scratch/f bs=1M count=150 2>/dev/null; rm /scratch/f; sync' ||
    fail "filling memory in small"
  sleep 3
  [[ $(sha256sum <"$ram") == "$sum" ]] ||
    fail "the template's RAM file changed under a clone (blocks $blocks -> $(stat -c %b "$ram"))"
  (($(stat -c %b "$ram") >= blocks)) ||
    fail "holes punched into the template's RAM file under a clone ($blocks -> $(stat -c %b "$ram") blocks)"
  out=$(timeout 120 "$STACK" run --rm small echo late-clone 2>&1) || fail "a later clone failed: $out"
  [[ $out == *late-clone* ]] || fail "a later clone: $out"
else
  [[ $small != *memory-backend* ]] || fail "a RAM file with QEMU that cannot share it: $small"
  [[ $(order small) != 11 ]] || fail "free page reporting off with private RAM"
fi
timeout 60 "$STACK" down -t 0 >/dev/null 2>&1 || fail "down failed"

# bad values: the file position and what to write
cat >compose.yaml <<YAML
name: $project
services:
  small:
    image: busybox:amd64
    command: sleep 3600
    network_mode: none
    x-stack-tcg-cache: 2M
YAML
out=$(timeout 120 "$STACK" up -d 2>&1) && fail "x-stack-tcg-cache: 2M accepted: $out"
[[ $out == *"compose.yaml:7:24: services.small.x-stack-tcg-cache: \"2M\" is not a size in MiB from 4 to 65536"* ]] ||
  fail "bad x-stack-tcg-cache: $out"
timeout 60 "$STACK" down -t 0 >/dev/null 2>&1 || true
sed -i 's/x-stack-tcg-cache: 2M/x-stack-template-ram: sometimes/' compose.yaml
out=$(timeout 120 "$STACK" up -d 2>&1) && fail "x-stack-template-ram: sometimes accepted: $out"
[[ $out == *"compose.yaml:7:27: services.small.x-stack-template-ram: \"sometimes\" is not \"shared\", \"private\" or \"auto\""* ]] ||
  fail "bad x-stack-template-ram: $out"
echo ok
