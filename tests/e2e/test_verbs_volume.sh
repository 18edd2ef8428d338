#!/usr/bin/env bash
# `stack volume ls|inspect|rm|prune|create` as `docker volume` behaves:
# create (named, labelled, anonymous with 64 hex digits), Docker's table
# and JSON, inspect's document, filters; a project's volumes carry
# Compose's labels; a volume mounted by an existing container cannot be
# removed and is not pruned; prune removes anonymous volumes only unless
# -a, asks first (no answer: nothing removed) and reports the space; an
# external volume is used once `volume create` made it.
set -euo pipefail
. "$STACK_SOURCE_DIR/tests/lib/up.sh"
up_test_init verbs-volume

st() { timeout 120 "$STACK" "$@"; }

# create
[[ $(st volume create vone) == vone ]] || fail "create vone"
[[ $(st volume create --label team=a --label tier=db vtwo) == vtwo ]] || fail "create vtwo"
anon=$(st volume create) || fail "create anonymous"
[[ $anon =~ ^[0-9a-f]{64}$ ]] || fail "anonymous volume name: $anon"
[[ $(st volume create vone) == vone ]] || fail "create of an existing volume is not idempotent"
rc=0
st volume create 'bad/name' 2>"$tmp/err" || rc=$?
((rc == 1)) && grep -q 'includes invalid characters for a local volume name' "$tmp/err" ||
  fail "bad name: $rc $(cat "$tmp/err")"

# ls: Docker's table, sorted by name
out=$(st volume ls)
expect=$(printf 'DRIVER    VOLUME NAME\nlocal     %s\nlocal     vone\nlocal     vtwo' "$anon")
[[ $out == "$expect" ]] || fail "ls: $out"
[[ $(st volume ls -q) == "$(printf '%s\nvone\nvtwo' "$anon")" ]] || fail "ls -q"
[[ $(st volume ls -q -f label=team=a) == vtwo ]] || fail "label filter: $(st volume ls -q -f label=team=a)"
[[ $(st volume ls -q -f name=one) == vone ]] || fail "name filter"
[[ $(st volume ls -q -f dangling=true | wc -l) == 3 ]] || fail "dangling filter"
json=$(st volume ls --format json -f name=vtwo)
python3 - "$json" "$STACK_ROOT" <<'PY' || fail "ls json: $json"
import json, sys
r = json.loads(sys.argv[1])
assert r["Name"] == "vtwo" and r["Driver"] == "local" and r["Scope"] == "local", r
assert r["Labels"] == "team=a,tier=db", r
assert r["Mountpoint"] == sys.argv[2] + "/volumes/vtwo/_data", r
PY

