#!/usr/bin/env bash
# `stack run` end to end with real VMs: a busybox image imported from
# busybox-static, every VM under a timeout, nothing left behind (QEMU,
# sockets, disks) even when a check fails.
set -uo pipefail
src=${STACK_SOURCE_DIR:-$(dirname "$0")/../..}
. "$src/tests/lib/run_env.sh"
run_test_init run
run() { timeout 120 "$STACK_BIN" run --rm "$@"; }

# The image: busybox-static with its applets, users root, 1000 (app) and a
# group listing app as a member.
tree=$tmp/tree
. "$src/tests/lib/busybox_tree.sh"
busybox_tree "$tree"
img=run-test:latest
"$STACK_BIN" image import "$tree" "$img" >/dev/null || { echo "FAIL: image import"; exit 1; }

# echo hi
out=$(run "$img" echo hi)
rc=$?
[[ $out == hi && $rc == 0 ]] || fail "echo hi: got '$out' rc=$rc"

# exit codes and signals
run "$img" sh -c 'exit 7'
rc=$?
[[ $rc == 7 ]] || fail "exit 7: rc=$rc"
run "$img" sh -c 'kill -TERM $$'
rc=$?
[[ $rc == 143 ]] || fail "kill -TERM: rc=$rc, want 143"
run "$img" no-such-command 2>"$tmp/err"
rc=$?
[[ $rc == 127 ]] || fail "missing command: rc=$rc, want 127"
grep -q "no-such-command" "$tmp/err" || fail "missing command: no message: $(cat "$tmp/err")"

# environment, user, working directory, host name
out=$(run -e FOO=bar -e EMPTY= "$img" sh -c 'echo "$FOO|${EMPTY-unset}|$PATH|$HOME"')
[[ $out == "bar||/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin|/root" ]] ||
  fail "env: got '$out'"
printf '# comment\nFROMFILE=yes\nOVER=file\n\nHOSTVAR\n' >"$tmp/env"
out=$(HOSTVAR=fromhost run --env-file "$tmp/env" -e OVER=flag "$img" sh -c 'echo "$FROMFILE $OVER $HOSTVAR"')
[[ $out == "yes flag fromhost" ]] || fail "env-file: got '$out'"
out=$(run -u 1000 "$img" id -u)
[[ $out == 1000 ]] || fail "user 1000: got '$out'"
out=$(run -u app "$img" id)
[[ $out == "uid=1000(app) gid=1000(app) groups=10(wheel),1000(app)" ]] || fail "user app: got '$out'"
out=$(run -u 1000:10 "$img" sh -c 'id -u; id -g')
[[ $out == $'1000\n10' ]] || fail "user 1000:10: got '$out'"
run -u nobody-here "$img" true 2>"$tmp/err"
rc=$?
[[ $rc != 0 ]] && grep -q "nobody-here" "$tmp/err" || fail "unknown user: rc=$rc $(cat "$tmp/err")"
out=$(run -w /work/dir "$img" pwd)
[[ $out == /work/dir ]] || fail "workdir: got '$out'"
out=$(run --hostname web1 "$img" sh -c 'hostname; cat /etc/hostname; grep -c web1 /etc/hosts')
[[ $out == $'web1\nweb1\n1' ]] || fail "hostname: got '$out'"
out=$(run "$img" hostname)
[[ $out =~ ^[0-9a-f]{12}$ ]] || fail "default hostname: got '$out'"
out=$(run --hostname web1 --domainname example.com "$img" sh -c 'hostname; cat /proc/sys/kernel/domainname; grep -c "web1.example.com web1$" /etc/hosts')
[[ $out == $'web1\nexample.com\n1' ]] || fail "domainname: got '$out'"

# entrypoint, ulimits, memory and CPUs
out=$(run --entrypoint echo "$img" a b)
[[ $out == "a b" ]] || fail "entrypoint: got '$out'"
out=$(run --ulimit nofile=100:200 "$img" sh -c 'ulimit -n; ulimit -Hn')
[[ $out == $'100\n200' ]] || fail "ulimit: got '$out'"
out=$(run --memory 256m --cpus 1 "$img" sh -c 'grep -c ^processor /proc/cpuinfo; grep MemTotal /proc/meminfo')
[[ $out =~ ^1$'\n'MemTotal:\ +2[0-9]{5}\ kB$ ]] || fail "memory/cpus: got '$out'"
# The guest sees all its vCPUs, the default number and an explicit
# --cpus 2 (under TCG a lone VM gets a host thread per vCPU either way;
# the up tests run projects whose VMs share one each).
out=$(run --pids-limit 7 "$img" sh -c 'cat /proc/self/cgroup /sys/fs/cgroup/stack-ctr/pids.max')
[[ $out == $'0::/stack-ctr\n7' ]] || fail "--pids-limit: got '$out'"
want=$(nproc); ((want > 4)) && want=4
out=$(run "$img" grep -c ^processor /proc/cpuinfo)
[[ $out == "$want" ]] || fail "default cpus: got '$out', want $want"
out=$(run --cpus 2 "$img" sh -c 'grep -c ^processor /proc/cpuinfo; cat /sys/devices/system/cpu/online')
[[ $out == $'2\n0-1' ]] || fail "--cpus 2: got '$out'"

