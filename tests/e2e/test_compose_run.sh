#!/usr/bin/env bash
# `stack run SERVICE` (Compose's one-off containers) with real VMs: db
# (httpd) and app (depends on db).  `run --rm app echo hi` starts db first,
# prints hi, exits 0 and leaves no run container; exit codes come back; -e
# and the service's environment apply; the run container resolves db by
# name; --no-deps on a fresh project starts nothing else; a word that is
# no service is `no such service`, and `container run` is the image form
# in the same directory; -d prints the name, the container
# shows in ps, and runs the service's health check; -v adds mounts; ps shows
# the command the VM runs (an entrypoint drops the image's CMD); `down`
# removes a kept (non --rm) run container.
set -euo pipefail
. "$STACK_SOURCE_DIR/tests/lib/up.sh"
up_test_init compose-run

project=crun$$
free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'; }
svc_port=$(free_port)
cat >compose.yaml <<YAML
name: $project
services:
  db:
    image: busybox:amd64
    command: sh -c 'sleep 1; mkdir -p /www && echo db-page >/www/index.html && exec httpd -f -p 80 -h /www'
    healthcheck:
      test: ["CMD", "wget", "-q", "-O", "/dev/null", "http://127.0.0.1/"]
      interval: 1s
      retries: 30
  app:
    image: busybox:amd64
    command: echo default-command
    ports: ["127.0.0.1:$svc_port:80"]
    environment:
      SVC_VAR: from-service
      FOO: service-foo
    depends_on:
      db:
        condition: service_healthy
  idle:
    image: busybox:amd64
    entrypoint: ["echo", "from-entrypoint"]
YAML

