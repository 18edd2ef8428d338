# Shared set-up for the `stack run` end-to-end tests (source it):
#   run_test_init NAME  exits 77 without QEMU, busybox-static or the guest
#                       kernel; private STACK_ROOT/STACK_RUN_DIR/STACK_CONFIG
#                       under $tmp; a trap that kills the pids listed in
#                       run_test_kill and this test's QEMUs, then removes $tmp
#   run_net_leftovers   what stack run's default network of this STACK_ROOT
#                       still has on the host (tests/lib/run_net.sh)
#   our_qemus           pids of this test's QEMU processes (a zombie's
#                       command line is empty: it has ended)
#   fail MSG            print and count in $failures
#   run_test_finish     exit 1 if a check failed, else print PASS
: "${STACK_BIN:?}"
. "$(dirname "${BASH_SOURCE[0]}")/run_net.sh"
failures=0
run_test_kill=()

our_qemus() {
  local p
  for p in /proc/[0-9]*; do
    [[ -r $p/cmdline ]] || continue
    if tr '\0' ' ' <"$p/cmdline" 2>/dev/null | grep -q "^qemu-system.*$tmp"; then
      echo "${p#/proc/}"
    fi
  done
}

_run_test_cleanup() {
  local p
  for p in "${run_test_kill[@]}"; do kill -9 "$p" 2>/dev/null; done
  for p in $(our_qemus); do kill -9 "$p" 2>/dev/null; done
  run_net_remove # the default network stays after the last run: ours only
  rm -rf "$tmp"
}

fail() { echo "FAIL: $*" >&2; failures=$((failures + 1)); }

run_test_init() {
  command -v qemu-system-x86_64 >/dev/null || { echo "SKIP: qemu-system-x86_64 not installed"; exit 77; }
  [[ -x /bin/busybox ]] || { echo "SKIP: busybox-static not installed"; exit 77; }
  local kernel=${STACK_CACHE_DIR:-/var/cache/stack}/kernel/current/vmlinux
  [[ -r $kernel ]] || { echo "SKIP: no guest kernel at $kernel (guest/kernel/build.sh)"; exit 77; }
  tmp=$(mktemp -d "/tmp/stack-$1.XXXXXX")
  export STACK_ROOT=$tmp/root STACK_RUN_DIR=$tmp/run STACK_CONFIG=$tmp/config.json
  trap _run_test_cleanup EXIT
}

run_test_finish() {
  if ((failures)); then
    echo "$failures check(s) failed"
    exit 1
  fi
  echo "PASS"
}
