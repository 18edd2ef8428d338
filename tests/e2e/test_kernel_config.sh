#!/usr/bin/env bash
# guest/kernel/build.sh fails loudly, naming the option, when Kconfig drops an
# option of the fragment (here one whose dependency, PCI, is off), and
# accepts the real fragment.  --check-config stops before compiling.
set -euo pipefail
src=${STACK_SOURCE_DIR:?}
[[ -r /usr/src/linux-source-6.1.tar.xz ]] || { echo "SKIP: linux-source-6.1 not installed"; exit 77; }
tmp=$(mktemp -d /tmp/stack-kconfig-test.XXXXXX)
trap 'rm -rf "$tmp"' EXIT
export STACK_CACHE_DIR=$tmp/cache
fail() { echo "FAIL: $*" >&2; exit 1; }

cp "$src/guest/kernel/stack.config" "$tmp/bad.config"
echo "CONFIG_PCI_MSI=y" >>"$tmp/bad.config"
STACK_KERNEL_CONFIG=$tmp/bad.config timeout 300 "$src/guest/kernel/build.sh" --check-config \
  2>"$tmp/err" && fail "a dropped option was accepted"
grep -q "option not in final .config: CONFIG_PCI_MSI=y" "$tmp/err" || fail "message: $(cat "$tmp/err")"

timeout 300 "$src/guest/kernel/build.sh" --check-config 2>"$tmp/err" || fail "$(cat "$tmp/err")"
grep -q "configuration checked" "$tmp/err" || fail "message: $(cat "$tmp/err")"
[[ ! -e $tmp/cache/kernel/current ]] || fail "--check-config cached a kernel"
echo ok