run() { timeout 300 "$STACK" run "$@" </dev/null; }
ps_names() { "$STACK" ps -a --format json | python3 -c '
import json, sys
for l in sys.stdin:
    l = l.strip()
    if l:
        r = json.loads(l)
        print(r["Name"], r["Service"], r["State"], r["Health"])'; }

# --no-deps on a fresh project: only the run container, db never starts
out=$(run --rm --no-deps app echo solo 2>"$tmp/err") || fail "run --no-deps: $(cat "$tmp/err")"
[[ $out == solo ]] || fail "run --no-deps output: '$out' $(cat "$tmp/err")"
[[ -z $(ps_names | grep " db ") ]] || fail "--no-deps started db: $(ps_names)"

# the first run brings db up, waits for it to be healthy (the condition),
# prints hi, exits 0, removes its container
out=$(run --rm app sh -c 'wget -q -O - http://db/ && echo hi' 2>"$tmp/err") ||
  fail "run app echo hi: rc=$? $(cat "$tmp/err")"
[[ $out == $'db-page\nhi' ]] || fail "run output (db not up and healthy first?): '$out' $(cat "$tmp/err")"
ps_names | grep -q "^$project-db-1 db running healthy$" || fail "db is not running: $(ps_names)"
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

# the service's name is not the run container's (no app container runs)
out=$(run --rm app sh -c 'nslookup app >/dev/null 2>&1 && echo found || echo none' 2>"$tmp/err")
[[ $out == none ]] || fail "a run container answers to its service's name: '$out'"
# ... unless --use-aliases
out=$(run --rm --use-aliases app sh -c 'nslookup app >/dev/null 2>&1 && echo found || echo none' 2>"$tmp/err")
[[ $out == found ]] || fail "run --use-aliases: the service's name does not resolve: '$out'"

# -v: a directory (relative to the current directory, read-only) and a
# single file, on top of the service's mounts
mkdir -p runsrc && echo from-dir >runsrc/f && echo from-file >one.txt
out=$(run --rm --no-deps -v ./runsrc:/mnt/src:ro -v "$PWD/one.txt:/etc/one.txt" app \
  sh -c 'cat /mnt/src/f /etc/one.txt; touch /mnt/src/g 2>/dev/null || echo read-only' 2>"$tmp/err") ||
  fail "run -v: $(cat "$tmp/err")"
[[ $out == $'from-dir\nfrom-file\nread-only' ]] || fail "run -v: '$out' $(cat "$tmp/err")"
rc=0
out=$(run --rm --no-deps -v 'bad::x' app true 2>&1) || rc=$?
[[ $rc != 0 && $out == *'-v/--volume: invalid volume "bad::x"'* ]] || fail "run -v bad::x: rc=$rc $out"

# stdin reaches the process
out=$(echo piped | timeout 300 "$STACK" run --rm -T app cat 2>"$tmp/err") ||
  fail "stdin: $(cat "$tmp/err")"
[[ $out == piped ]] || fail "stdin: '$out'"

# a word that is not a service is Compose's error, not an image to pull;
# the image form is `stack container run` in the same directory
rc=0
out=$(timeout 120 "$STACK" run --rm busybox:amd64 echo image-form 2>&1) || rc=$?
[[ $rc == 1 && $out == "no such service: busybox:amd64" ]] || fail "not a service: rc=$rc '$out'"
out=$(timeout 120 "$STACK" container run --rm busybox:amd64 echo image-form 2>"$tmp/err") ||
  fail "image form: $(cat "$tmp/err")"
[[ $out == image-form ]] || fail "image form: '$out'"

# -d: the name is printed, the container shows in ps while it runs
name=$(run -d app sleep 600 2>"$tmp/err") || fail "run -d: $(cat "$tmp/err")"
[[ $name == $project-app-run-[0-9a-f][0-9a-f][0-9a-f][0-9a-f][0-9a-f][0-9a-f][0-9a-f][0-9a-f][0-9a-f][0-9a-f][0-9a-f][0-9a-f] ]] ||
  fail "run -d printed '$name'"
wait_for eval 'ps_names | grep -q "^$name app running"' || fail "run -d container in ps: $(ps_names)"
# a one-off container of a service with a health check runs it, as
# Compose's do (and does not stand in for db's own container)
hname=$(run -d db 2>"$tmp/err") || fail "run -d db: $(cat "$tmp/err")"
for _ in $(seq 60); do
  ps_names | grep -q "^$hname db running healthy$" && break
  sleep 0.5
done
ps_names | grep -q "^$hname db running healthy$" || fail "a one-off container's health check: $(ps_names)"

# ports: the service's only with --service-ports, -p its own
serve='echo served >/tmp/index.html && exec httpd -f -p 80 -h /tmp'
listening() { ss -ltnH "sport = :$1" | grep -q .; }
retry() { local i; for ((i = 0; i < 60; i++)); do "$@" && return 0; sleep 0.5; done; return 1; }
plain=$(run -d app sh -c "$serve" 2>"$tmp/err") || fail "run -d httpd: $(cat "$tmp/err")"
wait_for eval 'ps_names | grep -q "^$plain app running"' || fail "$plain not running: $(ps_names)"
listening "$svc_port" && fail "the service's port $svc_port is published without --service-ports"
sp=$(run -d --service-ports app sh -c "$serve" 2>"$tmp/err") || fail "-P: $(cat "$tmp/err")"
out=$(retry curl -sf "http://127.0.0.1:$svc_port/") || fail "--service-ports: nothing on $svc_port"
[[ $out == served ]] || fail "--service-ports answer: '$out'"
p_port=$(free_port)
pp=$(run -d -p "127.0.0.1:$p_port:80" app sh -c "$serve" 2>"$tmp/err") || fail "-p: $(cat "$tmp/err")"
out=$(retry curl -sf "http://127.0.0.1:$p_port/") || fail "-p: nothing on $p_port"
[[ $out == served ]] || fail "-p answer: '$out'"
"$STACK" stop -t 1 "$plain" "$sp" "$pp" >/dev/null 2>&1 || fail "stop run containers"

# Ctrl-C (SIGINT to run, no tty) reaches the process
timeout 300 "$STACK" run --rm -T app sh -c 'trap "echo got-int; exit 9" INT; echo ready; while :; do sleep 0.1; done' \
  </dev/null >"$tmp/int.out" 2>"$tmp/err" &
pid=$!
wait_for grep -q ready "$tmp/int.out" || sleep 5
grep -q ready "$tmp/int.out" || fail "the trap command did not start: $(cat "$tmp/err")"
kill -INT $pid
rc=0
wait $pid || rc=$?
[[ $rc == 9 && $(cat "$tmp/int.out") == *got-int* ]] || fail "SIGINT: rc=$rc $(cat "$tmp/int.out")"

# a kept run container (no --rm) stays after it exits, with its code
out=$(run --name "$project-kept" app sh -c 'echo kept; exit 5' 2>"$tmp/err") && fail "kept: rc 0"
[[ $out == kept ]] || fail "kept: '$out'"
ps_names | grep -q "^$project-kept app exited" || fail "kept run container: $(ps_names)"

# an entrypoint without a command drops the image's CMD (busybox's "sh"),
# in the VM and in what ps shows
out=$(run --name "$project-ep" idle 2>"$tmp/err") || fail "entrypoint only: $(cat "$tmp/err")"
[[ $out == from-entrypoint ]] || fail "entrypoint only: '$out'"
cmd=$("$STACK" ps -a --format json | python3 -c '
import json, sys
for l in sys.stdin:
    r = json.loads(l) if l.strip() else None
    if r and r["Name"] == sys.argv[1]:
        print(r["Command"])' "$project-ep")
[[ $cmd == '"echo from-entrypoint"' ]] || fail "ps Command after an entrypoint: $cmd"

# down removes all of it, the running and the kept run containers too
timeout 120 "$STACK" down -t 1 2>"$tmp/err" >/dev/null || fail "down: $(cat "$tmp/err")"
[[ -z $("$STACK" ps -aq) ]] || fail "containers left after down: $(ps_names)"
pgrep -f "guest=$project-" >/dev/null && fail "VMs left after down: $(pgrep -af "guest=$project-")"
echo ok
