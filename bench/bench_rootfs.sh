#!/usr/bin/env bash
# The unpack half of a pull for one big layer: stack's in-process
# layer -> tree -> ext4 (bench_rootfs) side by side with `tar -x` onto tmpfs
# followed by `mkfs.ext4 -d` of the same tree (what a scratch-tree tool does).
#
# usage: bench/bench_rootfs.sh [BUILD_DIR] [RUNS] [SOURCE_DIR...]
#   The layer is a gzip tar of the SOURCE_DIRs (default /usr/include /usr/lib/python3*
#   /usr/share/perl*), made once per run of the script.
set -euo pipefail
here=$(cd "$(dirname "$0")/.." && pwd)
build=${1:-$here/build}
runs=${2:-3}
shift $(($# > 2 ? 2 : $#))
srcs=("$@")
if [[ ${#srcs[@]} == 0 ]]; then
  srcs=(/usr/include /usr/lib/python3* /usr/share/perl*)
fi
[[ -x $build/bench/bench_rootfs ]] || cmake --build "$build" --target bench_rootfs -j2 >/dev/null

tmp=$(mktemp -d /dev/shm/stack-bench-rootfs.XXXXXX)
out=$(mktemp -d /var/tmp/stack-bench-rootfs.XXXXXX)
trap 'rm -rf "$tmp" "$out"' EXIT

tar -czf "$tmp/layer.tar.gz" --ignore-failed-read "${srcs[@]}" 2>/dev/null || true
files=$(tar -tzf "$tmp/layer.tar.gz" | wc -l)
echo "layer: $(du -h "$tmp/layer.tar.gz" | cut -f1) gzip, $files entries from ${srcs[*]}; median of $runs runs"

"$build/bench/bench_rootfs" "$tmp/layer.tar.gz" "$out/stack.ext4" "$runs" >"$tmp/stack.out"
. "$tmp/stack.out"

ms() { echo $((($(date +%s%N) - $1) / 1000000)); }
peer=()
for ((i = 0; i < runs; i++)); do
  rm -rf "$tmp/tree" "$out/peer.ext4"
  mkdir "$tmp/tree"
  t=$(date +%s%N)
  tar -C "$tmp/tree" -xzf "$tmp/layer.tar.gz"
  size=$(du -sm "$tmp/tree" | cut -f1)
  mkfs.ext4 -q -F -b 4096 -d "$tmp/tree" "$out/peer.ext4" "$((size * 2 + 16))M" >/dev/null 2>&1
  peer+=("$(ms "$t")")
done
rm -rf "$tmp/tree"
peer_ms=$(printf '%s\n' "${peer[@]}" | sort -n | sed -n "$((runs / 2 + 1))p")

printf '%-46s %8s ms\n' "stack: layer -> in-memory tree" "$stack_apply_ms"
printf '%-46s %8s ms\n' "stack: tree -> ext4 (libext2fs, in-process)" "$stack_ext4_ms"
printf '%-46s %8s ms\n' "stack: total" "$stack_total_ms"
printf '%-46s %8s ms\n' "peer: tar -x to tmpfs + mkfs.ext4 -d" "$peer_ms"
awk -v s="$stack_total_ms" -v p="$peer_ms" 'BEGIN { printf "%-46s %8.2fx\n", "ratio stack/peer", s / p }'
e2fsck -fn "$out/stack.ext4" >/dev/null 2>&1 && echo "stack image passes e2fsck -fn" || echo "WARNING: e2fsck -fn failed on stack's image"