# inspect
json=$(st volume inspect vtwo)
[[ $(head -2 <<<"$json") == $'[\n    {' ]] || fail "inspect layout: $json"
python3 - "$json" <<'PY' || fail "inspect: $json"
import json, sys, re
[v] = json.loads(sys.argv[1])
assert v["Name"] == "vtwo" and v["Driver"] == "local" and v["Scope"] == "local", v
assert v["Labels"] == {"team": "a", "tier": "db"}, v
assert re.match(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$", v["CreatedAt"]), v
assert v["Options"] is None, v
PY
rc=0
st volume inspect vone nosuch >"$tmp/out" 2>"$tmp/err" || rc=$?
((rc == 1)) && grep -qx 'Error: No such volume: nosuch' "$tmp/err" || fail "inspect nosuch: $rc $(cat "$tmp/err")"
python3 -c 'import json,sys; assert [v["Name"] for v in json.load(open(sys.argv[1]))] == ["vone"]' "$tmp/out" ||
  fail "inspect vone nosuch: $(cat "$tmp/out")"

# a project's volumes: Compose's labels; in use while its container exists
cat >compose.yaml <<'YAML'
name: pvol
services:
  app:
    image: busybox:amd64
    command: sh -c 'echo hello >/data/f; head -c 5000 /dev/zero >/anon/z; sleep 3600'
    network_mode: none
    volumes:
      - data:/data
      - /anon
      - ext:/ext
volumes:
  data: {}
  ext:
    external: true
    name: extvol
YAML
rc=0
st up -d >"$tmp/out" 2>&1 || rc=$?
((rc != 0)) && grep -q 'external volume "extvol" not found' "$tmp/out" || fail "missing external volume: $rc $(cat "$tmp/out")"
st volume create extvol >/dev/null
st up -d >"$tmp/out" 2>&1 || fail "up: $(cat "$tmp/out")"
wait_for test -s "$STACK_ROOT/volumes/pvol_data/_data/f" || fail "the service did not write its volume"
json=$(st volume inspect pvol_data)
python3 - "$json" <<'PY' || fail "project volume labels: $json"
import json, sys
[v] = json.loads(sys.argv[1])
assert v["Labels"]["com.docker.compose.project"] == "pvol", v
assert v["Labels"]["com.docker.compose.volume"] == "data", v
PY
anonp=$(st volume ls -q -f label=com.docker.volume.anonymous | grep -v "^$anon$") || fail "no anonymous volume of the project"
[[ $(st volume ls -q -f label=com.docker.compose.project=pvol | sort) == "$(printf '%s\npvol_data' "$anonp" | sort)" ]] ||
  fail "project filter: $(st volume ls -q -f label=com.docker.compose.project=pvol)"

rc=0
st volume rm pvol_data 2>"$tmp/err" || rc=$?
((rc == 1)) && grep -qx 'Error response from daemon: remove pvol_data: volume is in use - \[pvol-app-1\]' "$tmp/err" ||
  fail "rm of a volume in use: $rc $(cat "$tmp/err")"
[[ $(st volume ls -q -f dangling=false | sort) == "$(printf '%s\nextvol\npvol_data' "$anonp" | sort)" ]] ||
  fail "dangling=false: $(st volume ls -q -f dangling=false)"
out=$(st volume prune -a -f) || fail "prune -a: $out"
[[ -d $STACK_ROOT/volumes/pvol_data/_data && -d $STACK_ROOT/volumes/$anonp/_data ]] || fail "prune removed a volume in use: $out"
grep -qx 'vone' <<<"$out" || fail "prune -a did not remove vone: $out"

# stopped, the container still exists: still in use
st stop -t 0 >/dev/null 2>&1
rc=0
st volume rm pvol_data 2>/dev/null || rc=$?
((rc == 1)) || fail "rm of a volume of a stopped container succeeded"

# no answer to the prompt: nothing removed
st rm -f >/dev/null 2>&1 || fail "rm"
out=$(st volume prune </dev/null) || fail "prune without an answer: $out"
grep -q 'Are you sure you want to continue? \[y/N\]' <<<"$out" || fail "no prompt: $out"
[[ -d $STACK_ROOT/volumes/$anonp/_data ]] || fail "prune without an answer removed a volume"

# prune: anonymous volumes only, with the space they held
out=$(echo y | st volume prune) || fail "prune: $out"
grep -qx "$anonp" <<<"$out" || fail "prune did not remove the anonymous volume: $out"
grep -q 'Deleted Volumes:$' <<<"$out" || fail "prune output: $out"
grep -qx 'Total reclaimed space: 5kB' <<<"$out" || fail "reclaimed space: $out"
[[ -d $STACK_ROOT/volumes/pvol_data/_data ]] || fail "prune without -a removed a named volume"

out=$(st volume rm pvol_data extvol nosuch 2>"$tmp/err") && fail "rm nosuch succeeded"
[[ $out == $'pvol_data\nextvol' ]] || fail "rm output: $out"
grep -qx 'Error response from daemon: get nosuch: no such volume' "$tmp/err" || fail "rm nosuch: $(cat "$tmp/err")"
st volume rm -f nosuch >/dev/null || fail "rm -f nosuch"
[[ $(st volume ls -q -f name=pvol) == "" ]] || fail "pvol_data still listed"
echo ok
