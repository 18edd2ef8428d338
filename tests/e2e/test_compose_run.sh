#!/usr/bin/env bash
# `stack run SERVICE` (Compose's one-off containers) with real VMs: db
# (httpd) and app (depends on db).  `run --rm app echo hi` starts db first,
# prints hi, exits 0 and leaves no run container; exit codes come back; -e
# and the service's environment apply; the run container resolves db by
# name; --no-deps on a fresh project starts nothing else; the image form
# still works in the same directory; -d prints the name, the container
# shows in ps; `down` removes a kept (non --rm) run container.
set -euo pipefail
. "$STACK_SOURCE_DIR/tests/lib/up.sh"
up_test_init compose-run

project=crun$$
cat >compose.yaml <<YAML
name: $project
services:
  db:
    image: busybox:amd64
    command: sh -c 'mkdir -p /www && echo db-page >/www/index.html && exec httpd -f -p 80 -h /www'
  app:
    image: busybox:amd64
    command: echo default-command
    environment:
      SVC_VAR: from-service
      FOO: service-foo
    depends_on: [db]
YAML

run() { timeout 300 "$STACK" run "$@" </dev/null; }
ps_names() { "$STACK" ps -a --format json | python3 -c '
import json, sys
for l in sys.stdin:
    l = l.strip()
    if l:
        r = json.loads(l)
        print(r["Name"], r["Service"], r["State"])'; }

# --no-deps on a fresh project: only the run container, db never starts
out=$(run --rm --no-deps app echo solo 2>"$tmp/err") || fail "run --no-deps: $(cat "$tmp/err")"
[[ $out == solo ]] || fail "run --no-deps output: '$out' $(cat "$tmp/err")"
[[ -z $(ps_names | grep " db ") ]] || fail "--no-deps started db: $(ps_names)"

# the first run brings db up, prints hi, exits 0, removes its container
out=$(run --rm app echo hi 2>"$tmp/err") || fail "run app echo hi: rc=$? $(cat "$tmp/err")"
[[ $out == hi ]] || fail "run output: '$out' $(cat "$tmp/err")"
ps_names | grep -q "^$project-db-1 db running$" || fail "db is not running: $(ps_names)"
[[ -z $(ps_names | grep -- "-run-") ]] || fail "a --rm run container is left: $(ps_names)"

# exit codes
rc=0
run --rm app sh -c 'exit 3' 2>"$tmp/err" || rc=$?
[[ $rc == 3 ]] || fail "exit 3: rc=$rc $(cat "$tmp/err")"
rc=0
run --rm app sh -c 'kill -TERM $$' 2>"$tmp/err" || rc=$?
[[ $rc == 143 ]] || fail "kill -TERM: rc=$rc, want 143 $(cat "$tmp/err")"

# -e over the service's environment; the service's own still applies
out=$(run --rm -e FOO=bar app sh -c 'echo $FOO $SVC_VAR' 2>"$tmp/err") || fail "-e: $(cat "$tmp/err")"
[[ $out == "bar from-service" ]] || fail "-e FOO=bar: '$out'"

# no command: the service's; --entrypoint, -w, -u
out=$(run --rm app 2>"$tmp/err") || fail "default command: $(cat "$tmp/err")"
[[ $out == default-command ]] || fail "default command: '$out'"
out=$(run --rm --entrypoint /bin/echo app from-entrypoint 2>"$tmp/err") ||
  fail "--entrypoint: $(cat "$tmp/err")"
[[ $out == from-entrypoint ]] || fail "--entrypoint: '$out'"
out=$(run --rm -w /tmp -u 1000 app sh -c 'echo $(pwd) $(id -u)' 2>"$tmp/err") ||
  fail "-w -u: $(cat "$tmp/err")"
[[ $out == "/tmp 1000" ]] || fail "-w /tmp -u 1000: '$out'"

# db by name on the project's network
out=$(run --rm app sh -c 'nslookup db >/dev/null && wget -q -O - http://db/' 2>"$tmp/err") ||
  fail "db by name: $out $(cat "$tmp/err")"
[[ $out == db-page ]] || fail "http://db/ from a run container: '$out'"

# stdin reaches the process
out=$(echo piped | timeout 300 "$STACK" run --rm -T app cat 2>"$tmp/err") ||
  fail "stdin: $(cat "$tmp/err")"
[[ $out == piped ]] || fail "stdin: '$out'"

# the image form in the same directory, when the word is not a service
out=$(timeout 120 "$STACK" run --rm busybox:amd64 echo image-form 2>"$tmp/err") ||
  fail "image form: $(cat "$tmp/err")"
[[ $out == image-form ]] || fail "image form: '$out'"

# -d: the name is printed, the container shows in ps while it runs
name=$(run -d app sleep 600 2>"$tmp/err") || fail "run -d: $(cat "$tmp/err")"
[[ $name == $project-app-run-[0-9a-f][0-9a-f][0-9a-f][0-9a-f][0-9a-f][0-9a-f][0-9a-f][0-9a-f][0-9a-f][0-9a-f][0-9a-f][0-9a-f] ]] ||
  fail "run -d printed '$name'"
wait_for eval 'ps_names | grep -q "^$name app running$"' || fail "run -d container in ps: $(ps_names)"

# a kept run container (no --rm) stays after it exits, with its code
out=$(run --name "$project-kept" app sh -c 'echo kept; exit 5' 2>"$tmp/err") && fail "kept: rc 0"
[[ $out == kept ]] || fail "kept: '$out'"
ps_names | grep -q "^$project-kept app exited$" || fail "kept run container: $(ps_names)"

# down removes all of it, the running and the kept run containers too
timeout 120 "$STACK" down -t 1 2>"$tmp/err" >/dev/null || fail "down: $(cat "$tmp/err")"
[[ -z $("$STACK" ps -aq) ]] || fail "containers left after down: $(ps_names)"
pgrep -f "guest=$project-" >/dev/null && fail "VMs left after down: $(pgrep -af "guest=$project-")"
echo ok
