#!/usr/bin/env bash
# `down --rmi` with real VMs: `local` keeps the image the file names, `all`
# removes it once the containers are gone; `-v` is accepted (no named
# volumes: nothing to remove); a bad --rmi value is a usage error.
set -euo pipefail
. "$STACK_SOURCE_DIR/tests/lib/up.sh"
up_test_init up-down-rmi

cat >compose.yaml <<'YAML'
name: downrmi
services:
  a:
    image: busybox:amd64
    command: sleep 300
  b:
    image: busybox:amd64
    command: sleep 300
YAML
has_image() { "$STACK" image ls 2>/dev/null | grep -q '^busybox  *amd64 '; }
has_image || fail "the test image is not listed: $("$STACK" image ls 2>&1)"
rc=0
"$STACK" down --rmi some 2>"$tmp/err" || rc=$?
((rc == 1)) && grep -q 'invalid --rmi value some' "$tmp/err" || fail "bad --rmi: $rc $(cat "$tmp/err")"
"$STACK" down --help | grep -q -- '--rmi' || fail "down --help lacks --rmi"

timeout 300 "$STACK" up -d 2>"$tmp/err" || fail "up: $(cat "$tmp/err")"
"$STACK" down -t 0 --rmi local 2>"$tmp/err" || fail "down --rmi local: $(cat "$tmp/err")"
grep -q "Container downrmi-a-1  Removed" "$tmp/err" || fail "down output: $(cat "$tmp/err")"
! grep -q " Image " "$tmp/err" || fail "--rmi local removed an image: $(cat "$tmp/err")"
has_image || fail "--rmi local removed busybox:amd64"

timeout 300 "$STACK" up -d 2>"$tmp/err" || fail "up again: $(cat "$tmp/err")"
"$STACK" down -t 0 -v --rmi all 2>"$tmp/err" || fail "down -v --rmi all: $(cat "$tmp/err")"
[[ $(grep -c "^ Image busybox:amd64  Removed$" "$tmp/err") == 1 ]] || fail "down --rmi all output: $(cat "$tmp/err")"
! has_image || fail "--rmi all kept busybox:amd64: $("$STACK" image ls)"
[[ -z $("$STACK" ps -aq 2>/dev/null) ]] || fail "containers left: $("$STACK" ps -a)"
echo ok
