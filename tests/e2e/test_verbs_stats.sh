#!/usr/bin/env bash
# `stack stats` with real VMs: one reading per running container with
# Docker's columns; CPU % from the QEMU process (a guest spinning shows
# a core's worth, an idle one much less), memory as PSS against the VM's
# RAM (mem_limit, else the default 1 GiB); PIDS the processes in the
# guest; --format json; streaming refreshes until interrupted; stopped
# containers are not listed.
set -euo pipefail
. "$STACK_SOURCE_DIR/tests/lib/up.sh"
up_test_init verbs-stats

cat >compose.yaml <<'YAML'
name: vstats
services:
  spin:
    image: busybox:amd64
    command: sh -c 'while :; do :; done'
  idle:
    image: busybox:amd64
    command: sh -c 'sleep 300 & sleep 300 & wait'
    mem_limit: 256m
  gone:
    image: busybox:amd64
    command: "true"
YAML

timeout 300 "$STACK" up -d 2>"$tmp/err" || fail "up -d: $(cat "$tmp/err")"
wait_for eval '"$STACK" ps -a | grep -q "^vstats-gone-1 .*Exited"' || fail "gone: $("$STACK" ps -a)"
sleep 1 # let the guests finish booting: boot CPU is not what is measured

out=$(timeout 60 "$STACK" stats --no-stream) || fail "stats: $out"
head -1 <<<"$out" | grep -q '^CONTAINER ID   NAME .*CPU % .*MEM USAGE / LIMIT .*MEM % .*NET I/O .*BLOCK I/O .*PIDS$' ||
  fail "header: $out"
(($(wc -l <<<"$out") == 3)) || fail "not one line per running container: $out"
grep -q 'vstats-gone-1' <<<"$out" && fail "a stopped container listed: $out"
# idle runs sh and its two sleeps
grep -qE '^[0-9a-f]{12} +vstats-idle-1 +[0-9.]+% +[0-9.]+MiB / 256MiB +[0-9.]+% .* 3$' <<<"$out" ||
  fail "idle line: $out"
grep -qE '^[0-9a-f]{12} +vstats-spin-1 +[0-9.]+% +[0-9.]+MiB / 1GiB +[0-9.]+% .* 1$' <<<"$out" ||
  fail "spin line: $out"

json=$(timeout 60 "$STACK" stats --no-stream --format json spin idle) || fail "stats json: $json"
python3 - "$json" <<'PY' || fail "stats json: $json"
import json, sys
rows = {r["Name"]: r for r in map(json.loads, sys.argv[1].splitlines())}
assert set(rows) == {"vstats-spin-1", "vstats-idle-1"}, rows
spin, idle = (float(rows[n]["CPUPerc"].rstrip("%")) for n in ("vstats-spin-1", "vstats-idle-1"))
# a spinning guest gets what the host gives it: on 2 loaded cores that can
# be well under one core, so it is compared with the idle guest
assert spin > 10, ("a spinning guest", spin)
assert spin > 4 * max(idle, 1.0), (spin, idle)
used = rows["vstats-idle-1"]["MemUsage"].split(" / ")[0]
assert used.endswith("MiB") and 5 < float(used[:-3]) < 256, used
assert rows["vstats-idle-1"]["PIDs"] == "3", rows
for r in rows.values():
    assert len(r["ID"]) == 12 and r["BlockIO"].count(" / ") == 1, r
    assert r["NetIO"].count(" / ") == 1, r
PY

# NET I/O counts what crossed the container's network (here at least a
# connection attempt from idle to spin), read from its tap on the host
timeout 60 "$STACK" exec -T idle sh -c 'head -c 100000 /dev/zero | nc -w 2 spin 9 >/dev/null 2>&1; true'
json=$(timeout 60 "$STACK" stats --no-stream --format json idle) || fail "stats json: $json"
python3 - "$json" <<'PY' || fail "NET I/O after sending 100 kB: $json"
import json, sys
r = json.loads(sys.argv[1].splitlines()[0])
units = {"B": 1, "kB": 1e3, "MB": 1e6, "GB": 1e9}
def size(t):
    for u in ("kB", "MB", "GB", "B"):
        if t.endswith(u):
            return float(t[: -len(u)]) * units[u]
    raise ValueError(t)
rx, tx = (size(x) for x in r["NetIO"].split(" / "))
assert tx > 0, r["NetIO"]
PY

out=$(timeout 60 "$STACK" stats --no-stream spin) || fail "stats spin: $out"
(($(wc -l <<<"$out") == 2)) || fail "stats SERVICE: $out"

# streaming: a table every second until interrupted
rc=0
timeout -s INT 3.2 "$STACK" stats idle >"$tmp/stream" || rc=$?
n=$(grep -c '^CONTAINER ID' "$tmp/stream" || true)
((n >= 2)) || fail "stream printed $n tables (rc $rc): $(cat "$tmp/stream")"

rc=0
"$STACK" stats --no-stream nosuch 2>"$tmp/err" || rc=$?
((rc == 1)) && grep -q "no such service or container: nosuch" "$tmp/err" || fail "nosuch: $rc $(cat "$tmp/err")"
timeout 60 "$STACK" kill spin >/dev/null 2>&1 || true
echo ok
