#!/usr/bin/env bash
# Which output an attached `stack up` shows and waits for, as Compose picks
# it: `up SERVICE` attaches to SERVICE only (its dependency keeps running
# when it ends), --attach-dependencies adds the dependencies, --no-attach
# and `attach: false` leave services out, --attach names them; bad
# combinations are refused.  `--pull never` with a missing image fails
# naming the service, and `--timestamps` prefixes lines.
set -euo pipefail
. "$STACK_SOURCE_DIR/tests/lib/up.sh"
up_test_init up-attach

cat >compose.yaml <<'YAML'
name: upattach
services:
  db:
    image: busybox:amd64
    command: sh -c 'while :; do echo db-line; sleep 0.2; done'
  job:
    image: busybox:amd64
    command: sh -c 'sleep 1; echo job-line'
    depends_on: [db]
  quiet:
    image: busybox:amd64
    attach: false
    command: sh -c 'sleep 1; echo quiet-line'
YAML

# up SERVICE: only SERVICE is attached; up ends when it does, db runs on
out=$(timeout 300 "$STACK" up --no-color job 2>"$tmp/err") || fail "up job: $(cat "$tmp/err")"
grep -qx "Attaching to upattach-job-1" <<<"$out" || fail "up job: attach line: $out"
grep -q "^job-1 *| job-line$" <<<"$out" || fail "up job: no job output: $out"
! grep -q "db-line" <<<"$out" || fail "up job: db was attached: $out"
[[ $("$STACK" ps --status running -q db) ]] || fail "db stopped with job: $("$STACK" ps -a)"

# --attach-dependencies: db's output too; abort stops both when job exits
out=$(timeout 300 "$STACK" up --no-color --attach-dependencies --abort-on-container-exit job \
  2>"$tmp/err") || fail "up --attach-dependencies: $(cat "$tmp/err")"
grep -q "^Attaching to upattach-db-1, upattach-job-1$" <<<"$out" ||
  fail "--attach-dependencies: attach line: $out"
grep -q "^db-1 *| db-line$" <<<"$out" || fail "--attach-dependencies: no db output: $out"
grep -q "^job-1 *| job-line$" <<<"$out" || fail "--attach-dependencies: no job output: $out"
[[ -z $("$STACK" ps --status running -q) ]] || fail "abort left containers running"

# every service but --no-attach's and attach: false's
out=$(timeout 300 "$STACK" up --no-color --no-attach db --abort-on-container-exit \
  2>"$tmp/err") || fail "up --no-attach: $(cat "$tmp/err")"
grep -qx "Attaching to upattach-job-1" <<<"$out" || fail "--no-attach: attach line: $out"
! grep -q "db-line\|quiet-line" <<<"$out" || fail "--no-attach: unattached output shown: $out"
grep -q "^job-1 *| job-line$" <<<"$out" || fail "--no-attach: no job output: $out"
# the abort stopped (and up waited for) the unattached db too
[[ -z $("$STACK" ps --status running -q) ]] || fail "--no-attach abort left containers running"

# --attach picks exactly, also a service with attach: false; up ends when
# both have ended, db runs on; --timestamps prefixes RFC 3339 times
out=$(timeout 300 "$STACK" up --no-color --timestamps --attach quiet --attach job \
  2>"$tmp/err") || fail "up --attach: $(cat "$tmp/err")"
attach_line=$(grep "^Attaching to " <<<"$out") || fail "--attach: no attach line: $out"
[[ $attach_line == "Attaching to upattach-job-1, upattach-quiet-1" ||
  $attach_line == "Attaching to upattach-quiet-1, upattach-job-1" ]] ||
  fail "--attach: attach line: $attach_line"
for s in job quiet; do
  grep -Eq "^$s-1 *\| 20[0-9]{2}-[0-9]{2}-[0-9]{2}T[0-9:]{8}\.[0-9]{3}Z $s-line$" <<<"$out" ||
    fail "--attach --timestamps: no $s line: $out"
  grep -q "^$s-1 exited with code 0$" <<<"$out" || fail "--attach: $s exit: $out"
done
! grep -q "db-line" <<<"$out" || fail "--attach: db was attached: $out"
[[ $("$STACK" ps --status running -q db) ]] || fail "db stopped with --attach's services"

# refused combinations and values
! "$STACK" up --attach nosuch >/dev/null 2>"$tmp/err" || fail "--attach nosuch accepted"
grep -q "cannot attach to services not included in up: nosuch" "$tmp/err" ||
  fail "--attach nosuch: $(cat "$tmp/err")"
! "$STACK" up -d --attach job >/dev/null 2>"$tmp/err" || fail "-d --attach accepted"
grep -q "need attached mode" "$tmp/err" || fail "-d --attach: $(cat "$tmp/err")"
! "$STACK" up --attach job --attach-dependencies >/dev/null 2>"$tmp/err" ||
  fail "--attach with --attach-dependencies accepted"
! "$STACK" up -d --pull sometimes >/dev/null 2>"$tmp/err" || fail "--pull sometimes accepted"
grep -q 'invalid --pull "sometimes"' "$tmp/err" || fail "--pull sometimes: $(cat "$tmp/err")"

# --pull never: a missing image is an error naming the service, not a pull
cat >compose.yaml <<'YAML'
name: upattach
services:
  gone:
    image: busybox:no-such-tag
YAML
! timeout 60 "$STACK" up -d --pull never >/dev/null 2>"$tmp/err" || fail "--pull never started"
grep -q "service gone" "$tmp/err" || fail "--pull never: $(cat "$tmp/err")"

timeout 120 "$STACK" down --remove-orphans -t 0 >/dev/null 2>&1 || fail "down"
echo ok
