#!/usr/bin/env bash
# `down` leaves no project directory behind: no state, log, lock file or
# empty logs/layers/binds directory under the state and run directories,
# whether the project ran, was stopped first, had one-off containers, or
# never got past a failed first up.
set -euo pipefail
. "$STACK_SOURCE_DIR/tests/lib/up.sh"
up_test_init down-clean

check_clean() {
  local left
  left=$(find "$STACK_RUN_DIR" "$STACK_ROOT" -path "*downclean*" 2>/dev/null)
  [[ -z $left ]] || fail "$1: down left: $left"
  left=$(ls -A "$STACK_ROOT/containers" 2>/dev/null)
  [[ -z $left ]] || fail "$1: down left containers: $left"
  left=$(ls -A "$STACK_RUN_DIR/projects" "$STACK_ROOT/projects" 2>/dev/null | grep -v ':$' | grep . || true)
  [[ -z $left ]] || fail "$1: down left project directories: $left"
}

cat >compose.yaml <<'YAML'
name: downclean
services:
  app:
    image: busybox:amd64
    command: sh -c 'echo hello; sleep 300'
  job:
    image: busybox:amd64
    command: echo done
YAML
timeout 300 "$STACK" up -d 2>"$tmp/err" || fail "up: $(cat "$tmp/err")"
timeout 300 "$STACK" run -d app sleep 300 >/dev/null 2>"$tmp/err" || fail "run -d: $(cat "$tmp/err")"
timeout 120 "$STACK" down -t 0 2>"$tmp/err" || fail "down: $(cat "$tmp/err")"
check_clean "running project with a one-off"

timeout 300 "$STACK" up -d 2>"$tmp/err" || fail "up: $(cat "$tmp/err")"
timeout 120 "$STACK" stop -t 0 2>"$tmp/err" || fail "stop: $(cat "$tmp/err")"
timeout 120 "$STACK" down 2>"$tmp/err" || fail "down after stop: $(cat "$tmp/err")"
check_clean "stopped project"

# a first up that fails (an image that is not there) is undone
cat >compose.yaml <<'YAML'
name: downclean
services:
  app:
    image: 127.0.0.1:1/no/such-image:latest
    pull_policy: never
YAML
! timeout 120 "$STACK" up -d >/dev/null 2>&1 || fail "up with a missing image succeeded"
timeout 120 "$STACK" down 2>"$tmp/err" || fail "down after a failed up: $(cat "$tmp/err")"
check_clean "failed first up"
echo ok
