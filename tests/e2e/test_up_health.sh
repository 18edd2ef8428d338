#!/usr/bin/env bash
# Health checks with real VMs, run as exec sessions in the guest: a
# health-gated start (web: busybox httpd checked with wget; app waits for it
# to be healthy); a dependency that never gets healthy fails `up -d` with
# Compose's message and leaves the dependent created; `up --wait` succeeds
# once all run and are healthy; `--wait-timeout` fails rather than hangs.
set -euo pipefail
. "$STACK_SOURCE_DIR/tests/lib/up.sh"
up_test_init up-health

cat >compose.yaml <<'YAML'
name: uphealth
services:
  web:
    image: busybox:amd64
    command: sh -c 'echo ok >/tmp/index.html; sleep 2; exec httpd -f -p 8080 -h /tmp'
    healthcheck:
      test: ["CMD", "wget", "-q", "-O", "/dev/null", "http://127.0.0.1:8080/"]
      interval: 500ms
      retries: 20
  app:
    image: busybox:amd64
    command: sh -c 'echo app-started; sleep 300'
    depends_on:
      web:
        condition: service_healthy
  sick:
    image: busybox:amd64
    command: sleep 300
    healthcheck:
      test: "false"
      interval: 300ms
      retries: 2
  never:
    image: busybox:amd64
    command: echo never-ran
    depends_on:
      sick:
        condition: service_healthy
  slow:
    image: busybox:amd64
    command: sleep 300
    healthcheck:
      test: ["CMD", "false"]
      interval: 1s
      start_period: 1h
YAML

timeout 300 "$STACK" up -d app 2>"$tmp/err" || fail "up -d app: $(cat "$tmp/err")"
ps_out=$("$STACK" ps)
grep -q '^uphealth-web-1 .*Up .* (healthy)' <<<"$ps_out" || fail "web not healthy: $ps_out"
wait_for eval '[[ $("$STACK" logs --no-color app) == *app-started* ]]' || fail "app: $("$STACK" logs app)"
# app started only once web could be healthy: httpd listens 2 s after web started
python3 - "$STACK_ROOT/projects/uphealth/state.json" <<'PY' || fail "app started before web was healthy"
import json, sys
c = {x["service"]: x for x in json.load(open(sys.argv[1]))["containers"]}
assert c["app"]["started"] - c["web"]["started"] >= 2000, (c["web"]["started"], c["app"]["started"])
PY
events=$("$STACK" ps -a --format json web)
[[ $events == *'"Health":"healthy"'* ]] || fail "ps json health: $events"

rc=0
timeout 300 "$STACK" up -d never 2>"$tmp/err" || rc=$?
((rc == 1)) || fail "up -d never returned $rc: $(cat "$tmp/err")"
grep -q "dependency failed to start: container uphealth-sick-1 is unhealthy" "$tmp/err" ||
  fail "message: $(cat "$tmp/err")"
grep -q '^uphealth-never-1 .*Created' <<<"$("$STACK" ps -a)" || fail "never not left created: $("$STACK" ps -a)"
[[ $("$STACK" logs never) != *never-ran* ]] || fail "never ran"

timeout 300 "$STACK" up --wait web app 2>"$tmp/err" || fail "up --wait: $(cat "$tmp/err")"
start=$SECONDS
rc=0
timeout 120 "$STACK" up --wait-timeout 3 slow 2>"$tmp/err" || rc=$?
((rc == 1)) || fail "up --wait-timeout returned $rc: $(cat "$tmp/err")"
grep -q "application not healthy after 3s" "$tmp/err" || fail "wait-timeout message: $(cat "$tmp/err")"
((SECONDS - start < 30)) || fail "--wait-timeout took $((SECONDS - start)) s"
echo ok
