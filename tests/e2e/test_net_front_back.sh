#!/usr/bin/env bash
# Networks with real VMs and bridges (issue 5's acceptance): networks front
# and back; web (front+back, busybox httpd on 8080, published on a random
# free host port), api (back, httpd), proxy (front).  A table of (from,
# name, expected) drives name resolution, aliases on back resolve only from
# back; HTTP by name works where a network is shared and api's address is
# unreachable from proxy; the published port answers curl on the host and
# `stack port` reports it; `down` leaves no bridge, tap, nftables table or
# listening proxy socket.  Also resolv.conf (dns_search, dns_opt),
# extra_hosts, and no default route on an internal network.
set -euo pipefail
. "$STACK_SOURCE_DIR/tests/lib/up.sh"
command -v curl >/dev/null || { echo "SKIP: curl is not installed"; exit 77; }
command -v nft >/dev/null || { echo "SKIP: nft is not installed"; exit 77; }
up_test_init net-fb

# a few tries for servers that may still be starting in their VM
retry() {
  local i
  for ((i = 0; i < 30; i++)); do
    "$@" && return 0
    sleep 0.5
  done
  return 1
}

project=netfb$$
port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
httpd='mkdir -p /www && echo "hello from $$(hostname)" >/www/index.html && exec httpd -f -p 8080 -h /www'
cat >compose.yaml <<YAML
name: $project
services:
  web:
    image: busybox:amd64
    hostname: web
    command: sh -c '$httpd'
    networks:
      front: {}
      back:
        aliases: [web-back]
    ports:
      - "127.0.0.1:$port:8080"
  api:
    image: busybox:amd64
    hostname: api
    command: sh -c '$httpd'
    networks:
      back:
        aliases: [api-alias]
  proxy:
    image: busybox:amd64
    command: sleep 100000
    networks: [front]
    dns_search: [example.test]
    dns_opt: [ndots:2]
    extra_hosts: ["fixed.test=192.0.2.7"]
networks:
  front: {}
  back:
    internal: true
YAML

timeout 300 "$STACK" up -d 2>"$tmp/err" >/dev/null || fail "up: $(cat "$tmp/err")"

state=$STACK_ROOT/projects/$project/network.json
[[ -s $state ]] || fail "no network state at $state"
cp "$state" "$tmp/network.json"

# (from, name, expected): expected "ok" resolves, "fail" must not.  Names
# are asked as absolute ("web."): busybox nslookup does not fall back from
# the search domain to the bare name.
table=(
  "proxy web ok"
  "proxy $project-web-1 ok"
  "proxy api fail"
  "proxy api-alias fail"
  "proxy web-back fail"
  "api web ok"
  "api web-back ok"
  "api api-alias ok"
  "web api ok"
  "web api-alias ok"
  "web proxy ok"
  "api proxy fail"
)
for row in "${table[@]}"; do
  read -r from name expected <<<"$row"
  if out=$(timeout 30 "$STACK" exec "$from" nslookup "$name." 2>&1) && grep -q "^Address.*: *[0-9]" <<<"$(sed -n '/^Name:/,$p' <<<"$out")"; then
    got=ok
  else
    got=fail
  fi
  [[ $got == "$expected" ]] || fail "from $from, nslookup $name: expected $expected, got $got: $out"
done

# resolv.conf: the gateway's DNS server and the service's search and
# options; extra_hosts in /etc/hosts and in DNS
conf=$("$STACK" exec proxy cat /etc/resolv.conf)
grep -q "^nameserver 172\.\|^nameserver [0-9.]*$" <<<"$conf" || fail "resolv.conf: $conf"
grep -qx "search example.test" <<<"$conf" || fail "resolv.conf search: $conf"
grep -qx "options ndots:2" <<<"$conf" || fail "resolv.conf options: $conf"
"$STACK" exec proxy cat /etc/hosts | grep -q "^192\.0\.2\.7[[:space:]]*fixed\.test$" || fail "/etc/hosts: $("$STACK" exec proxy cat /etc/hosts)"
"$STACK" exec proxy nslookup fixed.test. | sed -n "/^Name:/,\$p" | grep -q "^Address: 192.0.2.7" || fail "nslookup fixed.test from proxy"
# back is internal: api (only on back) has no default route, web's is on front
! "$STACK" exec api ip route | grep -q "^default" || fail "api has a default route on an internal network"
"$STACK" exec web ip route | grep -q "^default via .* dev eth0" || fail "web's default route: $("$STACK" exec web ip route)"

# HTTP by name across a shared network (httpd may still be starting)
retry eval 'timeout 20 "$STACK" exec proxy timeout 3 wget -O - http://web:8080/ 2>/dev/null | grep -q "hello from web"' ||
  fail "proxy cannot fetch http://web:8080/"
retry eval 'timeout 20 "$STACK" exec web timeout 3 wget -O - http://api:8080/ 2>/dev/null | grep -q "hello from api"' ||
  fail "web cannot fetch http://api:8080/"

# api's address is not reachable from proxy (isolation, not only DNS)
api_ip=$("$STACK" exec api ip -4 -o addr show eth0 | sed -n 's/.* inet \([0-9.]*\)\/.*/\1/p')
[[ $api_ip =~ ^[0-9.]+$ ]] || fail "api address: $api_ip"
if timeout 30 "$STACK" exec proxy timeout 3 wget -O - "http://$api_ip:8080/" >/dev/null 2>&1; then
  fail "proxy reached api at $api_ip across networks"
fi

# the published port from the host
retry eval 'curl -fsS -m 3 "http://127.0.0.1:$port/" 2>/dev/null | grep -q "hello from web"' ||
  fail "curl http://127.0.0.1:$port/ did not reach web"
[[ $("$STACK" port web 8080) == "127.0.0.1:$port" ]] || fail "stack port web 8080: $("$STACK" port web 8080 2>&1)"
"$STACK" ps web | grep -q "127\.0\.0\.1:$port->8080/tcp" || fail "ps PORTS: $("$STACK" ps web)"
"$STACK" ps --format json web | python3 -c '
import json, sys
row = json.loads(sys.stdin.readline())
assert row["Publishers"] == [{"URL": "127.0.0.1", "TargetPort": 8080, "PublishedPort": int(sys.argv[1]), "Protocol": "tcp"}], row
' "$port" || fail "ps --format json Publishers: $("$STACK" ps --format json web)"

timeout 120 "$STACK" down -t 0 2>"$tmp/err" >/dev/null || fail "down: $(cat "$tmp/err")"
[[ ! -e $state ]] || fail "down left $state"
python3 - "$tmp/network.json" >"$tmp/made" <<'PY'
import json, sys
st = json.load(open(sys.argv[1]))
def walk(v):
    if isinstance(v, dict):
        for k, x in v.items():
            if k in ("bridges", "taps") and isinstance(x, (list, dict)):
                for n in x:
                    print("link", n)
            elif k == "table" and isinstance(x, str):
                print("table", x)
            else:
                walk(x)
    elif isinstance(v, list):
        for x in v:
            walk(x)
walk(st)
PY
grep -q "^link" "$tmp/made" || fail "network state lists no bridge or tap: $(cat "$tmp/network.json")"
while read -r kind name; do
  case $kind in
    link) ! ip link show dev "$name" >/dev/null 2>&1 || fail "down left interface $name" ;;
    table) ! nft list tables 2>/dev/null | grep -qw "$name" || fail "down left nftables table $name" ;;
  esac
done <"$tmp/made"
! ss -Hltn "sport = :$port" | grep -q . || fail "down left a listener on port $port"
echo "PASS"
