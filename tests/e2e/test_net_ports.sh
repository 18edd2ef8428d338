#!/usr/bin/env bash
# Published ports and isolation between projects, with real VMs: a TCP port
# published on a random host port (`stack port` reports it, curl reaches
# busybox httpd in the VM), a UDP port (datagrams sent to the host port
# arrive in the VM); a second project started at the same time with the
# same network name gets its own bridge and cannot reach the first; a host
# port already in use is a clear error before any VM starts; `down` removes
# the listeners.
set -euo pipefail
. "$STACK_SOURCE_DIR/tests/lib/up.sh"
command -v curl >/dev/null || { echo "SKIP: curl is not installed"; exit 77; }
up_test_init net-ports

retry() {
  local i
  for ((i = 0; i < 30; i++)); do
    "$@" && return 0
    sleep 0.5
  done
  return 1
}
free_port() {
  python3 -c 'import socket,sys; s=socket.socket(socket.AF_INET, getattr(socket, sys.argv[1])); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])' "$1"
}

a=netpa$$ b=netpb$$ c=netpc$$
app_b=$tmp/app-b app_c=$tmp/app-c
mkdir -p "$app_b" "$app_c"
cleanup_more() {
  local d
  for d in "$app_b" "$app_c"; do
    [[ -d $d ]] && (cd "$d" && timeout 60 "$STACK" down -t 0 >/dev/null 2>&1) || true
  done
  [[ -n ${holder:-} ]] && kill "$holder" 2>/dev/null || true
  _up_cleanup
}
trap cleanup_more EXIT

uport=$(free_port SOCK_DGRAM)
cat >compose.yaml <<YAML
name: $a
services:
  web:
    image: busybox:amd64
    command:
      - sh
      - -c
      - |
        mkdir -p /www && echo hello-a >/www/index.html && exec httpd -f -p 8080 -h /www
    ports:
      - "8080"
      - "127.0.0.1:$uport:9999/udp"
YAML
# project b, started at the same time: the same network name (default),
# its own bridge, no way to a
cat >"$app_b/compose.yaml" <<YAML
name: $b
services:
  probe:
    image: busybox:amd64
    command: sleep 100000
YAML
timeout 300 "$STACK" up -d 2>"$tmp/err" >/dev/null &
up_a=$!
(cd "$app_b" && timeout 300 "$STACK" up -d 2>"$tmp/err-b" >/dev/null) || fail "up b: $(cat "$tmp/err-b")"
wait "$up_a" || fail "up: $(cat "$tmp/err")"

hp=$("$STACK" port web 8080) || fail "stack port web 8080"
[[ $hp =~ ^0\.0\.0\.0:[0-9]+$ ]] || fail "stack port web 8080: $hp"
tport=${hp##*:}
retry eval 'curl -fsS -m 3 "http://127.0.0.1:$tport/" 2>/dev/null | grep -q hello-a' ||
  fail "curl http://127.0.0.1:$tport/ did not reach web"
[[ $("$STACK" port --protocol udp web 9999) == "127.0.0.1:$uport" ]] || fail "stack port udp"
# busybox has no UDP server: the guest kernel counts datagrams to a closed
# port (Udp NoPorts), which shows that they arrived
udp_noports() { "$STACK" exec web cat /proc/net/snmp | awk '/^Udp:/ {n++} /^Udp:/ && n == 2 {print $3}'; }
before=$(udp_noports)
[[ $before =~ ^[0-9]+$ ]] || fail "Udp NoPorts in the guest: $before"
udp_arrives() {
  python3 -c 'import socket,sys; socket.socket(socket.AF_INET, socket.SOCK_DGRAM).sendto(b"ping\n", ("127.0.0.1", int(sys.argv[1])))' "$uport"
  (( $(udp_noports) > before ))
}
# UDP may drop a datagram (the guest answers each with an ICMP error): a
# few tries
retry udp_arrives || fail "UDP datagrams to 127.0.0.1:$uport did not reach the VM (NoPorts $before -> $(udp_noports))"
a_ip=$("$STACK" exec web ip -4 -o addr show eth0 | sed -n 's/.* inet \([0-9.]*\)\/.*/\1/p')
[[ $a_ip =~ ^[0-9.]+$ ]] || fail "web's address: $a_ip"

bridges() { python3 -c 'import json,sys; print(" ".join(json.load(open(sys.argv[1]))["bridges"]))' "$STACK_ROOT/projects/$1/network.json"; }
br_a=$(bridges "$a") br_b=$(bridges "$b")
[[ -n $br_a && -n $br_b && $br_a != "$br_b" ]] || fail "bridges: a=$br_a b=$br_b"
if (cd "$app_b" && timeout 30 "$STACK" exec probe timeout 3 wget -O - "http://$a_ip:8080/" >/dev/null 2>&1); then
  fail "project b reached project a at $a_ip"
fi

# a host port in use: refused before the VM starts, naming the port
python3 -c 'import socket,time; s=socket.socket(); s.bind(("127.0.0.1",0)); s.listen(); print(s.getsockname()[1], flush=True); time.sleep(600)' >"$tmp/held" &
holder=$!
retry test -s "$tmp/held" || fail "no port holder"
held=$(cat "$tmp/held")
cat >"$app_c/compose.yaml" <<YAML
name: $c
services:
  busy:
    image: busybox:amd64
    command: sleep 100000
    ports: ["127.0.0.1:$held:80"]
YAML
if (cd "$app_c" && timeout 300 "$STACK" up -d >/dev/null 2>"$tmp/err"); then
  fail "up with port $held in use succeeded"
fi
grep -q "$held" "$tmp/err" || fail "the error does not name port $held: $(cat "$tmp/err")"
! pgrep -f -- "-name guest=$c-busy-1 " >/dev/null || fail "a VM started although its port is in use"

timeout 120 "$STACK" down -t 0 >/dev/null 2>&1 || fail "down a"
! ss -Hltn "sport = :$tport" | grep -q . || fail "down left a TCP listener on $tport"
! ss -Hlun "sport = :$uport" | grep -q . || fail "down left a UDP socket on $uport"
for br in $br_a; do
  ! ip link show dev "$br" >/dev/null 2>&1 || fail "down left bridge $br"
done
ip link show dev "$br_b" >/dev/null 2>&1 || fail "down of a removed b's bridge $br_b"
echo PASS
