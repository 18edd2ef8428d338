#!/usr/bin/env bash
# Pull + unpack + ext4 root disk of a test image from a local registry:
# stack (in process: bench_pull) side by side with skopeo copy + umoci unpack
# + mkfs.ext4 -d doing the same work, and a cached second `stack pull`
# (target < 50 ms).  Uses the redis test image when it has been built
# (tests/images/build-redis.sh, or pass --redis to build it first), else
# busybox.
#
# usage: bench/bench_pull.sh [--redis] [BUILD_DIR] [RUNS]
set -euo pipefail
here=$(cd "$(dirname "$0")/.." && pwd)
if [[ ${1:-} == --redis ]]; then
  "$here/tests/images/build-redis.sh"
  shift
fi
build=${1:-$here/build}
runs=${2:-3}
STACK_SOURCE_DIR=$here
. "$here/tests/lib/registry.sh"
[[ -x $build/bench/bench_pull ]] || cmake --build "$build" --target bench_pull -j2 >/dev/null

tmp=$(mktemp -d /tmp/stack-bench-pull.XXXXXX)
cleanup() { registry_stop; rm -rf "$tmp"; }
trap cleanup EXIT
export STACK_CONFIG=$tmp/config.json HOME=$tmp/home
registry_start plain "$tmp/registry" >/dev/null
registry_push_busybox >/dev/null
ref=$REGISTRY/busybox:amd64
what="busybox test image"
images=$("$here/tests/images/build.sh" --print-dir)
if [[ -f $images/redis/index.json ]]; then
  skopeo copy -q --dest-tls-verify=false "oci:$images/redis:latest" "docker://$REGISTRY/redis:latest" >/dev/null
  ref=$REGISTRY/redis:latest
  what="redis test image, $(du -sh "$images/redis" | cut -f1) compressed"
fi

echo "image: $ref ($what), median of $runs runs"
"$build/bench/bench_pull" "$tmp/store" "$ref" "$runs" >"$tmp/stack.out"
. "$tmp/stack.out"

ms() { echo $((($(date +%s%N) - $1) / 1000000)); }
peer=()
for ((i = 0; i < runs; i++)); do
  rm -rf "$tmp/oci" "$tmp/bundle" "$tmp/peer.ext4"
  t=$(date +%s%N)
  skopeo copy -q --src-tls-verify=false "docker://$ref" "oci:$tmp/oci:img" >/dev/null
  umoci unpack --rootless --image "$tmp/oci:img" "$tmp/bundle" >/dev/null 2>&1
  size=$(du -sm "$tmp/bundle/rootfs" | cut -f1)
  mkfs.ext4 -q -F -b 4096 -d "$tmp/bundle/rootfs" "$tmp/peer.ext4" "$((size * 2 + 16))M" >/dev/null 2>&1
  peer+=("$(ms "$t")")
done
peer_ms=$(printf '%s\n' "${peer[@]}" | sort -n | sed -n "$((runs / 2 + 1))p")

printf '%-44s %8s ms\n' "stack: pull + unpack + ext4 (image_get)" "$stack_cold_ms"
printf '%-44s %8s ms\n' "peer: skopeo copy + umoci unpack + mkfs.ext4 -d" "$peer_ms"
awk -v s="$stack_cold_ms" -v p="$peer_ms" 'BEGIN { printf "%-44s %8.2fx (target <= 0.70x)\n", "ratio stack/peer", s / p }'
printf '%-44s %8s ms (target < 50 ms)\n' "stack: cached second pull" "$stack_cached_pull_ms"
printf '%-44s %8s ms\n' "stack: cached image_get (disk exists)" "$stack_cached_get_ms"
exit 0
