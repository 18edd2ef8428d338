#!/usr/bin/env bash
# A service's ulimits reach its process, and pids_limit caps its processes
# (exec sessions join the same cgroup), and without ulimits nofile is
# Docker's 1048576; a container that cannot start makes
# an attached `up` fail at once with the reason; keys the VM runtime does not
# honour yet are named, not silently dropped; stdin_open keeps stdin open.
set -euo pipefail
source "$STACK_SOURCE_DIR/tests/lib/up.sh"
up_test_init ulimits

cat > compose.yaml <<'YAML'
name: ulim
services:
  a:
    image: busybox:amd64
    command: >-
      sh -c 'echo soft=$$(ulimit -n) hard=$$(ulimit -Hn);
      echo cg=$$(cat /proc/self/cgroup) max=$$(cat /sys/fs/cgroup/stack-ctr/pids.max);
      for i in 1 2 3 4 5 6 7 8; do sleep 2 & done; wait'
    network_mode: none
    ulimits:
      nofile: {soft: 1024, hard: 2048}
    pids_limit: 5
    volumes:
      - {type: npipe, source: '\\.\pipe\x', target: /x}
YAML
out=$(timeout 120 "$STACK" up 2>&1) || fail "up failed: $out"
[[ $out == *"soft=1024 hard=2048"* ]] || fail "ulimits not applied: $out"
[[ $out == *"cg=0::/stack-ctr max=5"* ]] || fail "pids_limit: no cgroup: $out"
[[ $out == *"can't fork"* ]] || fail "pids_limit: 8 children forked under a limit of 5: $out"
[[ $out != *pids_limit* ]] || fail "pids_limit named as not supported: $out"
[[ $out == *"WARN: service a: not supported by stack's VM runtime, ignored: volumes of type npipe (/x) (only bind, volume and tmpfs mounts exist in a VM)"* ]] ||
  fail "no warning naming the npipe volume: $out"
timeout 60 "$STACK" down >/dev/null 2>&1

# stdin_open: the process's stdin stays open (cat waits) instead of being
# at end of file (cat ends at once)
cp compose.yaml compose.keep
cat > compose.yaml <<'YAML'
name: ulim
services:
  closed:
    image: busybox:amd64
    command: sh -c 'cat; echo eof-closed; sleep 3600'
    network_mode: none
  open:
    image: busybox:amd64
    command: sh -c 'cat; echo eof-open; sleep 3600'
    network_mode: none
    stdin_open: true
    deploy:
      resources:
        limits:
          pids: 50
YAML
out=$(timeout 120 "$STACK" up -d 2>&1) || fail "up -d (stdin_open) failed: $out"
[[ $out != *"not supported"* ]] || fail "stdin_open warned about: $out"
wait_for eval '[[ $("$STACK" logs closed) == *eof-closed* ]]' ||
  fail "without stdin_open, stdin was not at end of file: $("$STACK" logs closed)"
sleep 1
[[ $("$STACK" logs open) != *eof-open* ]] || fail "with stdin_open, stdin was at end of file"
# deploy.resources.limits.pids; an exec session joins the container's cgroup
out=$(timeout 60 "$STACK" exec -T open sh -c 'cat /proc/self/cgroup /sys/fs/cgroup/stack-ctr/pids.max')
[[ $out == $'0::/stack-ctr\n50' ]] || fail "exec session's cgroup: $out"
# without ulimits, open files are limited as under Docker (1048576), not
# by a PID 1's 1024
out=$(timeout 60 "$STACK" exec -T open sh -c 'ulimit -n; ulimit -Hn')
[[ $out == $'1048576\n1048576' ]] || fail "default nofile limit (soft, hard): $out"
timeout 60 "$STACK" down -t 0 >/dev/null 2>&1
mv compose.keep compose.yaml

sed -i 's/nofile: {soft: 1024, hard: 2048}/nofiles: 3/' compose.yaml
rc=0
out=$(timeout 120 "$STACK" up 2>&1) || rc=$?
[[ $rc == 1 ]] || fail "attached up with a container that cannot start: exit $rc, want 1: $out"
[[ $out == *'container ulim-a-1 could not be started: service a: ulimits: unknown limit "nofiles"'* ]] ||
  fail "the reason is not named: $out"
echo "ok"
