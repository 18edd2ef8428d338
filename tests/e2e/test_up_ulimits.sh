#!/usr/bin/env bash
# A service's ulimits reach its process; a container that cannot start makes
# an attached `up` fail at once with the reason; keys the VM runtime does not
# honour yet are named, not silently dropped.
set -euo pipefail
source "$STACK_SOURCE_DIR/tests/lib/up.sh"
up_test_init ulimits

cat > compose.yaml <<'YAML'
name: ulim
services:
  a:
    image: busybox:amd64
    command: sh -c 'echo soft=$(ulimit -n) hard=$(ulimit -Hn)'
    network_mode: none
    ulimits:
      nofile: {soft: 1024, hard: 2048}
    pids_limit: 100
YAML
out=$(timeout 120 "$STACK" up 2>&1) || fail "up failed: $out"
[[ $out == *"soft=1024 hard=2048"* ]] || fail "ulimits not applied: $out"
[[ $out == *"WARN: service a: pids_limit not supported by stack's VM runtime yet: ignored"* ]] ||
  fail "no warning naming pids_limit: $out"
timeout 60 "$STACK" down >/dev/null 2>&1

sed -i 's/nofile: {soft: 1024, hard: 2048}/nofiles: 3/' compose.yaml
rc=0
out=$(timeout 120 "$STACK" up 2>&1) || rc=$?
[[ $rc == 1 ]] || fail "attached up with a container that cannot start: exit $rc, want 1: $out"
[[ $out == *'container ulim-a-1 could not be started: service a: ulimits: unknown limit "nofiles"'* ]] ||
  fail "the reason is not named: $out"
echo "ok"
