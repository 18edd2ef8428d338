#!/usr/bin/env bash
# `stack up` with real VMs: an init job gates its dependent (foo echoes hello,
# bar waits for foo to complete and echoes world; attached up shows hello
# first); a second up recreates nothing; a changed environment recreates
# exactly that service; stop/start reuse the containers; down removes all.
set -euo pipefail
. "$STACK_SOURCE_DIR/tests/lib/up.sh"
up_test_init up-order

cat >compose.yaml <<'YAML'
name: uporder
services:
  foo:
    image: busybox:amd64
    command: echo hello
  bar:
    image: busybox:amd64
    command: sh -c 'echo world; echo "X=$$X"'
    environment:
      X: one
    depends_on:
      foo:
        condition: service_completed_successfully
YAML

out=$(timeout 300 "$STACK" up --no-color 2>"$tmp/err") || fail "up: $(cat "$tmp/err")"
grep -q "^Attaching to uporder-foo-1, uporder-bar-1" <<<"$out" || fail "attach line: $out"
hello=$(grep -n "^foo-1 | hello$" <<<"$out" | cut -d: -f1)
world=$(grep -n "^bar-1 | world$" <<<"$out" | cut -d: -f1)
foo_exit=$(grep -n "^foo-1 exited with code 0$" <<<"$out" | cut -d: -f1)
[[ -n $hello && -n $world && -n $foo_exit ]] || fail "output: $out"
((hello < world && foo_exit < world)) || fail "bar ran before foo completed: $out"
grep -q "^bar-1 exited with code 0$" <<<"$out" || fail "bar exit: $out"

# bar started after foo exited 0
ps_json=$("$STACK" ps -a --format json)
python3 - "$ps_json" <<'PY' || fail "ps after up: $ps_json"
import json, sys
rows = {r["Service"]: r for r in map(json.loads, sys.argv[1].splitlines())}
assert rows["foo"]["State"] == "exited" and rows["foo"]["ExitCode"] == 0, rows
assert rows["bar"]["State"] == "exited" and rows["bar"]["ExitCode"] == 0, rows
PY
ids1=$("$STACK" ps -aq | sort)

# no change: nothing recreated
timeout 300 "$STACK" up -d 2>"$tmp/err" >/dev/null || fail "second up: $(cat "$tmp/err")"
[[ $("$STACK" ps -aq | sort) == "$ids1" ]] || fail "up with no change recreated containers"

# a changed environment recreates exactly bar
sed -i 's/X: one/X: two/' compose.yaml
timeout 300 "$STACK" up -d 2>"$tmp/err" >/dev/null || fail "third up: $(cat "$tmp/err")"
foo_id=$("$STACK" ps -aq foo)
bar_id=$("$STACK" ps -aq bar)
grep -qx "$foo_id" <<<"$ids1" || fail "foo was recreated"
! grep -qx "$bar_id" <<<"$ids1" || fail "bar was not recreated"
wait_for eval '[[ $("$STACK" logs --no-color bar) == *X=two* ]]' || fail "bar logs: $("$STACK" logs bar)"

# stop, start: the same containers
"$STACK" stop 2>/dev/null || fail "stop"
timeout 300 "$STACK" start bar 2>"$tmp/err" || fail "start: $(cat "$tmp/err")"
[[ $("$STACK" ps -aq foo) == "$foo_id" && $("$STACK" ps -aq bar) == "$bar_id" ]] ||
  fail "start recreated containers"
hellos() { local l; l=$("$STACK" logs --no-color foo); grep -c "^foo-1 *| hello$" <<<"$l" || true; }
wait_for eval '[[ $(hellos) -ge 2 ]]' ||
  fail "start did not run the dependency foo again: $("$STACK" logs foo)"

timeout 120 "$STACK" down 2>"$tmp/err" || fail "down: $(cat "$tmp/err")"
[[ -z $("$STACK" ps -aq) ]] || fail "containers left after down"
echo ok
