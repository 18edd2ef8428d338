#!/usr/bin/env bash
# `stack network ls|inspect|rm|prune` as `docker network` behaves for a
# Compose project's networks: ls (Docker's table, -q, --format json,
# filters), inspect (subnet, gateway, the attached containers with their
# addresses, Compose's labels; a missing network is an error), rm refused
# while a container is attached ("has active endpoints"), allowed once
# none runs (the bridge goes from the host; the next start makes it
# again), prune asks first and removes the unused networks only.
set -euo pipefail
. "$STACK_SOURCE_DIR/tests/lib/up.sh"
up_test_init verbs-network

st() { timeout 120 "$STACK" "$@"; }
cleanup() {
  local d
  for d in a b; do (cd "$app/$d" 2>/dev/null && timeout 60 "$STACK" down -t 0 >/dev/null 2>&1) || true; done
  _up_cleanup
}
trap cleanup EXIT

mkdir a b
cat >a/compose.yaml <<'YAML'
name: neta
services:
  web:
    image: busybox:amd64
    command: sleep 3600
    networks: [front, back]
networks:
  front: {}
  back: {}
YAML
cat >b/compose.yaml <<'YAML'
name: netb
services:
  job:
    image: busybox:amd64
    command: sleep 3600
YAML
(cd a && st up -d >/dev/null 2>"$tmp/err") || fail "up a: $(cat "$tmp/err")"
(cd b && st up -d >/dev/null 2>"$tmp/err") || fail "up b: $(cat "$tmp/err")"

out=$(st network ls)
head -1 <<<"$out" | grep -qE '^NETWORK ID +NAME +DRIVER +SCOPE$' || fail "ls header: $out"
[[ $(tail -n +2 <<<"$out" | awk '{print $2}') == $'neta_back\nneta_front\nnetb_default' ]] || fail "ls names: $out"
grep -qE '^[0-9a-f]{12} +neta_front +bridge +local$' <<<"$out" || fail "ls row: $out"
[[ $(st network ls -q | wc -l) == 3 ]] || fail "ls -q: $(st network ls -q)"
[[ $(st network ls -q --no-trunc | head -1) =~ ^[0-9a-f]{64}$ ]] || fail "ls -q --no-trunc"
[[ $(st network ls -f name=front --format '{{json .}}' | python3 -c 'import json,sys; print(json.loads(sys.stdin.read())["Name"])') == neta_front ]] ||
  fail "ls json"
[[ $(st network ls -q -f label=com.docker.compose.project=netb | wc -l) == 1 ]] || fail "label filter"
rc=0
st network ls -f bogus=1 2>/dev/null || rc=$?
((rc == 1)) || fail "an unknown filter was accepted"

json=$(st network inspect neta_front)
ip=$(cd a && st exec -T web ip -4 addr show eth0 | awk '/inet /{print $2}' | cut -d/ -f1)
python3 - "$json" "$ip" <<'PY' || fail "inspect: $json (web's address $2)"
import json, sys
[n] = json.loads(sys.argv[1])
assert n["Name"] == "neta_front" and n["Driver"] == "bridge" and n["Scope"] == "local", n
assert len(n["Id"]) == 64, n
cfg = n["IPAM"]["Config"][0]
assert "/" in cfg["Subnet"] and cfg["Gateway"], cfg
assert n["Labels"] == {"com.docker.compose.network": "front", "com.docker.compose.project": "neta"}, n
[c] = n["Containers"].values()
assert c["Name"] == "neta-web-1", c
assert c["IPv4Address"].split("/")[0] == sys.argv[2], (c, sys.argv[2])
PY
short=$(st network ls -q -f name=netb_default)
[[ $(st network inspect "$short" | python3 -c 'import json,sys; print(json.load(sys.stdin)[0]["Name"])') == netb_default ]] ||
  fail "inspect by ID"
rc=0
st network inspect nosuch >/dev/null 2>"$tmp/err" || rc=$?
((rc == 1)) && grep -qx 'Error: No such network: nosuch' "$tmp/err" || fail "inspect nosuch: $rc $(cat "$tmp/err")"

bridge=$(st network inspect neta_front | python3 -c 'import json,sys; print(json.load(sys.stdin)[0]["Options"]["com.docker.network.bridge.name"])')
ip link show "$bridge" >/dev/null 2>&1 || fail "bridge $bridge is not on the host"

rc=0
st network rm neta_front 2>"$tmp/err" || rc=$?
((rc == 1)) && grep -q 'Error response from daemon: error while removing network: network neta_front has active endpoints (name:"neta-web-1")' "$tmp/err" ||
  fail "rm in use: $rc $(cat "$tmp/err")"
rc=0
st network rm nosuch 2>"$tmp/err" || rc=$?
((rc == 1)) && grep -q 'network nosuch not found' "$tmp/err" || fail "rm nosuch: $rc $(cat "$tmp/err")"
st network rm -f nosuch || fail "rm -f nosuch"

# prune: asks; removes only networks no container is attached to
(cd a && st stop -t 0 >/dev/null 2>&1) || fail "stop a"
out=$(st network prune </dev/null) || fail "prune without an answer"
grep -q 'Are you sure you want to continue? \[y/N\]' <<<"$out" || fail "prune did not ask: $out"
[[ $(st network ls -q | wc -l) == 3 ]] || fail "prune without an answer removed networks"
out=$(st network prune -f) || fail "prune -f: $out"
[[ $out == $'Deleted Networks:\nneta_back\nneta_front' ]] || fail "prune output: $out"
[[ $(st network ls | tail -n +2 | awk '{print $2}') == netb_default ]] || fail "after prune: $(st network ls)"
ip link show "$bridge" >/dev/null 2>&1 && fail "bridge $bridge still on the host after prune"

# rm of a network nothing is attached to; the next start makes it again
(cd b && st stop -t 0 >/dev/null 2>&1) || fail "stop b"
[[ $(st network rm netb_default) == netb_default ]] || fail "rm netb_default"
[[ $(st network ls -q) == "" ]] || fail "networks left: $(st network ls)"
(cd b && st start >/dev/null 2>"$tmp/err") || fail "start b after network rm: $(cat "$tmp/err")"
[[ $(st network ls | tail -n +2 | awk '{print $2}') == netb_default ]] || fail "start did not make the network again"
(cd b && st exec -T job true) || fail "exec after the network came back"
echo ok
