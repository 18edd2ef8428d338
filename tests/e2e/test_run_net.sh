#!/usr/bin/env bash
# `stack run IMAGE`'s network, as `docker run` gives it: an address and a
# default route on stack run's default network, the way out through NAT
# (to a server in a network namespace behind the host, which sees the
# host's address), DNS from the host's resolv.conf (a private mount
# namespace gives stack run a resolv.conf naming a dnsmasq in that
# namespace), --dns/--dns-search/--dns-option, --add-host (host-gateway
# too), -p (tcp, udp, a random host port), -P, --network none, and
# nothing left on the host: after the last run, and after a run killed
# with SIGKILL once the next run reaped it.  Also `stack run NAME` where a
# Compose file applies: `no such service`, and `stack container run`.
set -uo pipefail
src=${STACK_SOURCE_DIR:-$(dirname "$0")/../..}
. "$src/tests/lib/run_env.sh"
run_test_init run_net
for t in ip nft dnsmasq unshare ss curl; do
  command -v $t >/dev/null || { echo "SKIP: $t not installed"; exit 77; }
done
run() { timeout 120 "$STACK_BIN" run --rm "$@"; }
free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'; }
free_udp_port() { python3 -c 'import socket; s=socket.socket(type=socket.SOCK_DGRAM); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'; }

# A network namespace behind the host, on a point-to-point veth link in
# 198.18.0.0/15 (the benchmarking range): a server there is reached from a
# guest only through the host's forwarding and masquerade.
id=$$
ns=stkrn$id
vh=rnh$id  # not stk*: stack drops what its bridges route to stk* links
n3=$((id % 250 + 1))
host_ip=198.19.$n3.1 ns_ip=198.19.$n3.2
cleanup_ns() {
  [[ -n ${dns_pid:-} ]] && kill "$dns_pid" 2>/dev/null
  [[ -n ${http_pid:-} ]] && kill "$http_pid" 2>/dev/null
  ip netns del "$ns" 2>/dev/null
  ip link del "$vh" 2>/dev/null
  _run_test_cleanup
}
trap cleanup_ns EXIT
ip netns add "$ns" || { echo "FAIL: ip netns add"; exit 1; }
ip link add "$vh" type veth peer name eth0 netns "$ns" || { echo "FAIL: veth"; exit 1; }
ip addr add "$host_ip/30" dev "$vh" && ip link set "$vh" up
ip -n "$ns" addr add "$ns_ip/30" dev eth0 && ip -n "$ns" link set eth0 up && ip -n "$ns" link set lo up
mkdir -p "$tmp/www" && echo from-outside >"$tmp/www/hello.txt"
http_port=$(free_port)
ip netns exec "$ns" python3 -m http.server "$http_port" --bind "$ns_ip" --directory "$tmp/www" \
  2>"$tmp/http.log" >/dev/null &
http_pid=$!
ip netns exec "$ns" dnsmasq --keep-in-foreground --no-resolv --no-hosts --bind-interfaces \
  --listen-address="$ns_ip" --pid-file="$tmp/dnsmasq.pid" --log-facility=- --log-queries \
  --address=/web.test.example/"$ns_ip" 2>"$tmp/dns.log" &
dns_pid=$!

tree=$tmp/tree
. "$src/tests/lib/busybox_tree.sh"
busybox_tree "$tree"
# busybox has no UDP server: a static one that echoes one datagram back
cat >"$tmp/udpecho.c" <<'EOF'
#include <arpa/inet.h>
#include <stdio.h>
#include <stdlib.h>
int main(int argc, char **argv) {
  int s = socket(AF_INET, SOCK_DGRAM, 0);
  struct sockaddr_in a = {.sin_family = AF_INET, .sin_port = htons(atoi(argv[1]))}, p;
  socklen_t pl = sizeof p;
  char b[512];
  if (argc < 2 || bind(s, (struct sockaddr *)&a, sizeof a) < 0) return 1;
  ssize_t n = recvfrom(s, b, sizeof b, 0, (struct sockaddr *)&p, &pl);
  if (n < 0) return 1;
  sendto(s, b, (size_t)n, 0, (struct sockaddr *)&p, pl);
  printf("got %.*s\n", (int)n, b);
  return 0;
}
EOF
cc -static -O2 -o "$tree/bin/udpecho" "$tmp/udpecho.c" || { echo "FAIL: cc -static udpecho"; exit 1; }
img=run-net:latest
"$STACK_BIN" image import "$tree" "$img" >/dev/null || { echo "FAIL: image import"; exit 1; }
"$STACK_BIN" image import -c 'EXPOSE 8080' -c 'EXPOSE 9090/udp' "$tree" run-net:exposed >/dev/null ||
  { echo "FAIL: image import with EXPOSE"; exit 1; }

