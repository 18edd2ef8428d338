#!/usr/bin/env bash
# `stack cp` between the host and a service's container, both ways, with
# Docker's rules: a file to a new name, into a directory, over a file; a
# directory as a new one, into one, its contents with DIR/.; a tar stream
# on stdout and stdin with -; modes kept; owners: root's in the container
# and the caller's on the host unless -a; -L copies a link's target;
# --index picks a replica; missing paths and bad combinations are errors
# with exit 1; an archive entry outside what was asked is refused.
set -euo pipefail
. "$STACK_SOURCE_DIR/tests/lib/up.sh"
up_test_init verbs-cp

st() { timeout 120 "$STACK" "$@"; }
ex() { timeout 60 "$STACK" exec -T "$@"; }

cat >compose.yaml <<'YAML'
name: pcp
services:
  app:
    image: busybox:amd64
    command: sh -c 'mkdir -p /data/sub && echo one >/data/a.txt && echo two >/data/sub/b.txt && chmod 750 /data/sub && chown -R 1000:1000 /data && ln -s /data/a.txt /link && echo ready >/tmp/ready && sleep 3600'
    scale: 2
YAML
st up -d >/dev/null 2>"$tmp/err" || fail "up: $(cat "$tmp/err")"
wait_for ex app test -e /tmp/ready || fail "app not ready"
wait_for ex --index 2 app test -e /tmp/ready || fail "app-2 not ready"

# container -> host
mkdir out
st cp app:/data/a.txt out/a.txt || fail "cp file to a new name"
[[ $(cat out/a.txt) == one ]] || fail "file content"
[[ $(stat -c %u out/a.txt) == "$(id -u)" ]] || fail "owner without -a: $(stat -c %u out/a.txt)"
st cp app:/data/a.txt out/ || fail "cp file into a directory"
echo old >out/over.txt
st cp app:data/a.txt out/over.txt || fail "cp file over a file (relative container path)"
[[ $(cat out/over.txt) == one ]] || fail "overwrite"
st cp app:/data out/d1 || fail "cp dir to a new name"
[[ $(cat out/d1/sub/b.txt) == two && $(stat -c %a out/d1/sub) == 750 ]] || fail "dir copy: $(ls -lR out/d1)"
st cp app:/data out/ || fail "cp dir into a directory"
[[ -f out/data/a.txt ]] || fail "dir into dir: $(ls -R out)"
mkdir out/c
st cp app:/data/. out/c || fail "cp dir contents"
[[ -f out/c/a.txt && -f out/c/sub/b.txt && ! -e out/c/data ]] || fail "contents: $(ls -R out/c)"
st cp -a app:/data out/owned || fail "cp -a"
[[ $(stat -c %u:%g out/owned/sub/b.txt) == 1000:1000 ]] || fail "-a owner: $(stat -c %u:%g out/owned/sub/b.txt)"
st cp app:/link out/link || fail "cp link"
[[ -L out/link ]] || fail "without -L a link is copied as a link"
st cp -L app:/link out/linked || fail "cp -L"
[[ ! -L out/linked && $(cat out/linked) == one ]] || fail "-L: $(ls -l out/linked)"
st cp app:/data - | tar -t | sort >"$tmp/list" || fail "cp to stdout"
grep -qx 'data/sub/b.txt' "$tmp/list" || fail "tar on stdout: $(cat "$tmp/list")"
ex --index 2 app sh -c 'echo replica2 >/tmp/who'
st cp --index 2 app:/tmp/who out/who || fail "--index 2"
[[ $(cat out/who) == replica2 ]] || fail "--index: $(cat out/who)"

rc=0
st cp app:/nosuch out/x 2>"$tmp/err" || rc=$?
((rc == 1)) && grep -q 'Could not find the file /nosuch in container' "$tmp/err" || fail "missing source: $rc $(cat "$tmp/err")"
rc=0
st cp app:/data out/a.txt 2>"$tmp/err" || rc=$?
((rc == 1)) && grep -q 'cannot copy a directory to a file' "$tmp/err" || fail "dir onto file: $rc $(cat "$tmp/err")"
rc=0
st cp out/a.txt out/b.txt 2>"$tmp/err" || rc=$?
((rc == 1)) && grep -q 'must be SERVICE:PATH' "$tmp/err" || fail "two local paths: $rc $(cat "$tmp/err")"

