#!/usr/bin/env bash
# Stopping one container does not cut the others off (issue 11): the
# project's bridge has a MAC of its own, set when it is made, so it does not
# change when the tap whose MAC was the lowest goes (else the guests' ARP
# entry for their gateway goes stale: published ports timed out for ~53 s,
# DNS failed for 8-20 s).  Four web services; twice, the one whose tap has
# the lowest MAC is stopped while the others are probed continuously: first
# DNS from inside a guest alone (the host sends the guests nothing then, so
# no ARP request of the host's repairs a stale entry), then DNS and a
# published port from the host together.  No gap between answers may be
# longer than 1 s.  The bridge keeps its MAC when a new supervisor adopts
# it, and gets the same one again when it is made anew after a crash.
set -euo pipefail
. "$STACK_SOURCE_DIR/tests/lib/up.sh"
command -v curl >/dev/null || { echo "SKIP: curl is not installed"; exit 77; }
up_test_init net-bridge-mac
probes=()
cleanup_more() {
  local p
  for p in "${probes[@]}"; do kill "$p" 2>/dev/null || true; done
  _up_cleanup
}
trap cleanup_more EXIT

project=netmac$$
services=(s1 s2 s3 s4)
cat >compose.yaml <<YAML
name: $project
services:
YAML
for s in "${services[@]}"; do
  cat >>compose.yaml <<YAML
  $s:
    image: busybox:amd64
    command: [sh, -c, 'mkdir -p /www && echo $s >/www/index.html && exec httpd -f -p 8080 -h /www']
    ports: ["127.0.0.1::8080"]
YAML
done
timeout 300 "$STACK" up -d 2>"$tmp/err" >/dev/null || fail "up: $(cat "$tmp/err")"

state=$STACK_ROOT/projects/$project/network.json
lock=$STACK_RUN_DIR/projects/$project/supervisor.lock
br=$(python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["bridges"][0])' "$state")
[[ $br == stkb* ]] || fail "no bridge in $(cat "$state")"
mac_of() { cat "/sys/class/net/$1/address"; }
qemu_of() { pgrep -f -- "-name guest=$1 " || true; }
br_mac=$(mac_of "$br")
[[ $(cat "/sys/class/net/$br/addr_assign_type") == 3 ]] ||
  fail "bridge $br's MAC was not set by stack (addr_assign_type $(cat "/sys/class/net/$br/addr_assign_type"))"
(( (0x${br_mac:0:2} & 3) == 2 )) || fail "bridge MAC $br_mac is not locally administered unicast"

# the services by their tap's MAC, lowest first (QEMU's tap: the fd it was
# handed, -netdev tap,fd=6, whose fdinfo names the device)
for s in "${services[@]}"; do
  pid=$(qemu_of "$project-$s-1")
  [[ -n $pid ]] || fail "no VM for $project-$s-1"
  tap=$(awk '$1 == "iff:" { print $2 }' "/proc/$pid/fdinfo/6" 2>/dev/null)
  [[ -n $tap && -e /sys/class/net/$tap ]] || fail "no tap for $s (QEMU $pid)"
  [[ $(mac_of "$tap") != "$br_mac" ]] || fail "bridge $br has the MAC of tap $tap"
  echo "$(mac_of "$tap") $s"