# What runs hold: leases, and taps a QEMU has open (a tap has carrier
# then).  The network and the free taps stay for the next run, as docker0.
run_net_busy() {
  ls "$STACK_ROOT/run-network/leases/" 2>/dev/null | sed 's/^/lease /'
  run_net_leftovers | while read -r kind name; do
    [[ $kind == tap && $(cat "/sys/class/net/$name/carrier" 2>/dev/null) == 1 ]] && echo "held tap $name"
  done
}

# An address, a default route through the bridge's address, and nothing
# held after the run.
out=$(run "$img" sh -c 'ip -4 -o addr show eth0; ip route; cat /etc/resolv.conf' 2>"$tmp/err")
rc=$?
[[ $rc == 0 ]] || fail "default network: rc=$rc $(cat "$tmp/err")"
addr=$(sed -n 's/.* inet \([0-9.]*\)\/24 .*/\1/p' <<<"$out")
gw=$(sed -n 's/^default via \([0-9.]*\) dev eth0.*/\1/p' <<<"$out")
[[ -n $addr && -n $gw && ${addr%.*} == "${gw%.*}" ]] ||
  fail "default network: no address or default route: $out"
want=$(python3 - <<'PY'
import ipaddress
servers=[]
for l in open("/etc/resolv.conf"):
    w=l.split()
    if len(w) >= 2 and w[0] == "nameserver":
        try:
            a=ipaddress.ip_address(w[1])
        except ValueError:
            continue
        if a.version == 4 and not a.is_loopback:
            servers.append(w[1])
print(" ".join(servers or ["8.8.8.8", "8.8.4.4"]))
PY
)
got=$(sed -n 's/^nameserver //p' <<<"$out" | tr '\n' ' ')
[[ $got == "$want " ]] || fail "resolv.conf from the host's: got '$got', want '$want'"
left=$(run_net_busy)
[[ -z $left ]] || fail "held after the run: $left"
left=$(run_net_leftovers)
[[ $left == *bridge* && $left == *table* ]] || fail "the default network is not kept: $left"
bridge=$(run_net_leftovers | sed -n 's/^bridge //p')
[[ $(ip -4 -o addr show "$bridge" | awk '{print $4}') == "$gw/24" ]] ||
  fail "the bridge does not hold the gateway $gw: $(ip -4 -o addr show "$bridge")"

# The way out: NAT to a server the guest can only reach through the host;
# it sees the host's address, not the guest's.
# (busybox's wget crashes when built static with glibc: nc)
out=$(run "$img" sh -c "printf 'GET /hello.txt HTTP/1.0\r\n\r\n' | nc $ns_ip $http_port" 2>&1)
[[ $(tail -1 <<<"$out") == from-outside ]] || fail "NAT: got '$out'"
grep -q "^$host_ip .*GET /hello.txt" "$tmp/http.log" ||
  fail "NAT: the server did not see the host's address: $(cat "$tmp/http.log")"

# DNS through the resolv.conf the guest got: the host's, minus the
# nameserver on localhost, with its search domain and options.
printf 'nameserver 127.0.0.1\nnameserver %s\nsearch test.example\noptions ndots:1\n' "$ns_ip" >"$tmp/resolv.conf"
out=$(unshare -m sh -c 'mount --bind "$1" /etc/resolv.conf && shift && exec "$@"' sh "$tmp/resolv.conf" \
  timeout 120 "$STACK_BIN" run --rm "$img" sh -c 'cat /etc/resolv.conf; nslookup web' 2>&1)
[[ $out == "nameserver $ns_ip"$'\n'"search test.example"$'\n'"options ndots:1"$'\n'* ]] ||
  fail "resolv.conf: got '$out'"
grep -q "Address.*$ns_ip" <<<"${out#*nslookup}" && grep -q "web.test.example" <<<"$out" ||
  fail "DNS through the host's resolver: $out"
grep -q "query\[A\] web.test.example from $host_ip" "$tmp/dns.log" ||
  fail "DNS: the query did not reach the resolver through NAT: $(cat "$tmp/dns.log")"

# --dns, --dns-search, --dns-option replace the host's.
out=$(run --dns "$ns_ip" --dns-search test.example --dns-option ndots:2 "$img" \
  sh -c 'cat /etc/resolv.conf; nslookup web.test.example' 2>&1)
