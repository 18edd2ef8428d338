#!/usr/bin/env bash
# `stack scale SERVICE=N` as `docker compose scale`: more containers of a
# service are created and started (its dependencies too unless --no-deps),
# the existing ones are kept as they are (not recreated), fewer removes the
# highest numbers; a bad specifier or an unknown service is an error.
set -euo pipefail
. "$STACK_SOURCE_DIR/tests/lib/up.sh"
up_test_init verbs-scale

st() { timeout 180 "$STACK" "$@"; }
names() { st ps --format json | python3 -c 'import json,sys; print(" ".join(sorted(json.loads(l)["Name"] for l in sys.stdin)))'; }
id_of() { st ps -a --format json | python3 -c 'import json,sys
for l in sys.stdin:
    r = json.loads(l)
    if r["Name"] == sys.argv[1]: print(r["ID"])' "$1"; }

cat >compose.yaml <<'YAML'
name: psc
services:
  db:
    image: busybox:amd64
    command: sleep 3600
  web:
    image: busybox:amd64
    command: sleep 3600
    depends_on: [db]
  solo:
    image: busybox:amd64
    command: sleep 3600
    depends_on: [db]
YAML
st up -d web >/dev/null 2>"$tmp/err" || fail "up: $(cat "$tmp/err")"
[[ $(names) == "psc-db-1 psc-web-1" ]] || fail "after up: $(names)"
id1=$(id_of psc-web-1)

st scale web=3 >/dev/null 2>"$tmp/err" || fail "scale web=3: $(cat "$tmp/err")"
[[ $(names) == "psc-db-1 psc-web-1 psc-web-2 psc-web-3" ]] || fail "after scale web=3: $(names)"
[[ $(id_of psc-web-1) == "$id1" ]] || fail "scale recreated psc-web-1"

# the existing container is kept even when its configuration changed
sed -i 's/command: sleep 3600$/command: sleep 3601/' compose.yaml
st scale web=2 >/dev/null 2>"$tmp/err" || fail "scale web=2: $(cat "$tmp/err")"
[[ $(names) == "psc-db-1 psc-web-1 psc-web-2" ]] || fail "after scale web=2: $(names)"
[[ $(id_of psc-web-1) == "$id1" ]] || fail "scale down recreated psc-web-1"
[[ $(st ps -a -q | wc -l) == 3 ]] || fail "psc-web-3 not removed: $(st ps -a)"

# --no-deps: the dependency is not started
st stop db >/dev/null 2>&1
st scale --no-deps solo=2 >/dev/null 2>"$tmp/err" || fail "scale --no-deps: $(cat "$tmp/err")"
[[ $(names) == "psc-solo-1 psc-solo-2 psc-web-1 psc-web-2" ]] || fail "after scale --no-deps: $(names)"

rc=0
st scale web 2>"$tmp/err" || rc=$?
((rc == 1)) && grep -qx 'Invalid scale specifier: web' "$tmp/err" || fail "bad specifier: $rc $(cat "$tmp/err")"
rc=0
st scale nosuch=2 2>"$tmp/err" || rc=$?
((rc != 0)) && grep -q 'nosuch' "$tmp/err" || fail "unknown service: $rc $(cat "$tmp/err")"
echo ok
