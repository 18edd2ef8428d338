#!/usr/bin/env bash
# Fault injection: kill -9 of the `stack` client, of the project's
# supervisor or of a QEMU at a random moment of `up`, of a health-check
# wait, of a one-off `run` or of `down`.  After each fault:
#  - `ps` matches the VMs that really run (every container it shows running
#    has exactly one QEMU, and no QEMU runs for a container it does not);
#  - `up -d --wait` converges: every service runs (healthy), each in one VM,
#    and the published port answers;
#  - `down -v` leaves nothing: no QEMU, supervisor, tap, bridge, nft table,
#    socket, lock, directory, volume, cgroup or bound port (leaks.sh).
#
# The choices come from a fixed seed, so a failure names the iteration that
# reproduces it (timing on a loaded host still varies):
#   STACK_FAULT_SEED        the seed (default 1109)
#   STACK_FAULT_ITERATIONS  how many faults (default 4, about 2 minutes;
#                           STACK_LONG_TESTS=1 makes it 40)
set -euo pipefail
. "$STACK_SOURCE_DIR/tests/lib/up.sh"
up_test_init fault-inject
leaks=$STACK_SOURCE_DIR/tests/fault/leaks.sh

seed=${STACK_FAULT_SEED:-1109}
iterations=${STACK_FAULT_ITERATIONS:-$([[ ${STACK_LONG_TESTS:-} == 1 ]] && echo 40 || echo 4)}
RANDOM=$seed
port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')

cat >compose.yaml <<YAML
name: fault
services:
  db:
    image: busybox:amd64
    command: sh -c 'sleep 1; touch /tmp/ready; exec sleep 100000'
    healthcheck:
      test: ["CMD", "test", "-e", "/tmp/ready"]
      interval: 300ms
      retries: 100
    volumes:
      - data:/data
  web:
    image: busybox:amd64
    command: sh -c 'echo hello >/tmp/index.html; exec httpd -f -p 80 -h /tmp'
    ports: ["$port:80"]
    depends_on:
      db:
        condition: service_healthy
volumes:
  data:
YAML
lock=$STACK_RUN_DIR/projects/fault/supervisor.lock
qemus() { # pid and guest name of every QEMU of this store
  local p cmd
  for p in $(pgrep -f -- "qemu-system" || true); do
    cmd=$({ tr '\0' '\n' <"/proc/$p/cmdline"; } 2>/dev/null) || continue
    grep -qF -- "$STACK_ROOT/" <<<"$cmd" || continue
    echo "$p" >>"$tmp/seen_qemus"
    echo "$p $(sed -n 's/^guest=//p' <<<"$cmd")"
  done
}
supervisor_pid() {
  local p
  p=$(cat "$lock" 2>/dev/null) || return 1
  [[ -n $p ]] && grep -qa supervisor "/proc/$p/cmdline" 2>/dev/null && echo "$p"
}
wait_long() { # wait_long SECONDS CMD...
  local end=$((SECONDS + $1))
  shift
  while ((SECONDS < end)); do
    "$@" && return 0
    sleep 0.3
  done
  return 1
}
ms() { printf '%d.%03d' $(($1 / 1000)) $(($1 % 1000)); }
wait_pid() { timeout "$2" tail --pid="$1" -f /dev/null || return 1; }

