#!/usr/bin/env bash
# VM templates (runtime/vm/template.h) end to end: the first `stack run`
# builds the template of its machine shape in a private cache, later runs
# are restored from it; each clone has its own hostname, clock and random
# stream; a broken template fails one run with a clear error and is rebuilt
# by the next; STACK_TEMPLATES=0 boots cold.  Nothing left behind (QEMU,
# template taps).
set -uo pipefail
src=${STACK_SOURCE_DIR:-$(dirname "$0")/../..}
. "$src/tests/lib/run_env.sh"
run_test_init run-template
kernel=${STACK_CACHE_DIR:-/var/cache/stack}/kernel/current/vmlinux
# a private cache (the template is built here), the shared kernel
export STACK_CACHE_DIR=$tmp/cache
printf '{"kernel": "%s"}\n' "$(readlink -f "$kernel")" >"$STACK_CONFIG"
run() { STACK_TIMING=1 timeout 120 "$STACK_BIN" run --rm "$@"; }

tree=$tmp/tree
. "$src/tests/lib/busybox_tree.sh"
busybox_tree "$tree"
img=tpl-test:latest
"$STACK_BIN" image import "$tree" "$img" >/dev/null || { echo "FAIL: image import"; exit 1; }

probe='hostname; head -c 16 /dev/urandom | od -An -tx1 | tr -d " "; date +%s'

# 1: builds the template, then restores from it
out1=$(run "$img" sh -c "$probe" 2>"$tmp/err1")
rc=$?
[[ $rc == 0 ]] || fail "first run: rc=$rc: $(cat "$tmp/err1")"
grep -q 'restored from a template' "$tmp/err1" || fail "first run was not restored from a template: $(cat "$tmp/err1")"
state=$(ls "$STACK_CACHE_DIR"/templates/*/state 2>/dev/null | head -1)
[[ -s $state ]] || fail "no template state under $STACK_CACHE_DIR/templates"

# 2: restored again; its own hostname, random stream and a correct clock
out2=$(run "$img" sh -c "$probe" 2>"$tmp/err2")
rc=$?
[[ $rc == 0 ]] || fail "second run: rc=$rc: $(cat "$tmp/err2")"
grep -q 'restored from a template' "$tmp/err2" || fail "second run was not restored: $(cat "$tmp/err2")"
mapfile -t a <<<"$out1"
mapfile -t b <<<"$out2"
[[ ${#a[@]} == 3 && ${#b[@]} == 3 ]] || fail "unexpected output: '$out1' / '$out2'"
[[ ${a[0]} != "${b[0]}" ]] || fail "two clones share the hostname ${a[0]}"
[[ ${a[1]} != "${b[1]}" ]] || fail "two clones share their random stream (${a[1]})"
now=$(date +%s)
((${b[2]} >= now - 30 && ${b[2]} <= now + 5)) || fail "clone clock ${b[2]} is not now ($now)"

# the writable disk of a clone is its own: a file written and synced is
# there, and the next clone does not see it
out=$(run "$img" sh -c 'ls /left-behind 2>&1; echo x >/left-behind; sync; cat /left-behind')
[[ $out == *"No such file"*$'\n'x ]] || fail "writable layer: got '$out'"
out=$(run "$img" sh -c 'ls /left-behind 2>&1')
[[ $out == *"No such file"* ]] || fail "a clone saw another's file: '$out'"

# a broken template: one clear failure, then rebuilt
head -c 4096 "$state" >"$state.cut" && mv "$state.cut" "$state"
run "$img" true 2>"$tmp/err3"
rc=$?
[[ $rc != 0 ]] || fail "a run from a truncated template succeeded"
grep -qi 'template' "$tmp/err3" || fail "the failure does not name the template: $(cat "$tmp/err3")"
out=$(run "$img" echo again 2>"$tmp/err4")
rc=$?
[[ $out == again && $rc == 0 ]] || fail "after a broken template: '$out' rc=$rc: $(cat "$tmp/err4")"
grep -q 'restored from a template' "$tmp/err4" || fail "the template was not rebuilt: $(cat "$tmp/err4")"

# cold boot on request
out=$(STACK_TEMPLATES=0 run "$img" echo cold 2>"$tmp/err5")
[[ $out == cold ]] || fail "STACK_TEMPLATES=0: '$out': $(cat "$tmp/err5")"
grep -q 'cold boot' "$tmp/err5" || fail "STACK_TEMPLATES=0 did not boot cold: $(cat "$tmp/err5")"

[[ -z $(our_qemus) ]] || fail "QEMU processes left: $(our_qemus)"
ls "$STACK_RUN_DIR" 2>/dev/null | grep -q '^tpl-' && fail "template sockets left in $STACK_RUN_DIR"
run_test_finish
