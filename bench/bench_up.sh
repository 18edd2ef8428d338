#!/usr/bin/env bash
# `stack up` side by side with `docker-compose up` of the same Compose file,
# in the same run: 1, 3 and 10 busybox services (`sleep 3600`), to all
# running (`up -d`) and, with a health check, to all healthy (`stack up -d
# --wait`; docker-compose 1.29 has no --wait, so its time ends when the
# daemon reports the last `health_status: healthy` event, read from `docker
# events` as it happens, not polled).  Each figure is the median of RUNS,
# the two tools alternating run by run; every project is brought down
# (`down -t 0`, not timed) before the next run.  Targets (issue 6): stack at
# most 0.75x docker-compose's time for 1 service, and no slower for 10.
#
# Also printed: for stack, where the time went (from the project's
# state.json: command start -> first container created -> last container
# started -> command returned), and the `down` times of both.
#
# The peer is Debian's docker.io daemon, started here in a private directory
# (bench/lib/docker.sh) with the busybox test image imported offline; stack
# gets a private STACK_ROOT / STACK_RUN_DIR with the same image loaded
# (`stack image load -i busybox.tar`).  Nothing is left behind: VMs,
# supervisors, taps, bridges, containers and the daemon go in a trap.
#
# usage: bench/bench_up.sh [BUILD_DIR] [RUNS]    (default build, 5)
# env:   STACK_BIN            the stack binary (default BUILD_DIR/stack)
#        BENCH_UP_SIZES       service counts (default "1 3 10")
#        BENCH_UP_INTERVAL    health check interval of both tools (default 500ms;
#                             both run the first check one interval after start)
#        BENCH_UP_CPUS        `cpus:` of every service (default: none, stack's
#                             default vCPU count; for docker a CFS quota only)
set -euo pipefail
here=${STACK_SOURCE_DIR:-$(cd "$(dirname "$0")/.." && pwd)}
build=${1:-$here/build}
stack=${STACK_BIN:-$build/stack}
runs=${2:-5}
sizes=${BENCH_UP_SIZES:-1 3 10}
interval=${BENCH_UP_INTERVAL:-500ms}
cpus=${BENCH_UP_CPUS:-}
[[ -x $stack ]] || { echo "bench_up: no stack binary at $stack (build it, or set STACK_BIN)" >&2; exit 1; }
command -v docker-compose >/dev/null || { echo "bench_up: docker-compose missing (scripts/setup-dev.sh --bench)" >&2; exit 1; }
. "$here/bench/lib/docker.sh"

