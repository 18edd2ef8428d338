# shellcheck shell=bash
# Debian's docker.io daemon, started by hand for a side-by-side benchmark, in a
# private temporary directory so that it never meets another daemon, the
# host's /var/lib/docker or /var/run/docker.sock (source it):
#
#   bench_docker_start [DIR]   start dockerd (overlay2, cgroupfs, no iptables,
#                              no masquerading, no ip_forward change, no
#                              default bridge) with its data root, exec root,
#                              socket, config file and cgroup parent under DIR
#                              (default: a new /tmp/sbd.XXXXXX); export
#                              DOCKER_HOST; put bench_docker_stop in front of
#                              the EXIT trap already set (so the caller's
#                              cleanup runs after the daemon is gone and
#                              DOCKER_HOST unset), make INT and TERM exit.
#                              Call it in the main shell, not in $(...).
#                              Returns 1 (with a message) if dockerd is not
#                              installed or does not come up.
#   bench_docker ARGS...       Debian's docker client (not whatever other
#                              `docker` is first on PATH) on that daemon
#   bench_docker_load_busybox [REF]
#                              import the offline busybox test image
#                              (tests/images/build.sh, amd64 manifest: its one
#                              layer with its Env and Cmd) as REF (default
#                              busybox:amd64), without network
#   bench_docker_stop          remove every container, stop the daemon (and its
#                              containerd and shims), unmount what it left,
#                              delete its bridges and cgroups and DIR.
#                              Idempotent; safe to call from your own trap.
#
# Needs: docker.io (dockerd, docker), python3 (reads the OCI layout).

BENCH_DOCKER=${BENCH_DOCKER:-/usr/bin/docker}
BENCH_DOCKER_DIR=
BENCH_DOCKER_PID=
_bd_src=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)

bench_docker() { "$BENCH_DOCKER" "$@"; }

bench_docker_start() {
  if ! command -v dockerd >/dev/null || [[ ! -x $BENCH_DOCKER ]]; then
    echo "bench_docker_start: dockerd or $BENCH_DOCKER missing (apt-get install docker.io)" >&2
    return 1
  fi
  # short: containerd's socket lives under the exec root (108-byte limit)
  BENCH_DOCKER_DIR=${1:-$(mktemp -d /tmp/sbd.XXXXXX)}
  mkdir -p "$BENCH_DOCKER_DIR"
  local d=$BENCH_DOCKER_DIR prev
  # our stop runs first, then whatever the caller had installed
  eval "set -- $(trap -p EXIT)"
  prev=${3:-}
  # shellcheck disable=SC2064 # the previous trap, as it is now
  trap "bench_docker_stop; $prev" EXIT
  trap 'exit 130' INT
  trap 'exit 143' TERM
  echo '{}' >"$d/daemon.json" # not the host's /etc/docker/daemon.json
  dockerd --config-file "$d/daemon.json" --data-root "$d/data" --exec-root "$d/x" \
    -H "unix://$d/docker.sock" --pidfile "$d/docker.pid" \
    --storage-driver overlay2 --exec-opt native.cgroupdriver=cgroupfs \
    --cgroup-parent "/${d##*/}" --iptables=false --ip-masq=false --ip-forward=false \
    --bridge=none >"$d/dockerd.log" 2>&1 &
  BENCH_DOCKER_PID=$!
  export DOCKER_HOST=unix://$d/docker.sock
  local i
  for ((i = 0; i < 300; i++)); do
    bench_docker version >/dev/null 2>&1 && return 0
    if ! kill -0 "$BENCH_DOCKER_PID" 2>/dev/null; then
      echo "bench_docker_start: dockerd exited: $(tail -5 "$d/dockerd.log")" >&2
      return 1
    fi
    sleep 0.1
  done
  echo "bench_docker_start: dockerd not answering after 30 s: $(tail -5 "$d/dockerd.log")" >&2
  return 1
}

bench_docker_load_busybox() {
  local ref=${1:-busybox:amd64} images out line
  local -a lines change=()
  bash "$_bd_src/tests/images/build.sh" >/dev/null || return 1
  images=$(bash "$_bd_src/tests/images/build.sh" --print-dir)
  # line 1: the layer blob; then one `docker import --change` per line
  out=$(python3 - "$images/busybox" amd64 <<'PY'
import json, sys
d, tag = sys.argv[1], sys.argv[2]
blob = lambda dg: d + "/blobs/" + dg.replace(":", "/")
idx = json.load(open(d + "/index.json"))
m = next(m for m in idx["manifests"]
         if m.get("annotations", {}).get("org.opencontainers.image.ref.name") == tag)
man = json.load(open(blob(m["digest"])))
assert len(man["layers"]) == 1, "busybox:%s has %d layers" % (tag, len(man["layers"]))
cfg = json.load(open(blob(man["config"]["digest"]))).get("config", {})
print(blob(man["layers"][0]["digest"]))
for e in cfg.get("Env") or []:
    print("ENV " + e.replace("=", " ", 1))
if cfg.get("Cmd"):
    print("CMD " + json.dumps(cfg["Cmd"]))
if cfg.get("WorkingDir"):
    print("WORKDIR " + cfg["WorkingDir"])
PY
  ) || { echo "bench_docker_load_busybox: cannot read $images/busybox" >&2; return 1; }
  mapfile -t lines <<<"$out"
  local layer=${lines[0]}
  for line in "${lines[@]:1}"; do change+=(--change "$line"); done
  [[ -f $layer ]] || { echo "bench_docker_load_busybox: no amd64 layer in $images/busybox" >&2; return 1; }
  bench_docker import "${change[@]}" "$layer" "$ref" >/dev/null
}

bench_docker_stop() {
  # runs from traps, possibly under set -e: nothing here may abort it
  local d=$BENCH_DOCKER_DIR pid=$BENCH_DOCKER_PID i p c ids
  local -a bridges=()
  [[ -n $d ]] || return 0
  if [[ -n $pid ]] && kill -0 "$pid" 2>/dev/null; then
    ids=$(bench_docker ps -aq 2>/dev/null) || true
    if [[ -n $ids ]]; then bench_docker rm -f $ids >/dev/null 2>&1 || true; fi
    for i in $(bench_docker network ls -q --filter driver=bridge 2>/dev/null || true); do bridges+=("br-$i"); done
    kill "$pid" 2>/dev/null || true
    for ((i = 0; i < 200; i++)); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
    kill -9 "$pid" 2>/dev/null || true
    wait "$pid" 2>/dev/null || true
  fi
  # containerd and shims it may have left: only those naming our directory
  for p in /proc/[0-9]*; do
    if tr '\0' ' ' 2>/dev/null <"$p/cmdline" | grep -qF "$d/"; then kill -9 "${p#/proc/}" 2>/dev/null || true; fi
  done
  # deepest first: overlay mounts, netns bind mounts, shm
  for p in $(awk -v d="$d/" 'index($5, d) == 1 { print $5 }' /proc/self/mountinfo | sort -r); do
    umount -l "$p" 2>/dev/null || true
  done
  for i in "${bridges[@]}"; do
    if [[ -e /sys/class/net/$i ]]; then ip link del "$i" 2>/dev/null || true; fi
  done
  for c in /sys/fs/cgroup/*/"${d##*/}"; do
    if [[ -d $c ]]; then find "$c" -depth -type d -exec rmdir {} + 2>/dev/null || true; fi
  done
  rm -rf "$d" || true
  BENCH_DOCKER_DIR='' BENCH_DOCKER_PID=''
  unset DOCKER_HOST
}
