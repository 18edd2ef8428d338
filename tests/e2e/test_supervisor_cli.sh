#!/usr/bin/env bash
# The supervisor seen from the command line, without VMs: `ps` on a project
# that never ran starts nothing; a project with state gets a supervisor on
# demand that reports it (ps, ps -a, --format json, -q, ls); a supervisor
# killed with SIGKILL is replaced by the next command; `events --json`
# streams what `down` does, and `down` leaves no supervisor behind.
set -euo pipefail
: "${STACK_BIN:?}"
tmp=$(mktemp -d /tmp/stack-e2e-sup.XXXXXX)
export STACK_ROOT=$tmp/root STACK_RUN_DIR=$tmp/run
proj=e2esup$$
run=$STACK_RUN_DIR/projects/$proj
state=$STACK_ROOT/projects/$proj
events_pid=
sup_pid() { cat "$run/supervisor.lock" 2>/dev/null || true; }
cleanup() {
  [[ -n $events_pid ]] && kill "$events_pid" 2>/dev/null || true
  local p
  p=$(sup_pid)
  # only our supervisor: the lock file may name a pid reused since
  [[ -n $p ]] && grep -qa "supervisor" "/proc/$p/cmdline" 2>/dev/null && kill -9 "$p" 2>/dev/null || true
  rm -rf "$tmp"
}
trap cleanup EXIT
fail() { echo "FAIL: $*" >&2; exit 1; }
alive() { [[ -n $1 && -e /proc/$1 ]] && ! grep -q '^[^)]*) [ZX]' "/proc/$1/stat" 2>/dev/null; }
# waits (bounded) for a condition on a process the test does not own
wait_for() { local i; for ((i = 0; i < 500; i++)); do "$@" && return 0; sleep 0.01; done; return 1; }

mkdir -p "$tmp/app"
cd "$tmp/app"
printf 'name: %s\nservices:\n  web:\n    image: busybox\n' "$proj" >compose.yaml

# nothing ran: no supervisor is started to say so
out=$("$STACK_BIN" ps)
[[ $out == "NAME   IMAGE   COMMAND   SERVICE   CREATED   STATUS   PORTS" ]] || fail "empty ps: $out"
[[ ! -e $run/supervisor.sock ]] || fail "ps started a supervisor for an empty project"
"$STACK_BIN" down || fail "down of a project that never ran"

# a project whose VM is gone (pid 4194304 is above Linux's pid_max): the supervisor
# started by ps adopts the state and accounts for it
now=$(($(date +%s) * 1000))
mkdir -p "$state"
cat >"$state/state.json" <<JSON
{"version":1,"project":"$proj","config_files":["$tmp/app/compose.yaml"],"containers":[
 {"name":"$proj-web-1","id":"$(printf 'ab%.0s' {1..32})","service":"web","number":1,
  "image":"busybox","command":"httpd -f","status":"running","created":$((now - 120000)),
  "started":$((now - 60000)),"qemu_pid":4194304,"qemu_start_time":1}]}
JSON
out=$("$STACK_BIN" ps)
[[ $(wc -l <<<"$out") == 1 ]] || fail "ps shows a container that is not running: $out"
p1=$(sup_pid)
alive "$p1" || fail "ps did not start a supervisor"
out=$("$STACK_BIN" ps -a)
grep -q "^$proj-web-1 *busybox *\"httpd -f\" *web *2 minutes ago *Exited (255) Less than a second ago" <<<"$out" ||
  fail "ps -a: $out"
"$STACK_BIN" ps -a --format json | python3 -c '
import json, sys
c = json.loads(sys.stdin.readline())
assert c["State"] == "exited" and c["ExitCode"] == 255 and c["Service"] == "web", c' ||
  fail "ps --format json"
[[ $("$STACK_BIN" ps -aq) == "$(printf 'ab%.0s' {1..32})" ]] || fail "ps -q"
[[ -z $("$STACK_BIN" ps -aq --status running) ]] || fail "ps --status running"
[[ -n $("$STACK_BIN" ps -aq --status exited) ]] || fail "ps --status exited"
[[ -z $("$STACK_BIN" ls -q) ]] || fail "ls lists a project that is not running"
out=$("$STACK_BIN" ls -a)
grep -q "^$proj *exited(1) *$tmp/app/compose.yaml\$" <<<"$out" || fail "ls -a: $out"

# SIGKILL: the next command starts a new supervisor, which knows the state
kill -9 "$p1"
wait_for eval '! alive $p1' || fail "supervisor did not die"
[[ $("$STACK_BIN" ps -a) == *"Exited (255)"* ]] || fail "ps after SIGKILL"
p2=$(sup_pid)
alive "$p2" && [[ $p2 != "$p1" ]] || fail "no new supervisor after SIGKILL ($p1 -> $p2)"

# events stream what down does; down stops the supervisor
"$STACK_BIN" events --json >"$tmp/events" &
events_pid=$!
socks() { find "/proc/$p2/fd" -lname 'socket:*' 2>/dev/null | wc -l; }
base=$(socks)
# the listener plus one connection for the events client
wait_for eval '[[ $(socks) -ge 2 ]]' || fail "events did not connect (sockets: $base)"
"$STACK_BIN" down 2>"$tmp/down.err" || fail "down: $(cat "$tmp/down.err")"
grep -q "Container $proj-web-1  Removed" "$tmp/down.err" || fail "down output: $(cat "$tmp/down.err")"
wait "$events_pid" || fail "events did not end with the supervisor"
events_pid=
python3 -c '
import json, sys
ev = [json.loads(l) for l in open(sys.argv[1])]
assert [e["action"] for e in ev] == ["destroy"], ev
assert ev[0]["service"] == "web" and ev[0]["attributes"]["name"] == sys.argv[2], ev
' "$tmp/events" "$proj-web-1" || fail "events: $(cat "$tmp/events")"
wait_for eval '! alive $p2' || fail "supervisor still runs after down"
[[ ! -e $run/supervisor.sock ]] || fail "socket left after down"
[[ -z $("$STACK_BIN" ls -aq) ]] || fail "ls -a after down"
echo "ok"
