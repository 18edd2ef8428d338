#!/usr/bin/env bash
# `stack run --rm IMAGE true` with a cached image: median of N runs, time to
# exit and to the process start, and how the time splits (STACK_TIMING);
# side by side with `docker run --rm busybox true` (Debian's docker.io,
# started here with overlay2, cgroupfs, iptables off, no network) when
# dockerd is installed.  Then the host memory (PSS) of an idle VM, and a
# guest that writes and deletes 200 MB in tmpfs giving it back (balloon free
# page reporting).
#
# usage: bench/bench_run.sh [BUILD_DIR] [RUNS]
set -euo pipefail
here=$(cd "$(dirname "$0")/.." && pwd)
build=${1:-$here/build}
runs=${2:-10}
stack=$build/stack
[[ -x $stack ]] || { echo "build stack first ($stack)"; exit 1; }

. "$(dirname "$0")/../tests/lib/run_net.sh"
tmp=$(mktemp -d /tmp/stack-bench-run.XXXXXX)
export STACK_ROOT=$tmp/root STACK_RUN_DIR=$tmp/run STACK_CONFIG=$tmp/config.json
dockerd_pid=
cleanup() {
  local p
  [[ -n $dockerd_pid ]] && kill "$dockerd_pid" 2>/dev/null && wait "$dockerd_pid" 2>/dev/null
  for p in /proc/[0-9]*; do
    if tr '\0' ' ' 2>/dev/null <"$p/cmdline" | grep -q "^qemu-system.*$tmp"; then kill -9 "${p#/proc/}" 2>/dev/null; fi
  done
  umount -R "$tmp/docker" 2>/dev/null || true
  run_net_remove # stack run's default network of this data root
  rm -rf "$tmp"
}
trap cleanup EXIT

now() { date +%s%N; }
# ms from spawning the command to its first line of output: the process
# runs (its output crossed back to the host).
first_output() {
  local t0
  t0=$(now)
  "$@" | { read -r _; echo $((($(now) - t0) / 1000000)); cat >/dev/null; }
}
median() { sort -n | awk '{ a[NR] = $1 } END { if (NR % 2) print a[(NR + 1) / 2]; else printf "%.1f\n", (a[NR / 2] + a[NR / 2 + 1]) / 2 }'; }

# The busybox image, imported once (cached afterwards like a pulled image).
tree=$tmp/tree
. "$here/tests/lib/busybox_tree.sh"
busybox_tree "$tree"
"$stack" image import "$tree" bench-busybox:latest >/dev/null
img=bench-busybox:latest
"$stack" run --rm "$img" true # warm the page cache

echo "stack run --rm $img true: $runs runs (accelerator: $("$stack" system info 2>/dev/null | grep -i -m1 accel || echo '?'))"
: >"$tmp/total" >"$tmp/start" >"$tmp/splits"
for ((i = 0; i < runs; i++)); do
  t0=$(now)
  STACK_TIMING=1 "$stack" run --rm "$img" true 2>"$tmp/timing"
  t1=$(now)
  echo $(((t1 - t0) / 1000000)) >>"$tmp/total"
  first_output "$stack" run --rm "$img" echo started >>"$tmp/start"
  grep 'timing:' "$tmp/timing" >>"$tmp/splits"
done
stack_total=$(median <"$tmp/total")
stack_start=$(median <"$tmp/start")
split() { sed -E "s/.*$1 ([0-9.]+) ms.*/\1/" "$tmp/splits" | median; }
printf '  %-40s %8s ms\n' "to exit (wall, median)" "$stack_total" "to first output of echo (median)" "$stack_start"
printf '  split (medians): prepare %s ms, QEMU start to the template restored %s ms, restore + configure (mounts, /etc, net) %s ms, start %s ms, run %s ms, power-off %s ms\n' \
  "$(split prepare)" "$(split 'boot to hello')" "$(split configure)" "$(split start)" "$(split run)" "$(split power-off)"
echo "  ($(grep -c 'restored from a template' "$tmp/splits") of $runs runs restored from a VM template)"

# The same without templates: every VM boots its kernel.
cold_runs=$(((runs + 1) / 2))
: >"$tmp/total" >"$tmp/splits"
for ((i = 0; i < cold_runs; i++)); do
  t0=$(now)
  STACK_TEMPLATES=0 STACK_TIMING=1 "$stack" run --rm "$img" true 2>"$tmp/timing"
  t1=$(now)
  echo $(((t1 - t0) / 1000000)) >>"$tmp/total"
  grep 'timing:' "$tmp/timing" >>"$tmp/splits"
