#!/usr/bin/env bash
# `stack logs --since` / `--until` with a real VM: the stored lines keep
# their times; an RFC 3339 time, a Unix timestamp and a duration before
# now select them; -f with --until does not hang; bad values fail.
set -euo pipefail
. "$STACK_SOURCE_DIR/tests/lib/up.sh"
up_test_init verbs-logs-since

cat >compose.yaml <<'YAML'
name: vlogs
services:
  a:
    image: busybox:amd64
    command: sh -c 'echo line-one; sleep 1.5; echo line-two; sleep 300'
YAML

timeout 300 "$STACK" up -d 2>"$tmp/err" || fail "up -d: $(cat "$tmp/err")"
logs() { timeout 30 "$STACK" logs --no-color --no-log-prefix "$@" a; }
wait_for eval '[[ $(logs) == *line-two* ]]' || fail "no line-two: $(logs)"
# the time line-two was stored, from the container's log file ("<ms> o <line>")
two_ms=$(awk '$3 == "line-two" {print $1}' "$STACK_ROOT/projects/vlogs/logs/vlogs-a-1.log")
[[ -n $two_ms ]] || fail "line-two not in the log file"
two_utc=$(date -u -d "@$((two_ms / 1000)).$(printf %03d $((two_ms % 1000)))" +%Y-%m-%dT%H:%M:%S.%3NZ)
two_local=$(date -d "@$((two_ms / 1000)).$(printf %03d $((two_ms % 1000)))" +%Y-%m-%dT%H:%M:%S.%3N%:z)

[[ $(logs --since "$two_utc") == line-two ]] || fail "--since $two_utc: $(logs --since "$two_utc")"
[[ $(logs --since "$two_local") == line-two ]] || fail "--since $two_local: $(logs --since "$two_local")"
[[ $(logs --until "$two_utc") == line-one ]] || fail "--until $two_utc: $(logs --until "$two_utc")"
unix=$((two_ms / 1000)).$(printf %03d $((two_ms % 1000)))
[[ $(logs --since "$unix") == line-two ]] || fail "--since $unix: $(logs --since "$unix")"
[[ $(logs --since 1h) == line-one$'\n'line-two ]] || fail "--since 1h: $(logs --since 1h)"
[[ -z $(logs --since 0s) ]] || fail "--since 0s: $(logs --since 0s)"
[[ -z $(logs --until 1h) ]] || fail "--until 1h: $(logs --until 1h)"
[[ $(logs --since 1h --until "$two_utc") == line-one ]] || fail "--since --until"
[[ $(logs --since 1h -n 1) == line-two ]] || fail "--since with --tail: $(logs --since 1h -n 1)"
[[ $(logs -f --until "$two_utc") == line-one ]] || fail "-f --until"
out=$(timeout 30 "$STACK" logs --no-color -t --since "$two_utc" a) || fail "-t: $out"
[[ $out == *line-two* && $out != *line-one* ]] || fail "-t --since: $out"

rc=0
"$STACK" logs --since yesterday a 2>"$tmp/err" || rc=$?
((rc == 1)) && grep -q 'invalid --since "yesterday"' "$tmp/err" || fail "bad --since: $rc $(cat "$tmp/err")"
rc=0
"$STACK" logs --until 5x a 2>"$tmp/err" || rc=$?
((rc == 1)) && grep -q 'invalid --until "5x"' "$tmp/err" || fail "bad --until: $rc $(cat "$tmp/err")"
echo ok
