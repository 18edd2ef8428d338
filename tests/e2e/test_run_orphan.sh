#!/usr/bin/env bash
# A `stack run` killed with SIGKILL leaves no VM behind: its CONFIGURE binds
# the VM to the host side of the control port, so the guest powers off when
# the dead process's socket closes; the next `stack run` removes the state
# directory the dead one could not.  (VMs of the supervisor are not bound:
# test_up_adopt.sh checks that they outlive it.)
set -uo pipefail
src=${STACK_SOURCE_DIR:-$(dirname "$0")/../..}
. "$src/tests/lib/run_env.sh"
run_test_init run-orphan

tree=$tmp/tree
. "$src/tests/lib/busybox_tree.sh"
busybox_tree "$tree"
img=orphan-test:latest
"$STACK_BIN" image import "$tree" "$img" >/dev/null || { echo "FAIL: image import"; exit 1; }

# stack itself in the background (no wrapper): $! is the process to kill
"$STACK_BIN" run --rm "$img" sh -c 'echo ready; sleep 1000' >"$tmp/out" 2>"$tmp/err" &
runner=$!
run_test_kill+=("$runner")
for _ in $(seq 600); do grep -q ready "$tmp/out" 2>/dev/null && break; sleep 0.1; done
grep -q ready "$tmp/out" || fail "the container did not start: $(cat "$tmp/err")"
[[ -n $(our_qemus) ]] || fail "no QEMU found for the running container"
kill -9 "$runner"
wait "$runner" 2>/dev/null
run_test_kill=()

# the guest sees the hang-up at once; QEMU exits when it powers off
gone=0
for _ in $(seq 100); do
  [[ -z $(our_qemus) ]] && { gone=1; break; }
  sleep 0.1
done
((gone)) || fail "QEMU still running 10 s after stack was killed: $(our_qemus)"

# its state directory could not be removed by the dead stack; the next
# `stack run` removes it (and keeps its own until it ends)
left=$(ls "$STACK_ROOT/containers" 2>/dev/null | wc -l)
((left == 1)) || fail "expected the killed run's state to be left, found $left"
out=$(timeout 120 "$STACK_BIN" run --rm "$img" sh -c "ls $STACK_ROOT 2>/dev/null; echo ok" 2>&1)
[[ $out == *ok* ]] || fail "the next run failed: $out"
left=$(ls "$STACK_ROOT/containers" 2>/dev/null | wc -l)
((left == 0)) || fail "state left after the next run: $(ls "$STACK_ROOT/containers")"
run_test_finish