done
printf '  cold boot (STACK_TEMPLATES=0), %d runs: to exit %s ms; split: prepare %s ms, QEMU start + kernel + init to HELLO %s ms, configure %s ms, start %s ms, run %s ms, power-off %s ms\n' \
  "$cold_runs" "$(median <"$tmp/total")" "$(split prepare)" "$(split 'boot to hello')" "$(split configure)" "$(split start)" "$(split run)" "$(split power-off)"
boot=$(split 'boot to hello')
awk -v b="$boot" 'BEGIN { printf "  cold boot: guest /init reached and answering %.0f ms after QEMU was spawned (target 350 ms)\n", b }'

# The peer: docker run --rm busybox true.
docker_total=
if command -v dockerd >/dev/null && [[ -x /usr/bin/docker || -x /usr/local/bin/docker ]]; then
  sock=$tmp/docker.sock
  dockerd --data-root "$tmp/docker" --exec-root "$tmp/dx" -H "unix://$sock" --pidfile "$tmp/docker.pid" \
    --storage-driver overlay2 --exec-opt native.cgroupdriver=cgroupfs --iptables=false \
    --ip6tables=false --bridge=none >"$tmp/dockerd.log" 2>&1 &
  dockerd_pid=$!
  export DOCKER_HOST=unix://$sock
  for _ in $(seq 100); do docker version >/dev/null 2>&1 && break; sleep 0.2; done
  tar -C "$tree" -c . | docker import - busybox:bench >/dev/null
  docker run --rm --network none busybox:bench true
  : >"$tmp/dtotal" >"$tmp/dstart"
  for ((i = 0; i < runs; i++)); do
    t0=$(now)
    docker run --rm --network none busybox:bench true
    t1=$(now)
    echo $(((t1 - t0) / 1000000)) >>"$tmp/dtotal"
    first_output docker run --rm --network none busybox:bench echo started >>"$tmp/dstart"
  done
  docker_total=$(median <"$tmp/dtotal")
  docker_start=$(median <"$tmp/dstart")
  echo "docker run --rm busybox true ($(docker version --format '{{.Server.Version}}' 2>/dev/null), overlay2, runc):"
  printf '  %-40s %8s ms\n' "to exit (wall, median)" "$docker_total" "to first output of echo (median)" "$docker_start"
  awk -v s="$stack_total" -v d="$docker_total" -v ss="$stack_start" -v ds="$docker_start" \
    'BEGIN { printf "ratio stack/docker: to exit %.2fx, to first output %.2fx (target <= 1.00x)\n", s / d, ss / ds }'
  kill "$dockerd_pid" 2>/dev/null
  wait "$dockerd_pid" 2>/dev/null || true
  dockerd_pid=
else
  echo "docker: dockerd not installed (scripts/setup-dev.sh --bench): no side-by-side figure"
fi

# Memory: an idle VM, then 200 MB written to and deleted from tmpfs.
qemu_pid() {
  local p
  for p in /proc/[0-9]*; do
    if tr '\0' ' ' 2>/dev/null <"$p/cmdline" | grep -q "^qemu-system.*$tmp"; then echo "${p#/proc/}"; return; fi
  done
}
kb() { awk -v k="$2" '$1 == k":" { print $2 }' "/proc/$1/smaps_rollup"; }
wait_for() { for _ in $(seq 600); do grep -q "$1" "$tmp/mem.out" 2>/dev/null && return 0; sleep 0.05; done; return 1; }
"$stack" run --rm "$img" sh -c 'echo idle; sleep 4; dd if=/dev/zero of=/dev/shm/big bs=1M count=200 2>/dev/null; echo written; sleep 3; rm /dev/shm/big; echo deleted; sleep 4; echo end' >"$tmp/mem.out" &
runner=$!
wait_for idle
sleep 2
q=$(qemu_pid)
echo "memory of one VM (1 GiB guest):"
printf '  %-40s %8s MB (RSS %s MB)\n' "idle VM, host PSS" "$(($(kb "$q" Pss) / 1024))" "$(($(kb "$q" Rss) / 1024))"
wait_for written
sleep 1
written=$(($(kb "$q" Rss) / 1024))
wait_for deleted
sleep 2
freed=$(($(kb "$q" Rss) / 1024))
printf '  %-40s %8s MB\n' "RSS after writing 200 MB to tmpfs" "$written" "RSS 2 s after deleting it" "$freed"
wait "$runner" || true
