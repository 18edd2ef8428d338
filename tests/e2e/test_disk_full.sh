#!/usr/bin/env bash
# Disk full on a small loop-mounted data root (issue 11): the project's
# state directory (state.json, logs, writable layers, supervisor.log) is a
# 64 MiB ext4 mounted here.  A service writes more than fits:
#  - its VM is paused and everyone is told: `ps` says "Paused: disk full",
#    a pause event has the reason, an exec waiting in it is told and exits
#    on timeout's SIGTERM, a new exec is refused at once naming the disk and
#    where to free space, unpause is refused while the disk is full;
#  - another service's log lines that cannot be written wait in memory, the
#    rest are counted: the log gets "stack: N log lines lost: no space left
#    on <fs>" once space is back, and every line is either written or counted;
#  - state.json keeps its previous content while it cannot be written, and
#    is saved again later;
#  - freeing space resumes the VM by itself; its log says what happened.
set -euo pipefail
. "$STACK_SOURCE_DIR/tests/lib/up.sh"
up_test_init disk-full

mnt=$STACK_ROOT/projects
_disk_full_cleanup() {
  set +e # every step runs, whatever failed before
  # the VMs and the supervisor hold files on the mount: they go first
  if [[ -d ${app:-} ]]; then
    (cd "$app" && timeout 60 "$STACK" down -t 0 >/dev/null 2>&1)
  fi
  local lock p
  for lock in "$STACK_RUN_DIR"/projects/*/supervisor.lock; do
    p=$(cat "$lock" 2>/dev/null) || continue
    [[ -n $p ]] && grep -qa supervisor "/proc/$p/cmdline" 2>/dev/null && kill -9 "$p" 2>/dev/null
  done
  [[ -n ${events_pid:-} ]] && kill "$events_pid" 2>/dev/null
  [[ -n ${exec_pid:-} ]] && kill "$exec_pid" 2>/dev/null
  if mountpoint -q "$mnt"; then
    umount "$mnt" 2>/dev/null || umount -l "$mnt"
  fi
  _up_cleanup
}
trap _disk_full_cleanup EXIT

truncate -s 64M "$tmp/fs.img"
mkfs.ext4 -q -F -m 0 "$tmp/fs.img"
mkdir -p "$mnt"
if ! mount -o loop "$tmp/fs.img" "$mnt" 2>"$tmp/err"; then
  echo "SKIP: cannot loop-mount a file system here: $(cat "$tmp/err")"
  exit 77
fi

cat >compose.yaml <<'YAML'
name: dfull
services:
  filler:
    image: busybox:amd64
    command: sh -c 'echo filler-ready; exec sleep 3600'
  talker:
    image: busybox:amd64
    command:
      - sh
      - -c
      - |
        trap 'yes line-0123456789012345678901234567890123456789012345678901234567890123456789 | head -n 6000; echo burst-done' USR1
        echo talker-ready
        while :; do sleep 1; done
YAML

# bounded waits longer than wait_for's 10 s: a VM's disk fills under TCG
wait_long() {
  local i
  for ((i = 0; i < 600; i++)); do
    "$@" && return 0
    sleep 0.1
  done
  return 1
}
ps_line() { "$STACK" ps -a | grep "^dfull-$1-1 " || true; }
state=$mnt/dfull/state.json
json_ok() { python3 -c 'import json,sys; json.load(open(sys.argv[1]))' "$1"; }

timeout 300 "$STACK" up -d --wait 2>"$tmp/err" || fail "up -d --wait: $(cat "$tmp/err")"
timeout 300 "$STACK" events --json >"$tmp/events" 2>&1 &
events_pid=$!
sleep 0.5
json_ok "$state" || fail "state.json: $(cat "$state")"
stamp_before=$(stat -c %y "$state") # a new file each save: the inode may be reused

# leave 8 MiB, then the guest writes 32 MiB of random bytes (QEMU would
# turn zeroes into holes)
avail=$(df --output=avail -B1 "$mnt" | tail -1)
fallocate -l $((avail - 8 * 1024 * 1024)) "$mnt/filler"
start=$SECONDS
timeout -s TERM 25 "$STACK" exec -T filler dd if=/dev/urandom of=/big bs=1M count=32 conv=fsync \
  >"$tmp/exec.out" 2>"$tmp/exec.err" &
exec_pid=$!

wait_long eval '[[ $(ps_line filler) == *"(Paused: disk full)"* ]]' ||
  fail "not paused for a full disk: $(ps_line filler); exec: $(cat "$tmp/exec.err")"
[[ $("$STACK" ps --format json talker) == *'"State":"running"'* ]] ||
  fail "talker: $("$STACK" ps --format json talker)"
[[ $("$STACK" ps --format json filler) == *'"State":"paused"'* ]] ||
  fail "ps json: $("$STACK" ps --format json filler)"

# now really full, also for the supervisor's own small writes
dd if=/dev/zero of="$mnt/filler2" bs=64k 2>/dev/null || true

# a new exec is refused at once, saying why and what to do
t0=$SECONDS
if out=$(timeout 20 "$STACK" exec -T filler true 2>&1); then
  fail "exec in a paused VM succeeded: $out"
fi
((SECONDS - t0 < 10)) || fail "exec in a paused VM took $((SECONDS - t0)) s"
[[ $out == *"is paused: its disk "*"is full"*"free space on $mnt"* ]] || fail "exec said: $out"
# unpause cannot help yet
if out=$(timeout 20 "$STACK" unpause filler 2>&1); then
  fail "unpause of a full disk succeeded: $out"
fi
[[ $out == *"still full"*"$mnt"* ]] || fail "unpause said: $out"

# the exec that waits in the paused VM was told, and gives up on timeout's SIGTERM
rc=0
wait "$exec_pid" || rc=$?
exec_pid=
((rc == 124)) || fail "exec under timeout: exit $rc: $(cat "$tmp/exec.err")"
((SECONDS - start < 40)) || fail "exec under timeout took $((SECONDS - start)) s"
grep -q "the VM is paused: its disk .* is full" "$tmp/exec.err" || fail "exec was not told: $(cat "$tmp/exec.err")"
grep -q "giving up" "$tmp/exec.err" || fail "exec did not say it gives up: $(cat "$tmp/exec.err")"

# a burst of output with no room for the log file; a state change that
# cannot be saved
"$STACK" kill -s USR1 talker >/dev/null 2>&1 || fail "kill -s USR1 talker"
timeout 60 "$STACK" pause talker >/dev/null 2>&1 || fail "pause talker"
timeout 60 "$STACK" unpause talker >/dev/null 2>&1 || fail "unpause talker"
sleep 3
json_ok "$state" || fail "state.json damaged while full: $(head -c 300 "$state")"
[[ $(stat -c %y "$state") == "$stamp_before" ]] || fail "state.json replaced while the disk was full?"
ls "$mnt/dfull" | grep -q 'state.json.tmp' && fail "a temporary state file was left: $(ls "$mnt/dfull")"
[[ $(ps_line filler) == *"(Paused: disk full)"* ]] || fail "resumed while still full: $(ps_line filler)"

# space is back: the VM resumes by itself, the waiting lines are written
rm -f "$mnt/filler" "$mnt/filler2"
wait_long eval '[[ $(ps_line filler) == *Up* && $(ps_line filler) != *Paused* ]]' ||
  fail "not resumed after space was freed: $(ps_line filler)"
out=$(timeout 30 "$STACK" exec -T filler echo exec-ok 2>&1) || fail "exec after resume: $out"
[[ $out == exec-ok ]] || fail "exec after resume said: $out"

logs=$("$STACK" logs --no-color --no-log-prefix filler)
grep -q "^stack: the VM is paused: its disk .*filler-1.img is full (No space left on device); free space on $mnt, then \`stack unpause filler\`" <<<"$logs" ||
  fail "no pause line in the log: $logs"
grep -q "^stack: the VM resumed: there is room on $mnt again" <<<"$logs" || fail "no resume line: $logs"

wait_long eval '"$STACK" logs --no-color --no-log-prefix talker | grep -q "log lines lost"' ||
  fail "no lost-lines marker: $("$STACK" logs --no-color --no-log-prefix talker | tail -3)"
tlogs=$("$STACK" logs --no-color --no-log-prefix talker)
lost=$(sed -n 's/^stack: \([0-9]*\) log lines lost: no space left on .*/\1/p' <<<"$tlogs")
[[ -n $lost ]] && ((lost > 0)) || fail "marker: $(grep 'lost' <<<"$tlogs")"
grep -q "log lines lost: no space left on $mnt\$" <<<"$tlogs" || fail "marker names no fs: $(grep lost <<<"$tlogs")"
written=$(grep -c '^line-' <<<"$tlogs" || true)
done_line=$(grep -c '^burst-done$' <<<"$tlogs" || true)
((written + done_line + lost == 6001)) ||
  fail "lines written $written + $done_line, lost $lost: not the 6001 the burst wrote"
((written > 1000)) || fail "only $written lines waited in memory"
# no partial line: every line of the burst is whole
grep '^line-' <<<"$tlogs" | grep -qv '^line-0123456789012345678901234567890123456789012345678901234567890123456789$' &&
  fail "a partial line in the log"

# the state is saved again once it can be
wait_long eval '[[ $(stat -c %y "$state") != "$stamp_before" ]]' || fail "state.json not saved again"
json_ok "$state" || fail "state.json: $(cat "$state")"
wait_long grep -q "the project state is saved again" "$mnt/dfull/supervisor.log" ||
  fail "supervisor.log: $(tail -5 "$mnt/dfull/supervisor.log")"
grep -q "container dfull-talker-1: its log is written again ($lost lines lost)" "$mnt/dfull/supervisor.log" ||
  fail "supervisor.log: $(tail -5 "$mnt/dfull/supervisor.log")"

kill "$events_pid" 2>/dev/null || true
wait "$events_pid" 2>/dev/null || true
events_pid=
grep -q '"action":"pause".*"reason":"disk full"' "$tmp/events" || fail "no pause event with a reason: $(cat "$tmp/events")"
grep -q '"action":"unpause".*dfull-filler-1' "$tmp/events" || fail "no unpause event: $(cat "$tmp/events")"
grep -q '"action":"log-error".*dfull-talker-1' "$tmp/events" || fail "no log-error event: $(cat "$tmp/events")"
grep -q "\"action\":\"log-resumed\".*\"lost\":\"$lost\"" "$tmp/events" || fail "no log-resumed event: $(cat "$tmp/events")"
echo ok