tmp=$(mktemp -d /tmp/sbu.XXXXXX)
export STACK_ROOT=$tmp/root STACK_RUN_DIR=$tmp/run STACK_CONFIG=$tmp/config.json
# stack names bridges and taps after the project: unique per run, so that a
# concurrent run (or test) with another STACK_ROOT never shares them
project=bench${tmp##*.}
project=${project,,}
app=$tmp/app
evpid=

# the pid of the project's supervisor, if one is alive
supervisor_pid() {
  local p
  p=$(cat "$STACK_RUN_DIR/projects/$project/supervisor.lock" 2>/dev/null) || return 1
  [[ -n $p ]] && grep -qa supervisor "/proc/$p/cmdline" 2>/dev/null && echo "$p"
}

cleanup() {
  local p f
  [[ -n $evpid ]] && kill "$evpid" 2>/dev/null
  if [[ -d $app ]]; then
    # (docker's side: bench_docker_stop, which ran first, removed it all)
    (cd "$app" && timeout 60 "$stack" -p "$project" down -t 0 >/dev/null 2>&1) || true
  fi
  p=$(supervisor_pid) && kill -9 "$p" 2>/dev/null
  for p in /proc/[0-9]*; do
    if tr '\0' ' ' 2>/dev/null <"$p/cmdline" | grep -q "^qemu-system.*$tmp/"; then kill -9 "${p#/proc/}" 2>/dev/null || true; fi
  done
  # what a failed `down` left of the project's network
  for f in "$STACK_ROOT"/projects/*/network.json; do
    [[ -f $f ]] || continue
    python3 - "$f" <<'PY' | while read -r kind name; do
import json, sys
n = json.load(open(sys.argv[1]))
for i in n.get("taps", []) + n.get("bridges", []):
    print("link", i)
if n.get("table"):
    print("table", n["table"])
PY
      if [[ $kind == link ]]; then ip link del "$name" 2>/dev/null || true; else nft delete table inet "$name" 2>/dev/null || true; fi
    done
  done
  rm -rf "$tmp"
}
trap cleanup EXIT

now() { date +%s%N; }
ms_since() { echo $((($(now) - $1) / 1000000)); }
median() { sort -n | awk '{ a[NR] = $1 } END { if (!NR) print "-"; else if (NR % 2) print a[(NR + 1) / 2]; else printf "%.0f\n", (a[NR / 2] + a[NR / 2 + 1]) / 2 }'; }
die() {
  echo "bench_up: $*" >&2
  exit 1
}

# compose_file N HEALTHY: N independent services; the same file for both
compose_file() {
  local i
  echo "services:"
  for ((i = 1; i <= $1; i++)); do
    printf '  s%d:\n    image: busybox:amd64\n    command: sleep 3600\n' "$i"
    [[ -z $cpus ]] || printf '    cpus: %s\n' "$cpus"
    if [[ $2 == yes ]]; then
      printf '    healthcheck:\n      test: ["CMD", "true"]\n      interval: %s\n      retries: 20\n' "$interval"
    fi
  done
}

# stack_once N HEALTHY: one timed `up`, then the split, then an untimed down
stack_once() {
  local n=$1 t0 total flags=(-d)
  [[ $2 == yes ]] && flags+=(--wait)
  t0=$(now)
  timeout 600 "$stack" -p "$project" up "${flags[@]}" >/dev/null 2>"$tmp/err" ||
    die "stack up ${flags[*]} of $n service(s) failed ($(ms_since "$t0") ms): $(cat "$tmp/err")"
  total=$(ms_since "$t0")
  [[ $("$stack" -p "$project" ps -q | wc -l) == "$n" ]] || die "stack: not $n running: $("$stack" -p "$project" ps -a)"
  echo "$total" >>"$tmp/stack.$n.$2"
  # t0 -> first created -> last started (ms since the epoch in state.json)
  python3 - "$STACK_ROOT/projects/$project/state.json" "$((t0 / 1000000))" "$total" <<'PY' >>"$tmp/split.$n.$2"
import json, os, sys
c = json.load(open(sys.argv[1]))["containers"]
t0, total = int(sys.argv[2]), int(sys.argv[3])
created = min(x["created"] for x in c) - t0
started = max(x["started"] for x in c) - t0
# CPU time each VM's QEMU has used by now: boots are CPU-bound under TCG
tck, cpu = os.sysconf("SC_CLK_TCK"), []
for x in c:
    try:
        f = open("/proc/%d/stat" % x["qemu_pid"]).read().rsplit(")", 1)[1].split()
        cpu.append((int(f[11]) + int(f[12])) * 1000 // tck)
    except (OSError, KeyError, ValueError):
        pass
print(created, started - created, total - started, sum(cpu) // max(len(cpu), 1))
PY
  t0=$(now)
  timeout 300 "$stack" -p "$project" down -t 0 >/dev/null 2>"$tmp/err" || die "stack down failed: $(cat "$tmp/err")"
  ms_since "$t0" >>"$tmp/stack-down.$n"
  # The supervisor lingers after `down`, and an `up` meanwhile fails
  # ("another supervisor is already running"): start each run cold.
  local p i
  if p=$(supervisor_pid); then
    for ((i = 0; i < 1500; i++)); do
      kill -0 "$p" 2>/dev/null || break
      sleep 0.02
    done
  fi
}

# docker_once N HEALTHY
docker_once() {
  local n=$1 t0 since line healthy=0
  if [[ $2 == yes ]]; then
    # replayed from `since`, so no event is missed however late it connects
    since=$(date +%s.%N)
    mkfifo "$tmp/events"
    "$BENCH_DOCKER" events --since "$since" --filter type=container --filter event=health_status \
      --filter "label=com.docker.compose.project=$project" --format '{{.Status}}' >"$tmp/events" &
    evpid=$!
    exec 3<"$tmp/events"
  fi
  t0=$(now)
  timeout 600 docker-compose -p "$project" up -d >/dev/null 2>"$tmp/err" ||
    die "docker-compose up -d of $n service(s) failed: $(cat "$tmp/err")"
  if [[ $2 == yes ]]; then
    while ((healthy < n)); do
      read -r -t 120 line <&3 || die "docker: no health event within 120 s ($healthy of $n healthy)"
      [[ $line == "health_status: healthy" ]] && healthy=$((healthy + 1))
    done
  fi
  ms_since "$t0" >>"$tmp/docker.$n.$2"
  if [[ $2 == yes ]]; then
    exec 3<&-
    kill "$evpid" 2>/dev/null || true
    wait "$evpid" 2>/dev/null || true
    evpid=
    rm -f "$tmp/events"
  fi
  [[ $(docker-compose -p "$project" ps -q | wc -l) == "$n" ]] || die "docker: not $n containers"
  t0=$(now)
  timeout 300 docker-compose -p "$project" down -t 0 >/dev/null 2>"$tmp/err" || die "docker-compose down failed: $(cat "$tmp/err")"
  ms_since "$t0" >>"$tmp/docker-down.$n"
}

# --- set-up (not timed) ---
mkdir -p "$app"
bash "$here/tests/images/build.sh" >/dev/null || die "tests/images/build.sh failed"
images=$(bash "$here/tests/images/build.sh" --print-dir)
"$stack" image load -i "$images/busybox.tar" >/dev/null || die "stack image load failed"
bench_docker_start || die "cannot start dockerd"
bench_docker_load_busybox busybox:amd64 || die "cannot import busybox into docker"
cd "$app"

load() { cut -d' ' -f1-3 /proc/loadavg; }
echo "bench_up: $(nproc) CPUs, load average $(load) at start; $runs runs per figure (median)"
echo "  stack: $stack (accelerator $("$stack" system info 2>/dev/null | awk '/^Accelerator:/ { print $2 }'))"
echo "  docker-compose $(docker-compose version --short 2>/dev/null) on docker.io $(bench_docker version --format '{{.Server.Version}}'), overlay2, runc"
echo "  health check of both: [\"CMD\", \"true\"], interval $interval${cpus:+; cpus: $cpus}"

# warm-up, not timed: page cache, first network, python imports
compose_file 1 no >compose.yaml
stack_once 1 no
docker_once 1 no
rm -f "$tmp"/stack.* "$tmp"/docker.* "$tmp"/split.* "$tmp"/*-down.*

for healthy in no yes; do
  for n in $sizes; do
    compose_file "$n" "$healthy" >compose.yaml
    for ((r = 0; r < runs; r++)); do
      stack_once "$n" "$healthy"
      docker_once "$n" "$healthy"
    done
  done
done

# --- report ---
printf '\n%-26s %9s %16s %8s %8s\n' "median, ms" "stack" "docker-compose" "ratio" "target"
for healthy in no yes; do
  for n in $sizes; do
    s=$(median <"$tmp/stack.$n.$healthy")
    d=$(median <"$tmp/docker.$n.$healthy")
    target=-
    [[ $n == 1 ]] && target="<=0.75x"
    [[ $n == 10 ]] && target="<=1.00x"
    label="up, $n service$([[ $n == 1 ]] || echo s) $([[ $healthy == yes ]] && echo healthy || echo running)"
    printf '%-26s %9s %16s %8s %8s\n' "$label" "$s" "$d" "$(awk -v s="$s" -v d="$d" 'BEGIN { printf "%.2fx", s / d }')" "$target"
  done
done
for n in $sizes; do
  printf '%-26s %9s %16s %8s\n' "down -t 0, $n service$([[ $n == 1 ]] || echo s)" "$(median <"$tmp/stack-down.$n")" \
    "$(median <"$tmp/docker-down.$n")" \
    "$(awk -v s="$(median <"$tmp/stack-down.$n")" -v d="$(median <"$tmp/docker-down.$n")" 'BEGIN { printf "%.2fx", s / d }')"
done
echo
echo "stack up, where the time went (medians, ms): command start -> first container created | -> last started | -> command returned;"
echo "  and the CPU time (user+sys) one VM's QEMU had used when up returned (mean over the VMs)"
for healthy in no yes; do
  for n in $sizes; do
    printf '  %-24s %6s | %6s | %6s    CPU per VM %6s\n' "$n service$([[ $n == 1 ]] || echo s) $([[ $healthy == yes ]] && echo healthy || echo running)" \
      "$(cut -d' ' -f1 "$tmp/split.$n.$healthy" | median)" "$(cut -d' ' -f2 "$tmp/split.$n.$healthy" | median)" \
      "$(cut -d' ' -f3 "$tmp/split.$n.$healthy" | median)" "$(cut -d' ' -f4 "$tmp/split.$n.$healthy" | median)"
  done
done
echo "load average $(load) at the end"