# stdout and stderr arrive separately
run "$img" sh -c 'echo to-out; echo to-err >&2; echo more-out' >"$tmp/o" 2>"$tmp/e"
[[ $(cat "$tmp/o") == $'to-out\nmore-out' ]] || fail "stdout: $(cat "$tmp/o")"
[[ $(cat "$tmp/e") == to-err ]] || fail "stderr: $(cat "$tmp/e")"

# stdin
out=$(printf 'line1\nline2\n' | run -i "$img" wc -l)
[[ $out == 2 ]] || fail "stdin: got '$out'"

# zombies are reaped: an orphan that exits is PID 1's to reap
out=$(run "$img" sh -c '(sh -c "exit 0" &); sleep 1; ps -o stat | grep -c "^Z"')
[[ $out == 0 ]] || fail "zombies: $out left"

# the guest kernel, not the host's; host files are invisible
out=$(run "$img" uname -r)
[[ $out == 6.1.* && $out != "$(uname -r)" ]] || fail "uname -r: got '$out' (host $(uname -r))"
echo secret >"$tmp/host-marker"
run "$img" sh -c "test ! -e $tmp/host-marker && test ! -e $STACK_ROOT" || fail "host files visible"

# a synced file is on the writable disk after the VM is gone (no --rm)
timeout 120 "$STACK_BIN" run "$img" sh -c 'echo persisted >/data.txt; sync' || fail "write run"
disk=$(ls "$STACK_ROOT"/containers/*/data.img 2>/dev/null | head -1)
if [[ -z $disk ]]; then
  fail "no writable disk kept"
else
  out=$(debugfs -R 'cat /upper/data.txt' "$disk" 2>/dev/null)
  [[ $out == persisted ]] || fail "data disk: got '$out'"
  grep -q '"exit_code":[[:space:]]*0' "$(dirname "$disk")/container.json" || fail "container.json"
  rm -rf "$(dirname "$disk")"
fi

# a terminal: -t gives the process a pty
if command -v script >/dev/null; then
  out=$(timeout 120 script -qec "$STACK_BIN run --rm -t $img sh -c 'tty; echo \$TERM'" /dev/null | tr -d '\r')
  [[ $out == $'/dev/pts/0\nxterm' ]] || fail "tty: got '$out'"
fi

# a reader that goes away: the process gets SIGPIPE, stack does not die
# (which would orphan the VM)
run "$img" sh -c 'while :; do echo y; done' | head -1 >"$tmp/y"
rc=${PIPESTATUS[0]}
out=$(cat "$tmp/y")
[[ $out == y && $rc == 141 ]] || fail "closed stdout: got '$out' rc=$rc, want y and 141"

# Ctrl-C (SIGINT to stack) reaches the process
timeout 120 "$STACK_BIN" run --rm "$img" sh -c 'trap "echo got-int; exit 3" INT; echo ready; while :; do sleep 0.1; done' >"$tmp/io" 2>&1 &
runner=$!
for _ in $(seq 300); do grep -q ready "$tmp/io" 2>/dev/null && break; sleep 0.1; done
kill -INT $runner
wait $runner
rc=$?
[[ $rc == 3 ]] && grep -q got-int "$tmp/io" || fail "SIGINT forwarding: rc=$rc $(cat "$tmp/io")"

# QEMU killed mid-run: a clear error, not a hang; 137, as Docker reports a
# killed container
timeout 120 "$STACK_BIN" run --rm "$img" sh -c 'echo ready; sleep 300' >"$tmp/ko" 2>"$tmp/ke" &
runner=$!
for _ in $(seq 300); do grep -q ready "$tmp/ko" 2>/dev/null && break; sleep 0.1; done
q=$(our_qemus)
[[ -n $q ]] || fail "no QEMU found for the running container"
kill -9 $q 2>/dev/null
wait $runner
rc=$?
[[ $rc == 137 ]] || fail "QEMU killed: rc=$rc, want 137"
grep -q "the VM was killed by signal 9" "$tmp/ke" || fail "QEMU killed: message: $(cat "$tmp/ke")"

# nothing left behind
[[ -z $(our_qemus) ]] || fail "QEMU processes left: $(our_qemus)"
left=$(find "$STACK_RUN_DIR" -mindepth 1 2>/dev/null)
[[ -z $left ]] || fail "run dir not empty: $left"
left=$(find "$STACK_ROOT/containers" -mindepth 1 2>/dev/null)
[[ -z $left ]] || fail "container state left: $left"

run_test_finish