# ps's running containers and the QEMUs agree (names, one VM each)
consistent() {
  local ps_names vm_names
  ps_names=$(timeout 60 "$STACK" ps -a --format json | python3 -c '
import json, sys
for l in sys.stdin:
    if l.strip():
        c = json.loads(l)
        if c["State"] == "running":
            print(c["Name"])' | sort) || return 1
  vm_names=$(qemus | awk '{print $2}' | sort)
  [[ $ps_names == "$vm_names" ]] && [[ -z $(uniq -d <<<"$vm_names") ]]
}
answers() { python3 -c 'import urllib.request,sys; sys.exit(0 if b"hello" in urllib.request.urlopen(sys.argv[1], timeout=3).read() else 1)' "http://127.0.0.1:$port/" 2>/dev/null; }

# what to look at when an iteration fails
diag() {
  echo "--- ps -a:"
  timeout 30 "$STACK" ps -a 2>&1
  echo "--- VMs:"
  qemus
  echo "--- supervisor log (tail):"
  tail -n 40 "$STACK_ROOT/projects/fault/supervisor.log" 2>/dev/null
}

kill_victim() { # kill_victim VICTIM CLIENT_PID
  local pid=
  case $1 in
  client) pid=$2 ;;
  supervisor) pid=$(supervisor_pid) || pid= ;;
  qemu)
    local all
    mapfile -t all < <(qemus | awk '{print $1}')
    ((${#all[@]})) && pid=${all[RANDOM % ${#all[@]}]}
    ;;
  esac
  if [[ -n $pid ]]; then
    kill -9 "$pid" 2>/dev/null || true
    echo "  killed $1 (pid $pid)"
  else
    echo "  no $1 to kill"
  fi
}

phases=(up health run down)
victims=(client supervisor qemu)
for ((i = 1; i <= iterations; i++)); do
  phase=${phases[RANDOM % 4]} victim=${victims[RANDOM % 3]} delay=$((RANDOM % 2500))
  echo "iteration $i/$iterations (seed $seed): kill -9 $victim during $phase after ${delay} ms"
  client=
  case $phase in
  up)
    "$STACK" up -d >"$tmp/client.out" 2>&1 &
    client=$!
    sleep "$(ms "$delay")"
    ;;
  health)
    "$STACK" up -d >"$tmp/client.out" 2>&1 &
    client=$!
    wait_long 120 eval '[[ $("$STACK" ps db 2>/dev/null) == *"(starting)"* ]]' ||
      fail "iteration $i: db never (starting): $("$STACK" ps -a)"
    sleep "$(ms $((delay % 1000)))"
    ;;
  run)
    timeout 300 "$STACK" up -d --wait >/dev/null 2>"$tmp/err" || fail "iteration $i: up --wait: $(cat "$tmp/err")"
    "$STACK" run --rm db sh -c 'sleep 3; echo run-done' >"$tmp/client.out" 2>&1 &
    client=$!
    sleep "$(ms "$delay")"
    ;;
  down)
    timeout 300 "$STACK" up -d --wait >/dev/null 2>"$tmp/err" || fail "iteration $i: up --wait: $(cat "$tmp/err")"
    "$STACK" down >"$tmp/client.out" 2>&1 &
    client=$!
    sleep "$(ms $((delay % 2000)))"
    ;;
  esac
  kill_victim "$victim" "$client"
  wait_pid "$client" 300 || fail "iteration $i: the client did not end: $(cat "$tmp/client.out")"
  wait "$client" 2>/dev/null || true

  # ps and the VMs agree (the supervisor may still be reaping what died)
  wait_long 90 consistent ||
    fail "iteration $i: ps and the VMs disagree: $(diag)"
  # up converges: one VM per service, healthy, the port answers
  timeout 300 "$STACK" up -d --wait >/dev/null 2>"$tmp/err" ||
    fail "iteration $i: up -d --wait after the fault: $(cat "$tmp/err"); $(diag)"
  wait_long 60 consistent || fail "iteration $i: after up, ps and the VMs disagree: $(diag)"
  # (a one-off run whose client was killed runs on, as with Compose)
  [[ $(qemus | awk '$2 !~ /-run-/ {print $2}' | sort | tr '\n' ' ') == "fault-db-1 fault-web-1 " ]] ||
    fail "iteration $i: want one VM per service: $(diag)"
  wait_long 30 answers || fail "iteration $i: the published port does not answer"
  # down -v leaves nothing
  timeout 300 "$STACK" down -v >/dev/null 2>"$tmp/err" || fail "iteration $i: down -v: $(cat "$tmp/err")"
  qargs=()
  for p in $(sort -u "$tmp/seen_qemus" 2>/dev/null); do qargs+=(-q "$p"); done
  wait_long 30 "$leaks" -c fault-db-1 -c fault-web-1 -p "$port" "${qargs[@]}" fault >/dev/null ||
    fail "iteration $i: down -v left: $("$leaks" -c fault-db-1 -c fault-web-1 -p "$port" "${qargs[@]}" fault)"
done
echo ok
