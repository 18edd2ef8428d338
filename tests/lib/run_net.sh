# stack run's default network of this STACK_ROOT (net/run_network.h), for
# tests and benchmarks that run `stack run IMAGE` (source it; safe under
# set -euo pipefail):
#   run_net_leftovers   what <data root>/run-network/network.json names and
#                       the host still has: "bridge NAME", "tap NAME",
#                       "table NAME" lines (empty when nothing is left)
#   run_net_remove      removes all of it (the network stays after the last
#                       run, as docker0 does: a test's trap removes it)
run_net_leftovers() {
  local d=$STACK_ROOT/run-network kind name list
  [[ -f $d/network.json ]] || return 0
  list=$(python3 -c 'import json,sys; j=json.load(open(sys.argv[1]))
for b in j.get("bridges") or []: print("bridge", b)
for t in j.get("taps") or []: print("tap", t)
if j.get("table"): print("table", j["table"])' "$d/network.json") || return 0
  while read -r kind name; do
    if [[ $kind == table ]]; then
      if nft list table inet "$name" &>/dev/null; then echo "table $name"; fi
    elif [[ -n $name ]] && ip link show "$name" &>/dev/null; then
      echo "$kind $name"
    fi
  done <<<"$list"
  return 0
}

run_net_remove() {
  local kind name list
  [[ -n ${STACK_ROOT:-} ]] || return 0
  list=$(run_net_leftovers)
  while read -r kind name; do
    case $kind in
      bridge|tap) ip link del "$name" 2>/dev/null || true ;;
      table) nft delete table inet "$name" 2>/dev/null || true ;;
    esac
  done <<<"$list"
  return 0
}
