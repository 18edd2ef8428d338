#!/usr/bin/env bash
# Networks after a crash: the supervisor is killed (SIGKILL) with its VMs
# still running, then `down` (a new supervisor adopts the VMs, stops them)
# removes the bridge, taps, nftables table and port listener the dead one
# made; then the same with the VMs killed too (nothing to adopt: the new
# supervisor removes the leftovers when it starts).  And a new supervisor's
# `up` serves the adopted VMs' published ports again, on the same taps.
set -euo pipefail
. "$STACK_SOURCE_DIR/tests/lib/up.sh"
command -v nft >/dev/null || { echo "SKIP: nft is not installed"; exit 77; }
up_test_init net-crash

project=netcr$$
port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
cat >compose.yaml <<YAML
name: $project
services:
  web:
    image: busybox:amd64
    command: httpd -f -p 8080
    ports: ["127.0.0.1:$port:8080"]
YAML

state=$STACK_ROOT/projects/$project/network.json
lock=$STACK_RUN_DIR/projects/$project/supervisor.lock

# Lists what the network state names: "link NAME" and "table NAME" lines.
made() {
  python3 - "$1" <<'PY'
import json, sys
st = json.load(open(sys.argv[1]))
for n in st.get("bridges", []) + st.get("taps", []):
    print("link", n)
if st.get("table"):
    print("table", st["table"])
PY
}

check_gone() {
  local kind name
  while read -r kind name; do
    case $kind in
      link) ! ip link show dev "$name" >/dev/null 2>&1 || fail "$1: interface $name is left" ;;
      table) ! nft list tables 2>/dev/null | grep -qw "$name" || fail "$1: nftables table $name is left" ;;
    esac
  done <"$tmp/made"
  [[ ! -e $state ]] || fail "$1: $state is left"
}

crash() { # $1: also kill the VMs
  timeout 300 "$STACK" up -d 2>"$tmp/err" >/dev/null || fail "up: $(cat "$tmp/err")"
  [[ -s $state ]] || fail "no network state"
  made "$state" >"$tmp/made"
  grep -q "^link" "$tmp/made" || fail "no bridge or tap in $(cat "$state")"
  local sup
  sup=$(cat "$lock")
  grep -qa supervisor "/proc/$sup/cmdline" || fail "supervisor $sup is not running"
  kill -9 "$sup"
  local i
  for ((i = 0; i < 100; i++)); do [[ -e /proc/$sup ]] || break; sleep 0.05; done
  if [[ $1 == vms ]]; then
    local qemu
    qemu=$(pgrep -f -- "-name guest=$project-web-1 " || true)
    [[ -n $qemu ]] || fail "no VM for $project-web-1"
    kill -9 $qemu
    for ((i = 0; i < 100; i++)); do pgrep -f -- "-name guest=$project-web-1 " >/dev/null || break; sleep 0.05; done
  fi
  timeout 120 "$STACK" down -t 0 2>"$tmp/err" >/dev/null || fail "down after a crash: $(cat "$tmp/err")"
  check_gone "down after a crash ($1)"
  ! ss -Hltn "sport = :$port" | grep -q . || fail "a listener on $port is left"
}

# a new supervisor adopting the VMs serves their published ports again
timeout 300 "$STACK" up -d 2>"$tmp/err" >/dev/null || fail "up: $(cat "$tmp/err")"
made "$state" >"$tmp/made0"
sup=$(cat "$lock")
kill -9 "$sup"
for ((i = 0; i < 100; i++)); do [[ -e /proc/$sup ]] || break; sleep 0.05; done
timeout 300 "$STACK" up -d 2>"$tmp/err" >/dev/null || fail "up after a crash: $(cat "$tmp/err")"
for ((i = 0; i < 60; i++)); do
  [[ $(curl -s -m 3 -o /dev/null -w "%{http_code}" "http://127.0.0.1:$port/") == 404 ]] && break
  sleep 0.5
done
((i < 60)) || fail "the published port does not answer after the supervisor was replaced"
made "$state" | cmp -s - "$tmp/made0" || fail "adopting changed the bridge or taps: $(cat "$state")"
timeout 120 "$STACK" down -t 0 2>"$tmp/err" >/dev/null || fail "down: $(cat "$tmp/err")"
mv "$tmp/made0" "$tmp/made"
check_gone "down after adopting"

crash supervisor
crash vms
echo PASS
