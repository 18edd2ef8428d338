#!/usr/bin/env bash
# `stack up --no-start` without booting anything: containers are created with
# Compose's names and replica numbers; a second up with no change keeps them
# (same IDs); a changed environment recreates exactly that service;
# --force-recreate and --no-recreate; --scale and scaling down; errors for
# an unknown service and a missing image; down removes everything.
set -euo pipefail
. "$STACK_SOURCE_DIR/tests/lib/up.sh"
up_test_init up-create novm

cat >compose.yaml <<'YAML'
name: upcreate
services:
  web:
    image: busybox:amd64
    command: httpd -f
    environment:
      A: "1"
  db:
    image: busybox:amd64
    deploy:
      replicas: 2
  named:
    image: busybox:amd64
    container_name: my-named
YAML
ids() { "$STACK" ps -a --format json | python3 -c '
import json, sys
for r in map(json.loads, sys.stdin):
    print(r["Name"], r["ID"], r["State"])' | sort; }

timeout 120 "$STACK" up --no-start 2>"$tmp/err" || fail "up --no-start: $(cat "$tmp/err")"
first=$(ids)
[[ $(awk '{print $1, $3}' <<<"$first") == "my-named created
upcreate-db-1 created
upcreate-db-2 created
upcreate-web-1 created" ]] || fail "containers: $first"
grep -q '^upcreate-web-1 *busybox:amd64 *"httpd -f" *web .*Created' <<<"$("$STACK" ps -a)" ||
  fail "ps -a: $("$STACK" ps -a)"

timeout 120 "$STACK" up --no-start 2>/dev/null || fail "second up"
[[ $(ids) == "$first" ]] || fail "up with no change recreated: $(ids)"

sed -i 's/A: "1"/A: "2"/' compose.yaml
timeout 120 "$STACK" up --no-start 2>/dev/null || fail "up after a change"
second=$(ids)
[[ $(grep -v '^upcreate-web-' <<<"$second") == "$(grep -v '^upcreate-web-' <<<"$first")" ]] ||
  fail "other services recreated"
[[ $(grep '^upcreate-web-' <<<"$second") != "$(grep '^upcreate-web-' <<<"$first")" ]] ||
  fail "web not recreated"

sed -i 's/A: "2"/A: "3"/' compose.yaml
timeout 120 "$STACK" up --no-start --no-recreate 2>/dev/null || fail "up --no-recreate"
[[ $(ids) == "$second" ]] || fail "--no-recreate recreated"
timeout 120 "$STACK" up --no-start --force-recreate db 2>/dev/null || fail "up --force-recreate db"
third=$(ids)
[[ $(grep -c '^upcreate-db-' <<<"$third") == 2 &&
  $(comm -12 <(grep '^upcreate-db-' <<<"$third") <(grep '^upcreate-db-' <<<"$second")) == "" ]] ||
  fail "--force-recreate db: $third"
[[ $(grep -v '^upcreate-db-' <<<"$third") == "$(grep -v '^upcreate-db-' <<<"$second")" ]] ||
  fail "--force-recreate db touched other services"

timeout 120 "$STACK" up --no-start --scale db=3 db 2>/dev/null || fail "scale up"
[[ $(ids | grep -c '^upcreate-db-') == 3 ]] || fail "scale 3: $(ids)"
timeout 120 "$STACK" up --no-start --scale db=1 db 2>/dev/null || fail "scale down"
[[ $(ids | grep '^upcreate-db-' | awk '{print $1}') == "upcreate-db-1" ]] || fail "scale 1: $(ids)"

rc=0
"$STACK" up --no-start nosuch 2>"$tmp/err" || rc=$?
((rc == 1)) && grep -q "no such service: nosuch" "$tmp/err" || fail "unknown service: $rc $(cat "$tmp/err")"
printf '  bad:\n    image: 127.0.0.1:1/none:latest\n' >>compose.yaml
rc=0
timeout 120 "$STACK" up --no-start bad 2>"$tmp/err" || rc=$?
((rc == 1)) && grep -q "127.0.0.1:1/none" "$tmp/err" || fail "missing image: $rc $(cat "$tmp/err")"

# a service dropped from the file leaves an orphan: warned about, then removed
sed -i -e '/^  bad:/,$d' -e '/^  named:/,/container_name: my-named/d' compose.yaml
timeout 60 "$STACK" up --no-start 2>"$tmp/err" || fail "up without named: $(cat "$tmp/err")"
grep -q "Found orphan containers (\[my-named\])" "$tmp/err" || fail "no orphan warning: $(cat "$tmp/err")"
[[ $(ids) == *my-named* ]] || fail "orphan removed without --remove-orphans"
timeout 60 "$STACK" up --no-start --remove-orphans 2>"$tmp/err" || fail "--remove-orphans: $(cat "$tmp/err")"
[[ $(ids) != *my-named* ]] || fail "--remove-orphans left my-named"
printf '  named:\n    image: busybox:amd64\n    container_name: my-named\n' >>compose.yaml

timeout 60 "$STACK" create named 2>/dev/null || fail "create"
"$STACK" rm named 2>"$tmp/err" || fail "rm: $(cat "$tmp/err")"
grep -q "Container my-named  Removed" "$tmp/err" || fail "rm output: $(cat "$tmp/err")"
[[ $(ids) != *my-named* ]] || fail "rm left my-named"

timeout 60 "$STACK" down 2>"$tmp/err" || fail "down: $(cat "$tmp/err")"
[[ -z $(ids) ]] || fail "left after down: $(ids)"
[[ ! -S $STACK_RUN_DIR/projects/upcreate/supervisor.sock ]] || fail "supervisor socket left"
echo ok