[[ $out == "nameserver $ns_ip"$'\n'"search test.example"$'\n'"options ndots:2"$'\n'* ]] ||
  fail "--dns: got '$out'"
grep -q "Address.*$ns_ip" <<<"${out#*options}" || fail "--dns: no answer: $out"

# --add-host, with host-gateway (the default network's gateway).
out=$(run --add-host db.example:10.1.2.3 --add-host=gw.example:host-gateway "$img" \
  sh -c 'grep example /etc/hosts; ip route | sed -n "s/^default via \([0-9.]*\).*/\1/p"' 2>&1)
gw=$(tail -1 <<<"$out")
grep -qP '^10\.1\.2\.3\s+db\.example$' <<<"$out" && grep -qP "^\Q$gw\E\s+gw\.example$" <<<"$out" ||
  fail "--add-host: got '$out'"
run --add-host nocolon "$img" true 2>"$tmp/err"
rc=$?
[[ $rc == 125 ]] && grep -q "invalid --add-host \"nocolon\"" "$tmp/err" ||
  fail "--add-host nocolon: rc=$rc $(cat "$tmp/err")"

# --network none: only the loopback.
out=$(run --network none "$img" sh -c 'ls /sys/class/net; ip route' 2>&1)
[[ $out == lo ]] || fail "--network none: got '$out'"
run --network none -p 80 "$img" true 2>"$tmp/err"
rc=$?
[[ $rc == 125 ]] && grep -q "network none" "$tmp/err" || fail "--network none -p: rc=$rc $(cat "$tmp/err")"
run --network host "$img" true 2>"$tmp/err"
rc=$?
[[ $rc == 125 ]] && grep -q "own VM" "$tmp/err" || fail "--network host: rc=$rc $(cat "$tmp/err")"

# -p: a server in the VM reached from the host, for as long as the run
# lives.  Waits are bounded; the run is ended with SIGTERM (httpd ends).
wait_http() { # URL: the body, within 60 s
  local i body
  for ((i = 0; i < 600; i++)); do
    body=$(curl -s --max-time 2 "$1") && [[ -n $body ]] && { echo "$body"; return 0; }
    sleep 0.1
  done
  return 1
}
serve='mkdir -p /www && echo pong >/www/ping && exec httpd -f -p 8080 -h /www'
hp=$(free_port)
"$STACK_BIN" run --rm -p "127.0.0.1:$hp:8080" "$img" sh -c "$serve" >"$tmp/p.out" 2>&1 &
rp=$!
run_test_kill+=("$rp")
body=$(wait_http "http://127.0.0.1:$hp/ping") || fail "-p 127.0.0.1:$hp:8080: no answer: $(cat "$tmp/p.out")"
[[ $body == pong ]] || fail "-p: got '$body'"
# only on the address asked for
bound=$(ss -Hltn "sport = :$hp")
[[ $bound == *"127.0.0.1:$hp"* ]] || fail "-p: not bound to 127.0.0.1: $bound"
kill -TERM "$rp"
wait "$rp"
rc=$?
[[ $rc == 143 ]] || fail "-p run after SIGTERM: rc=$rc, want 143"
curl -s --max-time 2 "http://127.0.0.1:$hp/ping" >/dev/null && fail "-p: port still open after the run"

# -p CONTAINER_PORT (a random host port) and -P (the image's EXPOSE):
# the host port is found as a user would, with ss.
ports_of() { ss -Hltnp | grep "pid=$1," | awk '{print $4}' | sed 's/.*://' | sort -u; }
for form in "-p 8080" "-P"; do
  image=$img
  [[ $form == -P ]] && image=run-net:exposed
  # shellcheck disable=SC2086
  "$STACK_BIN" run --rm $form "$image" sh -c "$serve" >"$tmp/p.out" 2>&1 &
  rp=$!
  run_test_kill+=("$rp")
  port=
  for ((i = 0; i < 600; i++)); do
    port=$(ports_of "$rp")
    [[ -n $port ]] && break
    sleep 0.1
  done
  [[ $(wc -w <<<"$port") == 1 ]] || fail "$form: want one random host port, got '$port'"
  body=$(wait_http "http://127.0.0.1:$port/ping") || fail "$form: no answer on $port: $(cat "$tmp/p.out")"
  [[ $body == pong ]] || fail "$form: got '$body'"
  if [[ $form == -P ]]; then
    bound=$(ss -Hlunp)
    [[ $bound == *"pid=$rp,"* ]] || fail "-P: EXPOSE 9090/udp not published: $bound"
  fi
  kill -TERM "$rp"
  wait "$rp"
