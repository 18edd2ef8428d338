#!/usr/bin/env bash
# `stack export SERVICE` and `stack commit SERVICE REPO:TAG` as `docker
# compose export/commit`: the container's file system as a tar archive
# (to -o FILE or stdout; refused to a terminal), with what the container
# wrote and without what is mounted on it (volumes, /proc); commit makes
# an image of it that keeps the image's configuration (CMD, ENV) with -c
# changes on top, and a new container of that image sees the files.
set -euo pipefail
. "$STACK_SOURCE_DIR/tests/lib/up.sh"
up_test_init verbs-export

st() { timeout 180 "$STACK" "$@"; }

cat >compose.yaml <<'YAML'
name: pex
services:
  app:
    image: busybox:amd64
    command: sh -c 'mkdir -p /srv/made && echo written >/srv/made/file && echo vol >/vol/in-volume && touch /tmp/ready && sleep 3600'
    environment:
      FROM_SERVICE: "1"
    volumes: [data:/vol]
volumes:
  data: {}
YAML
st up -d >/dev/null 2>"$tmp/err" || fail "up: $(cat "$tmp/err")"
wait_for timeout 30 "$STACK" exec -T app test -e /tmp/ready || fail "app not ready"

st export -o "$tmp/fs.tar" app || fail "export -o"
tar -tf "$tmp/fs.tar" | sed 's|^\./||' >"$tmp/list"
grep -qx 'srv/made/file' "$tmp/list" || fail "the container's file is not in the archive"
grep -qx 'bin/busybox' "$tmp/list" || fail "the image's files are not in the archive"
grep -q '^vol/in-volume' "$tmp/list" && fail "a volume's file is in the archive"
grep -q '^proc/[0-9]' "$tmp/list" && fail "/proc is in the archive"
grep -qx 'vol/\?' "$tmp/list" || fail "the volume's mount point is not in the archive"
[[ $(tar -xOf "$tmp/fs.tar" srv/made/file) == written ]] || fail "file content"
st export app | tar -t >/dev/null || fail "export to stdout"
rc=0
script -qec "$STACK export app" /dev/null >"$tmp/tty" 2>&1 || rc=$?
grep -q 'output file is required when exporting to a terminal' "$tmp/tty" || fail "export to a terminal: $(cat "$tmp/tty")"

out=$(st commit -c 'ENV COMMITTED=yes' app committed:1) || fail "commit: $out"
[[ $out =~ ^sha256:[0-9a-f]{64}$ ]] || fail "commit output: $out"
st image inspect committed:1 | python3 -c '
import json, sys
[i] = json.load(sys.stdin)
c = i["Config"]
assert "COMMITTED=yes" in c["Env"], c
' || fail "committed image config: $(st image inspect committed:1)"
cat >compose.yaml <<'YAML'
name: pex
services:
  again:
    image: committed:1
    command: cat /srv/made/file
YAML
out=$(st run --rm again 2>"$tmp/err") || fail "run of the committed image: $(cat "$tmp/err")"
[[ $out == written ]] || fail "the committed image lacks the file: $out"

rc=0
st commit app 2>"$tmp/err" || rc=$?
((rc == 1)) && grep -q 'requires 2 arguments' "$tmp/err" || fail "commit without a name: $rc $(cat "$tmp/err")"
echo ok
