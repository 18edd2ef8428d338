#!/usr/bin/env bash
# `stack up -d` of 1, 3 and 10 busybox services, to all running and (with a
# health check) to all healthy (`up --wait`), median of N runs each; side by
# side with `docker-compose up -d` of the same file on Debian's docker.io
# (started here: overlay2, cgroupfs, iptables off), healthy measured by
# polling `docker inspect` since docker-compose 1.29 has no --wait.  Prints
# times and ratios (targets: <= 0.75x docker-compose for 1 service, <= 1x
# for 10).
#
# usage: bench/bench_up.sh [BUILD_DIR] [RUNS]
set -euo pipefail
here=$(cd "$(dirname "$0")/.." && pwd)
build=$(cd "${1:-$here/build}" && pwd)
runs=${2:-3}
stack=$build/stack
[[ -x $stack ]] || { echo "build stack first ($stack)"; exit 1; }

tmp=$(mktemp -d /tmp/stack-bench-up.XXXXXX)
export STACK_ROOT=$tmp/root STACK_RUN_DIR=$tmp/run
dockerd_pid=
cleanup() {
  (cd "$tmp/app" 2>/dev/null && "$stack" down -t 0 >/dev/null 2>&1) || true
  (cd "$tmp/app" 2>/dev/null && docker-compose down -t 0 >/dev/null 2>&1) || true
  [[ -n $dockerd_pid ]] && kill "$dockerd_pid" 2>/dev/null && wait "$dockerd_pid" 2>/dev/null
  umount -R "$tmp/docker" 2>/dev/null || true
  rm -rf "$tmp"
}
trap cleanup EXIT
now() { date +%s%N; }
median() { sort -n | awk '{ a[NR] = $1 } END { if (NR % 2) print a[(NR + 1) / 2]; else printf "%.1f\n", (a[NR / 2] + a[NR / 2 + 1]) / 2 }'; }

# One busybox root file system, as a stack image and a docker image.
tree=$tmp/tree
mkdir -p "$tree"/{bin,etc,tmp,root}
cp /bin/busybox "$tree/bin/"
for a in $(/bin/busybox --list); do [[ $a == busybox ]] || ln -s busybox "$tree/bin/$a"; done
echo 'root:x:0:0:root:/root:/bin/sh' >"$tree/etc/passwd"
"$stack" image import "$tree" bench-busybox:latest >/dev/null

# compose_file N HEALTHY IMAGE
compose_file() {
  echo "version: '3.8'"
  echo "services:"
  for ((i = 1; i <= $1; i++)); do
    printf '  s%d:\n    image: %s\n    command: sleep 3600\n' "$i" "$3"
    if [[ $2 == yes ]]; then
      printf '    healthcheck:\n      test: ["CMD", "true"]\n      interval: 500ms\n'
    fi
  done
}

mkdir -p "$tmp/app"
cd "$tmp/app"
declare -A result
measure_stack() { # N HEALTHY
  compose_file "$1" "$2" bench-busybox:latest >compose.yaml
  local flag=-d out=$tmp/s.times
  [[ $2 == yes ]] && flag=--wait
  : >"$out"
  for ((r = 0; r < runs; r++)); do
    local t0
    t0=$(now)
    "$stack" -p benchup up $flag >/dev/null 2>"$tmp/stack.err" || { echo "stack up failed: $(cat "$tmp/stack.err")" >&2; exit 1; }
    echo $((($(now) - t0) / 1000000)) >>"$out"
    "$stack" -p benchup down -t 0 >/dev/null 2>&1
  done
  result[stack,$1,$2]=$(median <"$out")
}

all_healthy() { # N
  local ids
  ids=$(docker ps -q --filter label=com.docker.compose.project=benchup)
  [[ $(wc -w <<<"$ids") == "$1" ]] || return 1
  ! docker inspect --format '{{.State.Health.Status}}' $ids | grep -qv '^healthy$'
}

measure_docker() { # N HEALTHY
  compose_file "$1" "$2" busybox:bench >docker-compose.yml
  local out=$tmp/d.times
  : >"$out"
  for ((r = 0; r < runs; r++)); do
    local t0
    t0=$(now)
    docker-compose -p benchup -f docker-compose.yml up -d >/dev/null 2>"$tmp/dc.err" ||
      { echo "docker-compose up failed: $(cat "$tmp/dc.err")" >&2; return 1; }
    if [[ $2 == yes ]]; then
      local i
      for ((i = 0; i < 3000; i++)); do all_healthy "$1" && break; sleep 0.02; done
      ((i < 3000)) || { echo "docker: not healthy after 60 s" >&2; return 1; }
    fi
    echo $((($(now) - t0) / 1000000)) >>"$out"
    docker-compose -p benchup -f docker-compose.yml down -t 0 >/dev/null 2>&1
  done
  result[docker,$1,$2]=$(median <"$out")
}

have_docker=no
if command -v dockerd >/dev/null && command -v docker-compose >/dev/null; then
  sock=$tmp/docker.sock
  dockerd --data-root "$tmp/docker" --exec-root "$tmp/dx" -H "unix://$sock" --pidfile "$tmp/docker.pid" \
    --storage-driver overlay2 --exec-opt native.cgroupdriver=cgroupfs --iptables=false \
    --ip6tables=false >"$tmp/dockerd.log" 2>&1 &
  dockerd_pid=$!
  export DOCKER_HOST=unix://$sock
  for _ in $(seq 100); do docker version >/dev/null 2>&1 && break; sleep 0.2; done
  if docker version >/dev/null 2>&1; then
    tar -C "$tree" -c . | docker import - busybox:bench >/dev/null
    have_docker=yes
  fi
fi

echo "up -d (all running) and up --wait (all healthy), median of $runs runs, ms:"
printf '  %-22s %10s %16s %8s\n' "" "stack" "docker-compose" "ratio"
for healthy in no yes; do
  for n in 1 3 10; do
    measure_stack "$n" "$healthy"
    d=-
    if [[ $have_docker == yes ]] && measure_docker "$n" "$healthy"; then
      d=${result[docker,$n,$healthy]}
    fi
    s=${result[stack,$n,$healthy]}
    label="$n service(s), $([[ $healthy == yes ]] && echo healthy || echo running)"
    ratio=-
    [[ $d != - ]] && ratio=$(awk -v s="$s" -v d="$d" 'BEGIN { printf "%.2fx", s / d }')
    printf '  %-22s %10s %16s %8s\n' "$label" "$s" "$d" "$ratio"
  done
done
[[ $have_docker == yes ]] || echo "(docker-compose or dockerd not available: no side-by-side figures)"