done

# -p .../udp: a datagram from the host reaches the VM and the answer
# comes back.
up=$(free_udp_port)
"$STACK_BIN" run --rm -p "127.0.0.1:$up:9000/udp" "$img" udpecho 9000 >"$tmp/u.out" 2>&1 &
rp=$!
run_test_kill+=("$rp")
got=$(python3 - "$up" <<'PY'
import socket, sys, time
s = socket.socket(type=socket.SOCK_DGRAM)
s.settimeout(0.2)
end = time.time() + 60
while time.time() < end:
    s.sendto(b"datagram", ("127.0.0.1", int(sys.argv[1])))
    try:
        print(s.recvfrom(512)[0].decode())
        break
    except socket.timeout:
        pass
PY
)
[[ $got == datagram ]] || fail "-p $up:9000/udp: no echo: '$got' $(cat "$tmp/u.out")"
wait "$rp"
rc=$?
[[ $rc == 0 ]] && grep -q "got datagram" "$tmp/u.out" || fail "-p udp: rc=$rc $(cat "$tmp/u.out")"

# A port in use fails the run before its VM starts, naming the port.
run -p "127.0.0.1:$hp:80" -p "127.0.0.1:$hp:81" "$img" true 2>"$tmp/err"
rc=$?
[[ $rc == 125 ]] && grep -q "$hp" "$tmp/err" || fail "port in use: rc=$rc $(cat "$tmp/err")"
left=$(run_net_busy)
[[ -z $left ]] || fail "a failed run left $left"

# kill -9 of stack run: its lease stays until the next run reaps it (its
# QEMU powers off by itself); then nothing is held, and the taps are no
# more than the runs that ran at once (one).
"$STACK_BIN" run --rm "$img" sleep 600 >/dev/null 2>&1 &
rp=$!
run_test_kill+=("$rp")
for ((i = 0; i < 600; i++)); do
  [[ $(run_net_busy) == *"held tap"* ]] && break
  sleep 0.1
done
lease=$(ls "$STACK_ROOT/run-network/leases/" 2>/dev/null)
[[ -n $lease ]] || fail "kill -9: no lease while the run lives"
grep -q "^$rp " "$STACK_ROOT/run-network/leases/$lease" || fail "kill -9: the lease does not name its pid"
kill -9 "$rp"
wait "$rp" 2>/dev/null
[[ -e $STACK_ROOT/run-network/leases/$lease ]] || fail "kill -9: the lease is already gone (nothing to reap?)"
out=$(run "$img" true 2>&1) || fail "the run after kill -9: $out"
left=$(run_net_busy)
[[ -z $left ]] || fail "kill -9: held after the next run: $left"
taps=$(run_net_leftovers)
taps=$(grep -c '^tap' <<<"$taps")
[[ $taps == 1 ]] || fail "kill -9: $taps taps after the next run, want 1: $(run_net_leftovers)"

# Where a Compose file applies, `stack run NAME` is Compose's: NAME must be
# a service; the image form stays `stack container run`.
mkdir -p "$tmp/proj"
printf 'services:\n  web:\n    image: %s\n' "$img" >"$tmp/proj/compose.yaml"
out=$(cd "$tmp/proj" && timeout 60 "$STACK_BIN" run --rm nosuch echo hi 2>&1)
rc=$?
[[ $rc == 1 && $out == "no such service: nosuch" ]] || fail "no such service: rc=$rc '$out'"
out=$(cd "$tmp" && timeout 60 "$STACK_BIN" -f proj/compose.yaml run nosuch 2>&1)
rc=$?
[[ $rc == 1 && $out == "no such service: nosuch" ]] || fail "-f: no such service: rc=$rc '$out'"
out=$(cd "$tmp/proj" && timeout 60 "$STACK_BIN" run --rm "$img" echo hi 2>&1)
rc=$?
[[ $rc == 1 && $out == "no such service: $img" ]] || fail "image in a project: rc=$rc '$out'"
out=$(cd "$tmp/proj" && timeout 120 "$STACK_BIN" container run --rm "$img" echo hi 2>&1)
rc=$?
[[ $rc == 0 && $out == hi ]] || fail "container run in a project: rc=$rc '$out'"
out=$(cd "$tmp" && timeout 120 "$STACK_BIN" container run --rm --network none "$img" echo hi 2>&1)
[[ $out == hi ]] || fail "container run: '$out'"

run_test_finish