done | sort >"$tmp/taps"
mapfile -t by_mac < <(cut -d' ' -f2 "$tmp/taps")
first=${by_mac[0]} second=${by_mac[1]} web=${by_mac[2]} prober=${by_mac[3]}
hp=$("$STACK" port "$web" 8080) || fail "stack port $web 8080"
port=${hp##*:}
wait_for eval 'curl -fsS -m 2 "http://127.0.0.1:$port/" 2>/dev/null | grep -qx "$web"' ||
  fail "$web does not answer on $hp"
"$STACK" exec "$prober" nslookup "$web" >/dev/null 2>&1 || fail "$prober cannot resolve $web"

# The longest time between two answers in "start T", "ok T"..., "end T"
# lines (seconds; the window's ends count as answers), and from when in
# the window it ran.
longest_gap() {
  awk '$1 == "start" { t0 = $2 }
       $1 == "start" || $1 == "ok" || $1 == "end" {
         if (seen && $2 - last > gap) { gap = $2 - last; at = last - t0 }
         last = $2; seen = 1 }
       END { printf "%.2f %.2f\n", gap + 0, at + 0 }' "$1"
}

# DNS lookups in $prober, timed by the guest's clock, for $1 seconds.
dns_probe() {
  "$STACK" exec -T "$prober" sh -c "
    now() { cut -d' ' -f1 /proc/uptime; }
    start=\$(now); end=\${start%.*}; end=\$((end + $1))
    echo start \$start
    while t=\$(now); [ \${t%.*} -lt \$end ]; do
      if nslookup $web >/dev/null 2>&1; then echo ok \$(now); fi
    done
    echo end \$(now)"
}

# $web's published port from the host for $1 seconds.
http_probe() {
  local start now
  start=$(date +%s.%N)
  echo "start $start"
  while (($(date +%s) < ${start%.*} + $1)); do
    if curl -fsS -m 1 "http://127.0.0.1:$port/" 2>/dev/null | grep -qx "$web"; then
      echo "ok $(date +%s.%N)"
    fi
  done
  echo "end $(date +%s.%N)"
}

check_gap() { # file what
  local gap at
  read -r gap at < <(longest_gap "$1")
  echo "  $2: longest gap $gap s (from $at s into the probe), $(grep -c '^ok' "$1") answers"
  grep -q '^end' "$1" || fail "$2: the probe did not finish: $(cat "$1")"
  awk -v g="$gap" 'BEGIN { exit !(g <= 1.0) }' || fail "$2 did not answer for $gap s after $victim stopped"
}

# Stops $victim $2 s into probes of $1 seconds ($3: also the published port).
stop_while_probing() {
  local secs=$1 after=$2 with_http=$3 dns_pid http_pid=
  dns_probe "$secs" >"$tmp/dns" 2>&1 &
  dns_pid=$!
  probes+=("$dns_pid")
  if [[ $with_http == http ]]; then
    http_probe "$secs" >"$tmp/http" &
    http_pid=$!
    probes+=("$http_pid")
  fi
  sleep "$after"
  timeout 120 "$STACK" stop "$victim" >/dev/null 2>"$tmp/err" || fail "stop $victim: $(cat "$tmp/err")"
  [[ -z $(qemu_of "$project-$victim-1") ]] || fail "$victim's VM still runs after stop"
  wait "$dns_pid" || fail "the DNS probe in $prober failed: $(cat "$tmp/dns")"
  [[ -z $http_pid ]] || wait "$http_pid" || fail "the host's probe failed"
  echo "stopped $victim (tap MAC $(grep " $victim\$" "$tmp/taps" | cut -d' ' -f1)):"
  check_gap "$tmp/dns" "DNS in $prober"
  [[ -z $http_pid ]] || check_gap "$tmp/http" "$web's published port"
  [[ $(mac_of "$br") == "$br_mac" ]] || fail "the bridge's MAC changed: $br_mac -> $(mac_of "$br")"
}

victim=$first
stop_while_probing 14 3 dns-only
victim=$second
stop_while_probing 10 3 http

# a new supervisor adopts the bridge with its MAC
sup=$(cat "$lock")
kill -9 "$sup"
wait_for eval '! [[ -e /proc/$sup ]]' || fail "supervisor $sup did not die"
timeout 300 "$STACK" up -d 2>"$tmp/err" >/dev/null || fail "up after a crash: $(cat "$tmp/err")"
[[ $(mac_of "$br") == "$br_mac" ]] || fail "adopting changed the bridge's MAC: $br_mac -> $(mac_of "$br")"
hp=$("$STACK" port "$web" 8080) || fail "stack port $web 8080 after the supervisor was replaced"
port=${hp##*:}
wait_for eval 'curl -fsS -m 2 "http://127.0.0.1:$port/" 2>/dev/null | grep -qx "$web"' ||
  fail "$web does not answer after the supervisor was replaced"

# supervisor and VMs killed: the next up makes the bridge anew, same MAC
sup=$(cat "$lock")
kill -9 "$sup"
wait_for eval '! [[ -e /proc/$sup ]]' || fail "supervisor $sup did not die"
for s in "${services[@]}"; do
  pid=$(qemu_of "$project-$s-1")
  [[ -z $pid ]] || kill -9 $pid
  wait_for eval '[[ -z $(qemu_of "$project-$s-1") ]]' || fail "$s's VM did not die"
done
timeout 300 "$STACK" up -d 2>"$tmp/err" >/dev/null || fail "up after the VMs were killed: $(cat "$tmp/err")"
[[ $(mac_of "$br") == "$br_mac" ]] || fail "the re-made bridge has another MAC: $br_mac -> $(mac_of "$br")"
echo PASS
