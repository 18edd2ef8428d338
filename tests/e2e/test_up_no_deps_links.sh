#!/usr/bin/env bash
# `up --no-deps SERVICE` with links: to a service that is not running
# starts the service anyway, as Compose does: the dependency is not waited
# for (Compose drops it from the project) and the link just does not
# resolve.  With the linked service running, the link's alias resolves.
set -euo pipefail
. "$STACK_SOURCE_DIR/tests/lib/up.sh"
up_test_init up-no-deps-links

cat >compose.yaml <<'YAML'
name: upnodepslinks
services:
  db:
    image: busybox:amd64
    command: sleep 300
  web:
    image: busybox:amd64
    command: sleep 300
    links: ["db:database"]
YAML
# db created, never started
timeout 120 "$STACK" create 2>"$tmp/err" || fail "create: $(cat "$tmp/err")"
timeout 120 "$STACK" up -d --no-deps web 2>"$tmp/err" || fail "up --no-deps web (db created): $(cat "$tmp/err")"
out=$("$STACK" ps -a)
grep -q "^upnodepslinks-web-1 .*Up" <<<"$out" || fail "web not up: $out"
grep -q "^upnodepslinks-db-1 .*Created" <<<"$out" || fail "db started: $out"
! "$STACK" exec web nslookup database >/dev/null 2>&1 || fail "the link to a stopped service resolves"
"$STACK" down -t 0 >/dev/null 2>&1

# db running: the alias resolves; db stopped: web is recreated and starts
timeout 300 "$STACK" up -d 2>"$tmp/err" || fail "up: $(cat "$tmp/err")"
"$STACK" exec web nslookup database >"$tmp/ns" 2>&1 || fail "the link does not resolve: $(cat "$tmp/ns")"
timeout 120 "$STACK" stop -t 0 db 2>"$tmp/err" || fail "stop db: $(cat "$tmp/err")"
timeout 120 "$STACK" up -d --no-deps --force-recreate web 2>"$tmp/err" ||
  fail "up --no-deps web (db stopped): $(cat "$tmp/err")"
out=$("$STACK" ps -a)
grep -q "^upnodepslinks-web-1 .*Up" <<<"$out" || fail "web not up: $out"
grep -q "^upnodepslinks-db-1 .*Exited" <<<"$out" || fail "db started: $out"
echo ok