# host -> container
mkdir -p in/tree/deep
echo three >in/tree/deep/c.txt
chmod 640 in/tree/deep/c.txt
chown 1234:1234 in/tree/deep/c.txt
echo four >in/f.txt
st cp in/f.txt app:/tmp/f-new || fail "cp file to a new name in the container"
[[ $(ex app cat /tmp/f-new) == four ]] || fail "file in container"
[[ $(ex app stat -c %u:%g /tmp/f-new) == 0:0 ]] || fail "owner in container without -a"
st cp in/f.txt app:/data || fail "cp file into a container dir"
[[ $(ex app cat /data/f.txt) == four ]] || fail "file into dir"
st cp in/tree app:/tmp || fail "cp dir into a container dir"
[[ $(ex app cat /tmp/tree/deep/c.txt) == three && $(ex app stat -c %a /tmp/tree/deep/c.txt) == 640 ]] ||
  fail "dir in container: $(ex app ls -lR /tmp/tree)"
st cp in/tree app:/tmp/renamed || fail "cp dir to a new name in the container"
ex app test -f /tmp/renamed/deep/c.txt || fail "renamed dir: $(ex app ls -R /tmp/renamed)"
st cp -a in/tree/. app:/tmp/tree || fail "cp -a contents"
[[ $(ex app stat -c %u:%g /tmp/tree/deep/c.txt) == 1234:1234 ]] || fail "-a into container"
tar -C in -c f.txt | st cp - app:/srv 2>"$tmp/err" && fail "stdin into a missing dir succeeded"
tar -C in -c f.txt | st cp - app:/tmp || fail "cp from stdin"
[[ $(ex app cat /tmp/f.txt) == four ]] || fail "stdin tar"
rc=0
st cp in/nosuch app:/tmp 2>"$tmp/err" || rc=$?
((rc == 1)) && grep -q 'lstat in/nosuch' "$tmp/err" || fail "missing host source: $rc $(cat "$tmp/err")"
rc=0
st cp in/f.txt app:/nosuchdir/x 2>"$tmp/err" || rc=$?
((rc == 1)) && grep -q 'Could not find the file /nosuchdir' "$tmp/err" || fail "missing container parent: $rc $(cat "$tmp/err")"

# a hostile guest: its "tar" sends entries outside what was asked for, or
# climbing out with ..: refused, nothing written outside the destination
python3 - "$tmp" <<'PY'
import io, sys, tarfile
for name, entries in (("outside", ["data", "other.txt"]), ("dotdot", ["data", "data/../../escape.txt"])):
    with tarfile.open(f"{sys.argv[1]}/{name}.tar", "w") as t:
        for e in entries:
            i = tarfile.TarInfo(e)
            if e == "data":
                i.type = tarfile.DIRTYPE
                t.addfile(i)
            else:
                i.size = 4
                t.addfile(i, io.BytesIO(b"bad\n"))
PY
st cp "$tmp/outside.tar" app:/tmp/outside.tar && st cp "$tmp/dotdot.tar" app:/tmp/dotdot.tar || fail "cp the archives"
mkdir out/evil
for name in outside dotdot; do
  ex app sh -c "rm -f /bin/tar && printf '#!/bin/sh\ncat /tmp/$name.tar\n' >/bin/tar && chmod 755 /bin/tar"
  rc=0
  st cp app:/data out/evil/ 2>"$tmp/err-$name" || rc=$?
  ((rc == 1)) || fail "$name: a hostile archive was accepted: $(ls -R out)"
  [[ ! -e out/evil/other.txt && ! -e out/escape.txt && ! -e escape.txt ]] || fail "$name: written outside"
done
grep -q 'the container sent an entry outside /data: other.txt' "$tmp/err-outside" || fail "outside: $(cat "$tmp/err-outside")"
grep -q 'escape.txt' "$tmp/err-dotdot" || fail "dotdot: $(cat "$tmp/err-dotdot")"

rc=0
st cp nosuch:/x out/ 2>"$tmp/err" || rc=$?
((rc == 1)) || fail "cp from a service that does not run: $rc"
echo ok
