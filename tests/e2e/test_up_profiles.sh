#!/usr/bin/env bash
# Profiles as Compose has them: a service whose profile is not active is
# not part of the project (config does not print it, up never creates it),
# also when another service lists it in depends_on with required: false;
# naming a profiled service activates it; later plain stop/start/restart
# act on its existing container.
set -euo pipefail
. "$STACK_SOURCE_DIR/tests/lib/up.sh"
up_test_init up-profiles

cat >compose.yaml <<'YAML'
name: upprofiles
services:
  app:
    image: busybox:amd64
    command: sleep 300
    depends_on:
      debug:
        condition: service_started
        required: false
  debug:
    image: busybox:amd64
    command: sleep 300
    profiles: [dbg]
YAML
out=$("$STACK" config --services)
[[ $out == app ]] || fail "config --services: $out"
! "$STACK" config | grep -q 'debug:' || fail "config prints the inactive service: $("$STACK" config)"
[[ $("$STACK" --profile dbg config --services | sort | tr '\n' ' ') == "app debug " ]] ||
  fail "--profile dbg: $("$STACK" --profile dbg config --services)"

timeout 300 "$STACK" up -d 2>"$tmp/err" || fail "up -d: $(cat "$tmp/err")"
out=$("$STACK" ps -a --format '{{.Name}}' 2>/dev/null || "$STACK" ps -a)
[[ $out != *upprofiles-debug-1* ]] || fail "up created the inactive service: $out"
grep -q "^upprofiles-app-1 .*Up" <<<"$("$STACK" ps -a)" || fail "app not up: $("$STACK" ps -a)"

# naming it activates it
timeout 300 "$STACK" up -d debug 2>"$tmp/err" || fail "up -d debug: $(cat "$tmp/err")"
grep -q "^upprofiles-debug-1 .*Up" <<<"$("$STACK" ps -a)" || fail "debug not up: $("$STACK" ps -a)"

# plain stop, start and restart act on it
timeout 120 "$STACK" stop -t 0 2>"$tmp/err" || fail "stop: $(cat "$tmp/err")"
grep -q "upprofiles-debug-1  Stopped" "$tmp/err" || fail "stop did not stop debug: $(cat "$tmp/err")"
grep -q "^upprofiles-debug-1 .*Exited" <<<"$("$STACK" ps -a)" || fail "debug not stopped: $("$STACK" ps -a)"
timeout 300 "$STACK" start 2>"$tmp/err" || fail "start: $(cat "$tmp/err")"
grep -q "upprofiles-debug-1  Started" "$tmp/err" || fail "start did not start debug: $(cat "$tmp/err")"
grep -q "^upprofiles-debug-1 .*Up" <<<"$("$STACK" ps -a)" || fail "debug not started: $("$STACK" ps -a)"
timeout 300 "$STACK" restart -t 0 2>"$tmp/err" || fail "restart: $(cat "$tmp/err")"
grep -q "upprofiles-debug-1  Started" "$tmp/err" || fail "restart did not restart debug: $(cat "$tmp/err")"
grep -q "^upprofiles-debug-1 .*Up" <<<"$("$STACK" ps -a)" || fail "debug not restarted: $("$STACK" ps -a)"
echo ok
