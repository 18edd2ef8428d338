# Shared set-up for the `stack run` end-to-end tests (source it):
#   run_test_init NAME  exits 77 without QEMU, busybox-static or the guest
#                       kernel; private STACK_ROOT/STACK_RUN_DIR/STACK_CONFIG
#                       under $tmp; a trap that kills the pids listed in
#                       run_test_kill and this test's QEMUs, then removes $tmp
#   run_net_leftovers   what stack run's default network of this STACK_ROOT
#                       still holds on the host: its bridge, nftables table
#                       and taps (empty when nothing is left)
#   our_qemus           pids of this test's QEMU processes (a zombie's
#                       command line is empty: it has ended)
#   fail MSG            print and count in $failures
#   run_test_finish     exit 1 if a check failed, else print PASS
: "${STACK_BIN:?}"
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

# "bridge NAME", "table NAME", "tap NAME" lines: what network.json of
# $STACK_ROOT/run-network names and the host still has.
run_net_leftovers() {
  local d=$STACK_ROOT/run-network
  [[ -f $d/network.json ]] || return 0
  python3 -c 'import json,sys; j=json.load(open(sys.argv[1]))
for b in j.get("bridges") or []: print("bridge", b)
for t in j.get("taps") or []: print("tap", t)
if j.get("table"): print("table", j["table"])' "$d/network.json" |
    while read -r kind name; do
      if [[ $kind == table ]]; then nft list table inet "$name" &>/dev/null && echo "table $name"
      else ip link show "$name" &>/dev/null && echo "$kind $name"; fi
    done
}

_run_test_cleanup() {
  local p kind name
  for p in "${run_test_kill[@]}"; do kill -9 "$p" 2>/dev/null; done
  for p in $(our_qemus); do kill -9 "$p" 2>/dev/null; done
  # a stack run killed with SIGKILL leaves its tap (the next run reaps it)
  # and, when it was alone, the default network: ours only
  [[ -n ${STACK_ROOT:-} ]] && run_net_leftovers | while read -r kind name; do
    case $kind in
      bridge|tap) ip link del "$name" 2>/dev/null ;;
      table) nft delete table inet "$name" 2>/dev/null ;;
    esac
  done
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
