#!/usr/bin/env bash
# `stack top` with real VMs: every process in each running container's
# guest, listed by the guest init from /proc (no ps in the image needed),
# per container as Compose prints them in Docker's columns (UID PID PPID C
# STIME TTY TIME CMD): other users' processes too, with their names from
# the container's /etc/passwd, without the guest init or kernel threads;
# an image without a ps binary works; ps options run ps in the guest and
# keep the container's processes (not the listing's own ps); SERVICE
# selects; a paused container is named, not listed; an unknown service
# fails.
set -euo pipefail
. "$STACK_SOURCE_DIR/tests/lib/up.sh"
. "$STACK_SOURCE_DIR/tests/lib/busybox_tree.sh"
up_test_init verbs-top

# an image without ps: busybox with the applet's link removed
busybox_tree "$tmp/nops"
rm "$tmp/nops/bin/ps"
"$STACK" image import "$tmp/nops" nops:1 >/dev/null || fail "import the image without ps"

cat >compose.yaml <<'YAML'
name: vtop
services:
  web:
    image: busybox:amd64
    command: sh -c 'su nobody -s /bin/sh -c "exec sleep 303" & sleep 301 & exec sleep 300'
  other:
    image: busybox:amd64
    command: sleep 302
  nops:
    image: nops:1
    command: sh -c 'su app -s /bin/sh -c "exec sleep 305" & exec sleep 304'
  done:
    image: busybox:amd64
    command: "true"
YAML

timeout 300 "$STACK" up -d 2>"$tmp/err" || fail "up -d: $(cat "$tmp/err")"
wait_for eval '"$STACK" ps -a | grep -q "^vtop-done-1 .*Exited"' || fail "done: $("$STACK" ps -a)"

# `up -d` returns once the main process started; its shell may still be
# forking, so wait (bounded) until everything shows
top_ready() {
  out=$(timeout 60 "$STACK" top) &&
    grep -qE ' sleep 300$' <<<"$out" && grep -qE ' sleep 301$' <<<"$out" &&
    grep -qE ' sleep 303$' <<<"$out" && grep -qE ' sleep 305$' <<<"$out"
}
wait_for top_ready || true
out=$(timeout 60 "$STACK" top) || fail "top: $out"
grep -qx 'vtop-web-1' <<<"$out" || fail "no web section: $out"
grep -qx 'vtop-other-1' <<<"$out" || fail "no other section: $out"
grep -qx 'vtop-nops-1' <<<"$out" || fail "no nops section: $out"
grep -q 'vtop-done-1' <<<"$out" && fail "a stopped container listed: $out"
(($(grep -c '^UID  *PID  *PPID  *C  *STIME  *TTY  *TIME  *CMD$' <<<"$out") == 3)) || fail "headers: $out"
section() { sed -n "/^$1\$/,/^\$/p" <<<"$out"; }
row='+[0-9]+ +[0-9]+ +[0-9]+ +[0-9A-Za-z:]+ +[^ ]+ +([0-9]+-)?[0-9]{2}:[0-9]{2}:[0-9]{2} +'
web=$(section vtop-web-1)
grep -qE "^root $row""sleep 300\$" <<<"$web" || fail "sleep 300: $web"
grep -qE "^root $row""sleep 301\$" <<<"$web" || fail "sleep 301: $web"
grep -qE "^nobody $row""sleep 303\$" <<<"$web" || fail "another user's process (sleep 303): $web"
grep -q 'sleep 302' <<<"$web" && fail "another container's process in web's: $web"
grep -q '\[' <<<"$web" && fail "kernel threads listed: $web"
awk '$2 == 1' <<<"$web" | grep -q . && fail "the guest init listed: $web"
# PPID: sleep 301 is the shell's child, and the shell became sleep 300
pid300=$(awk '$NF == 300 && $(NF-1) == "sleep" {print $2}' <<<"$web")
ppid301=$(awk '$NF == 301 && $(NF-1) == "sleep" {print $3}' <<<"$web")
[[ -n $pid300 && $pid300 == "$ppid301" ]] || fail "sleep 301's parent is not sleep 300's pid ($pid300): $web"

# no ps in the image, and yet
rc=0
"$STACK" exec nops ps >/dev/null 2>&1 || rc=$?
((rc == 127)) || fail "the nops image has a ps (exec ps: $rc)"
nops=$(section vtop-nops-1)
grep -qE "^root $row""sleep 304\$" <<<"$nops" || fail "nops: sleep 304: $nops"
grep -qE "^app $row""sleep 305\$" <<<"$nops" || fail "nops: app's sleep 305: $nops"

out=$(timeout 60 "$STACK" top other) || fail "top other: $out"
[[ $(head -1 <<<"$out") == vtop-other-1 ]] && grep -q ' sleep 302$' <<<"$out" || fail "top other: $out"
grep -q 'vtop-web-1' <<<"$out" && fail "top other listed web: $out"

# ps options: ps runs in the guest, its lines for the container's processes
out=$(timeout 60 "$STACK" top web -o pid,user,args) || fail "top web -o pid,user,args: $out"
[[ $(head -1 <<<"$out") == vtop-web-1 ]] || fail "ps options: $out"
grep -qE '^PID +USER +COMMAND$' <<<"$out" || fail "ps options' header: $out"
grep -qE "^$pid300 +root +sleep 300\$" <<<"$out" || fail "ps options: sleep 300: $out"
grep -qE '^[0-9]+ +nobody +sleep 303$' <<<"$out" || fail "ps options: sleep 303: $out"
grep -q 'ps -o' <<<"$out" && fail "top's own ps listed: $out"
grep -q '/init' <<<"$out" && fail "the guest init listed: $out"
rc=0
out=$(timeout 60 "$STACK" top nops -o pid,args 2>&1) || rc=$?
((rc == 1)) && grep -q 'the image has no ps' <<<"$out" || fail "ps options without ps: $rc $out"
rc=0
out=$(timeout 60 "$STACK" top web -o user,args 2>&1) || rc=$?
((rc == 1)) && grep -q 'no PID column' <<<"$out" || fail "ps options without pid: $rc $out"

timeout 60 "$STACK" pause other >/dev/null 2>&1 || fail "pause other"
out=$(timeout 60 "$STACK" top other 2>&1) || fail "top of a paused container: $out"
grep -q 'container vtop-other-1 is paused' <<<"$out" || fail "paused: $out"
timeout 60 "$STACK" unpause other >/dev/null 2>&1 || fail "unpause other"

rc=0
"$STACK" top nosuch 2>"$tmp/err" || rc=$?
((rc == 1)) && grep -q "no such service or container: nosuch" "$tmp/err" || fail "nosuch: $rc $(cat "$tmp/err")"
echo ok
