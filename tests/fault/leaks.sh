#!/usr/bin/env bash
# Lists what a stack project left behind on this host, by kind, and exits 1
# if it finds anything (0 if nothing, 2 on bad usage).  Run it after
# `stack down -v`:
#
#   STACK_ROOT=... STACK_RUN_DIR=... tests/fault/leaks.sh [options] PROJECT
#     -n NETWORK    a Compose network key of the project (default: "default")
#     -c CONTAINER  a container name (its taps, one per network)
#     -p PORT       a published host port (TCP or UDP)
#     -q PID        a QEMU pid seen during the test (its cgroup)
#
# Kinds: qemu (a QEMU whose command line names STACK_ROOT), supervisor (the
# project's supervisor still runs), bridge, tap, nft (the project's table),
# socket, lock, dir (the project's directories under both roots, container
# state, per-VM run directories, the project's volumes), port (something
# listens on a published port), cgroup (a VM's cgroup left after its QEMU).
# Names are computed as stack computes them (net/net_names.c), so other
# projects and other stores on the host are never reported.
set -uo pipefail
: "${STACK_ROOT:?set STACK_ROOT}" "${STACK_RUN_DIR:?set STACK_RUN_DIR}"
networks=() containers=() ports=() qpids=()
while getopts n:c:p:q: o; do
  case $o in
  n) networks+=("$OPTARG") ;;
  c) containers+=("$OPTARG") ;;
  p) ports+=("$OPTARG") ;;
  q) qpids+=("$OPTARG") ;;
  *) exit 2 ;;
  esac
done
shift $((OPTIND - 1))
(($# == 1)) || { echo "usage: $0 [-n NET]... [-c CONTAINER]... [-p PORT]... [-q PID]... PROJECT" >&2; exit 2; }
project=$1
((${#networks[@]})) || networks=(default)
leaks=0
leak() { # leak KIND WHAT
  printf 'leak: %-10s %s\n' "$1" "$2"
  leaks=$((leaks + 1))
}

# interface and table names, as net_names.c derives them
names() { # names KIND PARTS...: stkb.../stkt.../stack_...
  python3 - "$STACK_ROOT" "$@" <<'PY'
import hashlib, sys
root, kind, parts = sys.argv[1], sys.argv[2], sys.argv[3:]
h = hashlib.sha256()
for p in [root, kind] + parts:
    h.update(p.encode() + b"\0")
d = h.hexdigest()
print({"bridge": "stkb" + d[:11], "tap": "stkt" + d[:11], "table": "stack_" + d[:12]}[kind])
PY
}

# processes
for p in $(pgrep -f -- "qemu-system" 2>/dev/null); do
  tr '\0' ' ' <"/proc/$p/cmdline" 2>/dev/null | grep -qF -- "$STACK_ROOT/" &&
    leak qemu "pid $p: $(tr '\0' ' ' <"/proc/$p/cmdline" | cut -c1-120)"
done
for p in $(pgrep -f -- " supervisor $project\$" 2>/dev/null); do
  tr '\0' '\n' <"/proc/$p/environ" 2>/dev/null | grep -qxF "STACK_ROOT=$STACK_ROOT" &&
    leak supervisor "pid $p"
done

# network
for n in "${networks[@]}"; do
  br=$(names bridge "$project" "$n")
  ip link show "$br" >/dev/null 2>&1 && leak bridge "$br (network $n)"
  for c in "${containers[@]}"; do
    tap=$(names tap "$project" "$n" "$c")
    ip link show "$tap" >/dev/null 2>&1 && leak tap "$tap ($c on $n)"
  done
done
table=$(names table "$project")
nft list table inet "$table" >/dev/null 2>&1 && leak nft "inet $table"
for port in "${ports[@]}"; do
  out=$(ss -Hlntu "( sport = :$port )" 2>/dev/null)
  [[ -n $out ]] && leak port "$port: $out"
done

# files
while IFS= read -r f; do leak socket "$f"; done < <(find "$STACK_RUN_DIR" -type s 2>/dev/null)
while IFS= read -r f; do leak lock "$f"; done < <(find "$STACK_RUN_DIR" "$STACK_ROOT/projects" -name '*.lock' 2>/dev/null)
for d in "$STACK_ROOT/projects/$project" "$STACK_RUN_DIR/projects/$project"; do
  [[ -e $d ]] && leak dir "$d: $(ls -A "$d" 2>/dev/null | tr '\n' ' ')"
done
while IFS= read -r d; do leak dir "$d"; done < <(find "$STACK_ROOT/containers" -mindepth 1 -maxdepth 1 2>/dev/null)
while IFS= read -r d; do leak dir "$d"; done < <(find "$STACK_RUN_DIR" -mindepth 1 -maxdepth 1 -regextype egrep -regex '.*/[0-9a-f]{12}' 2>/dev/null)
while IFS= read -r d; do leak dir "$d"; done < <(find "$STACK_ROOT/volumes" -mindepth 1 -maxdepth 1 -name "${project}_*" 2>/dev/null)

# cgroups of the VMs seen
cg=${STACK_CGROUP:-/sys/fs/cgroup/stack}
for p in "${qpids[@]}"; do
  [[ -d $cg/vm-$p ]] && ! [[ -e /proc/$p ]] && leak cgroup "$cg/vm-$p"
done

((leaks == 0)) || { echo "$leaks leak(s) of project $project under $STACK_ROOT / $STACK_RUN_DIR" >&2; exit 1; }
exit 0
