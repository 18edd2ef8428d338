#!/usr/bin/env bash
# Every Compose key stack does not honour is named by `up`, with its reason,
# in one warning per service (docs/compose-compat.md, generated from the same
# table): logging, devices, develop.watch, mem_reservation and cpu_shares are
# not dropped silently, the service still runs, and a service that sets only
# honoured keys gets no warning.  network_mode: host is refused before
# anything is made, naming file:line:col and what to do instead.
set -euo pipefail
source "$STACK_SOURCE_DIR/tests/lib/up.sh"
up_test_init unhonoured

cat >compose.yaml <<'YAML'
name: unhon
services:
  a:
    image: busybox:amd64
    command: sleep 3600
    network_mode: none
    logging:
      driver: syslog
      options: {tag: a}
    devices: [/dev/fuse]
    develop:
      watch:
        - {path: ./src, action: sync, target: /src}
    mem_reservation: 32m
    cpu_shares: 512
    stop_grace_period: 1s
  b:
    image: busybox:amd64
    command: sleep 3600
    network_mode: none
    read_only: true
    stop_grace_period: 1s
YAML
out=$(timeout 180 "$STACK" up -d 2>&1) || fail "up failed: $out"
warns=$(grep '^WARN' <<<"$out" || true)
[[ $(grep -c . <<<"$warns") == 1 ]] || fail "want one warning, got: $warns"
want="WARN: service a: not supported by stack's VM runtime, ignored: logging (stack logs reads the VM's output: logging drivers and their options are not used), devices (no device pass-through into VMs), develop.watch (no file watching (\`up --watch\`) yet), mem_reservation (no meaning for a VM with its own memory: use mem_limit), cpu_shares (no meaning inside a VM, whose vCPUs are its own: use cpus)"
[[ $warns == "$want" ]] || fail "warning: $warns"$'\n'"want: $want"
ps=$(timeout 60 "$STACK" ps --format json 2>&1 |
  python3 -c 'import json,sys; [print(c["Service"], c["State"]) for c in map(json.loads, sys.stdin)]') ||
  fail "ps: $ps"
grep -q '^a running' <<<"$ps" || fail "a does not run: $ps"
grep -q '^b running' <<<"$ps" || fail "b does not run: $ps"
timeout 120 "$STACK" down -t 0 >/dev/null 2>&1 || fail "down"

# network_mode: host is refused at load: no supervisor, no state, no bridge
mkdir -p "$tmp/host" && cd "$tmp/host"
cat >compose.yaml <<'YAML'
name: unhonhost
services:
  web:
    image: busybox:amd64
    command: sleep 3600
    network_mode: host
YAML
rc=0
timeout 60 "$STACK" up -d >"$tmp/out" 2>&1 || rc=$?
((rc == 1)) || fail "up with network_mode host: exit $rc: $(cat "$tmp/out")"
grep -qF 'compose.yaml:6:19: services.web.network_mode: "host" is not possible: each service runs in its own VM' "$tmp/out" ||
  fail "no error naming the position and the reason: $(cat "$tmp/out")"
grep -qF 'with `ports:`' "$tmp/out" || fail "the error does not say what to do: $(cat "$tmp/out")"
! grep -q Container "$tmp/out" || fail "a container was made: $(cat "$tmp/out")"
[[ ! -e $STACK_ROOT/projects/unhonhost && ! -e $STACK_RUN_DIR/projects/unhonhost ]] ||
  fail "state was made: $(find "$STACK_ROOT/projects" "$STACK_RUN_DIR/projects" 2>/dev/null)"
[[ -z $(ls -A "$STACK_ROOT/containers" 2>/dev/null) ]] || fail "container state: $(ls -A "$STACK_ROOT/containers")"
for p in /proc/[0-9]*; do
  [[ $(tr '\0' ' ' <"$p/cmdline" 2>/dev/null) != *" supervisor unhonhost "* ]] || fail "a supervisor runs"
done
rc=0
timeout 60 "$STACK" config >/dev/null 2>"$tmp/out" || rc=$?
((rc == 1)) && grep -qF 'services.web.network_mode: "host"' "$tmp/out" || fail "config: $rc: $(cat "$tmp/out")"
echo ok
