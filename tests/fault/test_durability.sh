#!/usr/bin/env bash
# Durability: a service appends numbered lines to a file on a named volume
# and to a file in its own root, syncs, and only then prints "ack RUN N"
# (RUN: one id per start of its process).  Its QEMU is killed with SIGKILL
# in the middle of the writes, the container is started again, killed
# again, then the project goes down and up.  For every run, each file holds
# lines 1..N for the last N acknowledged -- no gap, no torn line, no NUL --
# whatever follows them was never acknowledged.  As in Docker, the root's
# files survive a restart of the container (its writable layer is kept) and
# go with `down` (the container is removed); the volume's survive both.
set -euo pipefail
. "$STACK_SOURCE_DIR/tests/lib/up.sh"
up_test_init durability

cat >compose.yaml <<'YAML'
name: dur
services:
  writer:
    image: busybox:amd64
    command:
      - sh
      - -c
      - |
        id=$$(cut -c1-8 /proc/sys/kernel/random/uuid)
        n=0
        while :; do
          n=$$((n+1))
          echo "line $$n" >>/data/vol-$$id.log
          echo "line $$n" >>/root-$$id.log
          sync
          echo "ack $$id $$n"
        done
    volumes:
      - data:/data
volumes:
  data:
YAML
vol=$STACK_ROOT/volumes/dur_data/_data
qemu() { pgrep -f -- "-name guest=dur-writer-1 " || true; }
acks() { # the log's acknowledgements so far, appended to $tmp/acks
  "$STACK" logs --no-log-prefix writer 2>/dev/null | grep '^ack ' >>"$tmp/acks" || true
}
last_ack() { # last_ack RUN: the highest N acknowledged for RUN (0: none)
  awk -v r="$1" '$1 == "ack" && $2 == r && $3 > m {m = $3} END {print m + 0}' "$tmp/acks"
}
runs() { awk '$1 == "ack" {print $2}' "$tmp/acks" | sort -u; }
wait_acks() { # wait_acks N RUNS: until the RUNS-th run acknowledged N lines
  local end=$((SECONDS + 120)) out
  while ((SECONDS < end)); do
    out=$("$STACK" logs --no-log-prefix writer 2>/dev/null | grep '^ack ' || true)
    if (($(awk '{print $2}' <<<"$out" | sort -u | grep -c .) >= $2)) &&
      (($(tail -1 <<<"$out" | awk '{print $3 + 0}') >= $1)); then
      return 0
    fi
    sleep 0.3
  done
  fail "the writer did not acknowledge $1 lines in run $2: $("$STACK" logs writer | tail -5)"
}
check() { # check FILE_CONTENT_PATH RUN WHAT: lines 1..last_ack(RUN), intact
  python3 - "$1" "$(last_ack "$2")" "$3" <<'PY' || fail "$3 (run $2): see above"
import sys
data = open(sys.argv[1], "rb").read()
acked, what = int(sys.argv[2]), sys.argv[3]
lines = data.split(b"\n")
if acked == 0:
    sys.exit(0)
if len(lines) < acked + 1:  # the last acknowledged line has its newline
    print(f"{what}: {len(lines) - 1} whole lines, {acked} acknowledged")
    sys.exit(1)
for i in range(acked):
    want = b"line %d" % (i + 1)
    if lines[i] != want:
        print(f"{what}: line {i + 1} is {lines[i]!r}, want {want!r}")
        sys.exit(1)
print(f"{what}: {acked} acknowledged lines intact ({len(data)} bytes)")
PY
}
kill_during_writes() {
  local pid
  pid=$(qemu)
  [[ -n $pid ]] || fail "no QEMU for the writer"
  kill -9 "$pid"
  wait_for eval '[[ -z $(qemu) ]]' || fail "QEMU $pid did not die"
  wait_long_ps
}
wait_long_ps() {
  local end=$((SECONDS + 60))
  while ((SECONDS < end)); do
    [[ $("$STACK" ps -a writer) == *Exited* ]] && return 0
    sleep 0.3
  done
  fail "ps does not show the killed writer exited: $("$STACK" ps -a)"
}
root_file() { # root_file RUN OUT: the root's file of RUN, through exec
  "$STACK" exec writer cat "/root-$1.log" >"$2"
}

timeout 300 "$STACK" up -d 2>"$tmp/err" || fail "up: $(cat "$tmp/err")"
wait_acks 30 1
kill_during_writes
acks
# a restart keeps the root's files
timeout 300 "$STACK" start writer 2>"$tmp/err" || fail "start: $(cat "$tmp/err")"
wait_acks 30 2
for r in $(runs); do
  check "$vol/vol-$r.log" "$r" "volume after a restart"
  root_file "$r" "$tmp/rootfile" || fail "run $r's root file is gone after a restart"
  check "$tmp/rootfile" "$r" "root after a restart"
done
kill_during_writes
acks
(($(runs | wc -l) == 2)) || fail "want two runs acknowledged: $(runs)"
# down and up: a new container, a new root; the volume stays
timeout 300 "$STACK" down 2>"$tmp/err" || fail "down: $(cat "$tmp/err")"
timeout 300 "$STACK" up -d 2>"$tmp/err" || fail "up again: $(cat "$tmp/err")"
for r in $(runs); do
  check "$vol/vol-$r.log" "$r" "volume after down and up"
  ! root_file "$r" "$tmp/rootfile" 2>/dev/null || fail "run $r's root file outlived down"
done
timeout 120 "$STACK" down -v -t 1 >/dev/null 2>&1 || fail "down -v"
echo ok
