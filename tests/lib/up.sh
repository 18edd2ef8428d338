# Shared set-up for the `stack up` end-to-end tests (source it):
#   up_test_init NAME [novm]
#                       private STACK_ROOT/STACK_RUN_DIR under $tmp, a project
#                       directory $app (the working directory), the busybox
#                       test image loaded as busybox:amd64, a trap that brings
#                       the project down and removes everything; unless novm,
#                       exits 77 if this host cannot run a container VM at all
#                       (no kernel, initramfs or QEMU)
#   fail MSG            print and exit 1
#   wait_for CMD...     retry CMD (bounded, 10 s) for things the test does not own
: "${STACK_BIN:?}" "${STACK_SOURCE_DIR:?}"
STACK=$STACK_BIN
. "$STACK_SOURCE_DIR/tests/lib/run_net.sh"

fail() {
  echo "FAIL: $*" >&2
  exit 1
}

wait_for() {
  local i
  for ((i = 0; i < 1000; i++)); do
    "$@" && return 0
    sleep 0.01
  done
  return 1
}

_up_cleanup() {
  if [[ -d ${app:-} ]]; then
    (cd "$app" && timeout 60 "$STACK" down -t 0 >/dev/null 2>&1) || true
  fi
  local lock p
  for lock in "$STACK_RUN_DIR"/projects/*/supervisor.lock; do
    p=$(cat "$lock" 2>/dev/null) || continue
    # only our supervisor: the lock file may name a pid reused since
    [[ -n $p ]] && grep -qa supervisor "/proc/$p/cmdline" 2>/dev/null && kill -9 "$p" 2>/dev/null
  done
  run_net_remove # `stack container run`'s default network, if a test made it
  rm -rf "$tmp"
}

up_test_init() {
  tmp=$(mktemp -d "/tmp/stack-e2e-$1.XXXXXX")
  export STACK_ROOT=$tmp/root STACK_RUN_DIR=$tmp/run
  app=$tmp/app
  mkdir -p "$app"
  trap _up_cleanup EXIT
  local cache=${STACK_CACHE_DIR:-/var/cache/stack}/test-images
  bash "$STACK_SOURCE_DIR/tests/images/build.sh" >/dev/null 2>&1 || fail "tests/images/build.sh failed"
  "$STACK" image load -i "$cache/busybox.tar" >/dev/null || fail "cannot load the busybox test image"
  local out
  if [[ ${2:-} != novm ]]; then
    if ! out=$(timeout 120 "$STACK" run --rm busybox:amd64 echo vm-ok 2>&1) || [[ $out != *vm-ok* ]]; then
      echo "SKIP: this host cannot run a container VM: $out"
      exit 77
    fi
  fi
  cd "$app"
}
