#!/usr/bin/env bash
# `stack system df` and `stack system prune` as `docker system df/prune`
# behave, host-wide: df's rows (Images, Containers, Local Volumes, Build
# Cache, and stack's VM Templates) with totals, what is in use and what a
# prune reclaims; prune asks first (no answer: nothing removed), removes
# stopped containers (their IDs listed), networks of projects with nothing
# running, VM templates, with --volumes unused anonymous volumes, with -a
# images no container was made from; what runs and what it uses stays.
set -euo pipefail
. "$STACK_SOURCE_DIR/tests/lib/up.sh"
up_test_init verbs-system-prune
# a private template cache (prune empties it), the shared kernel
kernel=${STACK_CACHE_DIR:-/var/cache/stack}/kernel/current/vmlinux
export STACK_CACHE_DIR=$tmp/cache STACK_CONFIG=$tmp/config.json
printf '{"kernel": "%s"}\n' "$(readlink -f "$kernel")" >"$STACK_CONFIG"

st() { timeout 120 "$STACK" "$@"; }
row() { st system df | awk -v t="$1" 'index($0, t) == 1 { sub(t " *", ""); print }'; }

. "$STACK_SOURCE_DIR/tests/lib/busybox_tree.sh"
busybox_tree "$tmp/tree"
st image import "$tmp/tree" unused:1 >/dev/null || fail "image import"

cat >compose.yaml <<'YAML'
name: dfp
services:
  run:
    image: busybox:amd64
    command: sleep 3600
    volumes: [/anon]
  done:
    image: busybox:amd64
    command: sh -c 'head -c 3000 /dev/zero >/data/f'
    volumes: [data:/data]
volumes:
  data: {}
YAML
st up -d >/dev/null 2>"$tmp/err" || fail "up: $(cat "$tmp/err")"
wait_for eval '"$STACK" ps -a | grep -q "^dfp-done-1 .*Exited (0)"' || fail "done: $("$STACK" ps -a)"
loose=$(st volume create) || fail "volume create"
st volume create keepme >/dev/null
done_id=$(st ps -a --format json | python3 -c '
import json, sys
for l in sys.stdin:
    r = json.loads(l)
    if r["Name"] == "dfp-done-1": print(r["ID"])')
[[ -n $done_id ]] || fail "no ID for dfp-done-1"

out=$(st system df)
[[ $(head -1 <<<"$out") == 'TYPE            TOTAL     ACTIVE    SIZE      RECLAIMABLE' ]] || fail "df header: $out"
[[ $(awk '{print $1}' <<<"$out" | tr '\n' ' ') == 'TYPE Images Containers Local Build VM ' ]] || fail "df rows: $out"
nimages=$(st image ls -q | wc -l) # the test images and unused:1
read -r total active size rec pct <<<"$(row Images)"
[[ $total == "$nimages" && $active == 1 && $pct =~ ^\([0-9]+%\)$ ]] || fail "Images row: $(row Images)"
read -r total active size rec pct <<<"$(row Containers)"
# their writable layers: done's (stopped) is reclaimable
[[ $total == 2 && $active == 1 && $size != 0B && $rec != 0B ]] || fail "Containers row: $(row Containers)"
read -r total active size rec pct <<<"$(row 'Local Volumes')"
# data, the anonymous volume of run, $loose, keepme; two mounted by containers
[[ $total == 4 && $active == 2 && $size == 3kB ]] || fail "Local Volumes row: $(row 'Local Volumes')"
[[ $(row 'Build Cache') =~ ^0\ +0\ +0B\ +0B$ ]] || fail "Build Cache row: $(row 'Build Cache')"
read -r total active size rec pct <<<"$(row 'VM Templates')"
((total >= 1)) && [[ $size != 0B && $rec == "$size" ]] || fail "VM Templates row: $(row 'VM Templates')"
st system df --format json | python3 -c '
import json, sys
rows = [json.loads(l) for l in sys.stdin]
assert [r["Type"] for r in rows] == ["Images", "Containers", "Local Volumes", "Build Cache", "VM Templates"], rows
assert rows[0]["TotalCount"] == sys.argv[1] and rows[0]["Active"] == "1", rows[0]
assert set(rows[1]) == {"Active", "Reclaimable", "Size", "TotalCount", "Type"}, rows[1]
' "$nimages" || fail "df json: $(st system df --format json)"

# no answer: nothing removed
out=$(st system prune </dev/null) || fail "prune without an answer"
grep -q '^  - all stopped containers$' <<<"$out" && grep -q 'Are you sure you want to continue? \[y/N\]' <<<"$out" ||
  fail "prune did not ask: $out"
[[ $(st ps -a -q | wc -l) == 2 ]] || fail "prune without an answer removed a container"

out=$(st system prune -f) || fail "prune -f: $out"
grep -q '^Deleted Containers:$' <<<"$out" && grep -qx "$done_id" <<<"$out" || fail "prune -f containers: $out"
grep -q '^Deleted VM Templates:$' <<<"$out" || fail "prune -f templates: $out"
grep -q '^Deleted Networks:' <<<"$out" && fail "a network in use was pruned: $out"
grep -q '^Deleted Images:' <<<"$out" && fail "prune without -a removed images: $out"
grep -qE '^Total reclaimed space: [0-9.]+[kMG]?B$' <<<"$out" || fail "reclaimed: $out"
[[ $(st ps -a --format json | python3 -c 'import json,sys; print(" ".join(json.loads(l)["Name"] for l in sys.stdin))') == dfp-run-1 ]] ||
  fail "after prune: $(st ps -a)"
[[ -z $(ls "$STACK_CACHE_DIR/templates" 2>/dev/null) ]] || fail "templates left: $(ls "$STACK_CACHE_DIR/templates")"
[[ $(st volume ls -q | wc -l) == 4 ]] || fail "prune without --volumes removed volumes"
st exec -T run true || fail "the running container was disturbed"

out=$(st system prune -a -f --volumes) || fail "prune -a --volumes: $out"
grep -q '^Deleted Volumes:$' <<<"$out" && grep -qx "$loose" <<<"$out" || fail "prune --volumes: $out"
[[ $(st volume ls -q | sort) == "$(printf '%s\n%s\n%s' "$(st volume ls -q -f dangling=false)" dfp_data keepme | sort)" ]] ||
  fail "volumes after prune --volumes: $(st volume ls -q)"
grep -qx 'untagged: unused:1' <<<"$out" && grep -qE '^deleted: sha256:[0-9a-f]{64}$' <<<"$out" || fail "prune -a images: $out"
st image ls | grep -q '^busybox ' || fail "prune -a removed the image of a container: $(st image ls)"
st image ls | grep -q '^unused ' && fail "unused:1 still there"

# nothing runs: the project's last container and its network go
st stop -t 0 >/dev/null 2>&1
out=$(st system prune -f) || fail "prune after stop: $out"
grep -q '^Deleted Networks:$' <<<"$out" && grep -qx 'dfp_default' <<<"$out" || fail "network not pruned: $out"
[[ -z $(st ps -a -q) ]] || fail "containers left: $(st ps -a)"
[[ -z $(st ls -a -q) ]] || fail "project left: $(st ls -a)"
[[ $(row Containers) =~ ^0\ +0\ +0B\ +0B$ ]] || fail "Containers after prune: $(row Containers)"
# and it comes up again
st up -d >/dev/null 2>"$tmp/err" || fail "up after prune: $(cat "$tmp/err")"
st exec -T run true || fail "exec after prune and up"
echo ok
