#!/usr/bin/env bash
# stack image import / images / inspect / save / load / rm / prune, with no
# registry: a busybox-static root file system imported from a directory and
# from a tarball; its root disk passes e2fsck; save + load round-trips; a
# corrupted archive is refused and leaves the store unchanged; rm and prune
# leave an empty store.
set -euo pipefail
STACK=${STACK_BIN:?}
[[ -x /bin/busybox ]] || { echo "SKIP: busybox-static is not installed"; exit 77; }
command -v e2fsck >/dev/null || { echo "SKIP: e2fsck is not installed"; exit 77; }

tmp=$(mktemp -d /tmp/stack-import-test.XXXXXX)
trap 'rm -rf "$tmp"' EXIT
export STACK_ROOT=$tmp/root STACK_RUN_DIR=$tmp/run
fail() { echo "FAIL: $*" >&2; exit 1; }
st() { timeout 60 "$STACK" "$@"; }

# A busybox tree: every applet a symlink, a hard link, a sticky /tmp.
tree=$tmp/tree
mkdir -p "$tree"/{bin,etc,tmp,root}
cp /bin/busybox "$tree/bin/busybox"
for a in sh ls cat echo env; do ln -s busybox "$tree/bin/$a"; done
ln "$tree/bin/busybox" "$tree/bin/busybox-hard"
echo 'root:x:0:0:root:/root:/bin/sh' >"$tree/etc/passwd"
chmod 1777 "$tree/tmp"

id=$(st image import "$tree" bbtest:1.0) || fail "import from a directory"
[[ $id =~ ^sha256:[0-9a-f]{64}$ ]] || fail "import printed '$id'"
short=${id:7:12}

out=$(st images)
head -1 <<<"$out" | grep -Eq '^REPOSITORY +TAG +IMAGE ID +CREATED +SIZE$' || fail "header: $out"
grep -Eq "^bbtest +1\.0 +$short +(Less than a second|[0-9]+ seconds?) ago +[0-9.]+MB$" <<<"$out" || fail "row: $out"
[[ $(st images -q) == "$short" ]] || fail "images -q"
st images --format json | python3 -c '
import json, sys
rows = [json.loads(l) for l in sys.stdin]
assert len(rows) == 1, rows
r = rows[0]
assert r["Repository"] == "bbtest" and r["Tag"] == "1.0", r
' || fail "images --format json"
[[ $(st image ls bbtest:1.0 -q) == "$short" ]] || fail "filter by name:tag"
[[ -z $(st image ls nosuch -q) ]] || fail "filter by a missing name"

disk=$(st image inspect bbtest:1.0 | python3 -c '
import json, sys
i = json.load(sys.stdin)[0]
assert i["RepoTags"] == ["bbtest:1.0"], i
assert i["Os"] == "linux", i
assert len(i["RootFS"]["Layers"]) == 1, i
print(i["Metadata"]["RootDisk"])') || fail "inspect"
e2fsck -fn "$disk" >/dev/null 2>&1 || fail "e2fsck on $disk"
st image inspect "$short" >/dev/null || fail "inspect by ID"
if st image inspect nosuch:1 >/dev/null 2>"$tmp/err"; then fail "inspect of a missing image succeeded"; fi
grep -q "No such image: nosuch:1" "$tmp/err" || fail "inspect error: $(cat "$tmp/err")"

# --change sets the config as docker import -c does.
st image import -c 'CMD ["/bin/sh", "-c", "echo hi"]' -c 'ENV A=b' -c 'EXPOSE 8080' \
  -c 'WORKDIR /tmp' "$tree" bbtest:changed >/dev/null || fail "import --change"
st image inspect bbtest:changed | python3 -c '
import json, sys
c = json.load(sys.stdin)[0]["Config"]
assert c["Cmd"] == ["/bin/sh", "-c", "echo hi"], c
assert "A=b" in c["Env"] and c["ExposedPorts"] == {"8080/tcp": {}} and c["WorkingDir"] == "/tmp", c
' || fail "--change did not reach the config"
if st image import -c 'FROM x' "$tree" bad:1 2>"$tmp/err"; then fail "import with a bad --change"; fi
grep -q "unsupported instruction FROM" "$tmp/err" || fail "bad --change error: $(cat "$tmp/err")"
st image rm bbtest:changed >/dev/null || fail "rm bbtest:changed"

# The same tree as a gzip tarball: same content, so the same layer.
tar -C "$tree" -czf "$tmp/tree.tgz" .
st image import "$tmp/tree.tgz" bbtest:tgz >/dev/null || fail "import from a tarball"
[[ $(st images -q | wc -l) -ge 1 ]] || fail "two images"
if st image import "$tmp/nonexistent" bad:1 2>"$tmp/err"; then fail "import of a missing path"; fi
echo "not a tarball" >"$tmp/junk.tar"
if st image import "$tmp/junk.tar" bad:1 2>"$tmp/err"; then fail "import of junk"; fi
[[ -z $(st image ls bad -q) ]] || fail "a failed import left an image"

# Hostile tarballs: the error names the entry; nothing lands outside.
marker=stack-escape-$$-$RANDOM
for kind in dotdot absolute hardlink; do
  python3 - "$tmp/hostile-$kind.tar" "$kind" "$marker" <<'PY'
import io, sys, tarfile
path, kind, marker = sys.argv[1:]
with tarfile.open(path, "w") as t:
    def add(name, data=b"x", **kw):
        ti = tarfile.TarInfo(name)
        for k, v in kw.items():
            setattr(ti, k, v)
        ti.size = len(data) if ti.type == tarfile.REGTYPE else 0
        t.addfile(ti, io.BytesIO(data) if ti.type == tarfile.REGTYPE else None)
    add("ok")
    if kind == "dotdot":
        add("a/../../../../../tmp/" + marker)
    elif kind == "absolute":
        add("/tmp/" + marker)
    else:
        add("link", type=tarfile.LNKTYPE, linkname="../../../../tmp/" + marker)
PY
  if st image import "$tmp/hostile-$kind.tar" hostile:$kind 2>"$tmp/err"; then fail "hostile $kind imported"; fi
  grep -q "entry" "$tmp/err" || fail "hostile $kind: error does not name the entry: $(cat "$tmp/err")"
  [[ ! -e /tmp/$marker ]] || { rm -f "/tmp/$marker"; fail "hostile $kind wrote outside the root"; }
done
[[ -z $(st image ls hostile -q) ]] || fail "a hostile import was recorded"

# save + load round trip into a fresh store.
st image save -o "$tmp/save.tar" bbtest:1.0 || fail "save"
tar -tf "$tmp/save.tar" | grep -qx index.json || fail "save: no index.json"
STACK_ROOT=$tmp/root2 st image load -i "$tmp/save.tar" | grep -qx "Loaded image: bbtest:1.0" || fail "load"
[[ $(STACK_ROOT=$tmp/root2 st images -q) == "$short" ]] || fail "loaded image has another ID"
# Through pipes, as docker save | docker load.
st image save bbtest:1.0 | STACK_ROOT=$tmp/root4 st image load | grep -qx "Loaded image: bbtest:1.0" ||
  fail "save | load through a pipe"

# A corrupted blob in the archive: refused, nothing enters the store.
mkdir "$tmp/bad" && tar -C "$tmp/bad" -xf "$tmp/save.tar"
layer=$(ls -S "$tmp/bad/blobs/sha256" | head -1)
printf 'X' | dd of="$tmp/bad/blobs/sha256/$layer" bs=1 seek=1000 conv=notrunc status=none
tar -C "$tmp/bad" -cf "$tmp/bad.tar" .
if STACK_ROOT=$tmp/root3 st image load -i "$tmp/bad.tar" 2>"$tmp/err"; then fail "a corrupt archive loaded"; fi
grep -q "does not match its digest" "$tmp/err" || fail "corrupt load error: $(cat "$tmp/err")"
[[ ! -e $tmp/root3/blobs/sha256/$layer ]] || fail "a corrupt blob entered the store"
[[ -z $(STACK_ROOT=$tmp/root3 st images -q) ]] || fail "a corrupt archive was recorded"

# A config whose diff_id does not match its layer: every blob is intact
# (digests rewritten), but the image is inconsistent and is refused.
mkdir "$tmp/lie" && tar -C "$tmp/lie" -xf "$tmp/save.tar"
python3 - "$tmp/lie" <<'PY'
import hashlib, json, os, sys
d = sys.argv[1]
blobs = os.path.join(d, "blobs", "sha256")
def put(obj):
    data = json.dumps(obj, separators=(",", ":")).encode()
    h = hashlib.sha256(data).hexdigest()
    open(os.path.join(blobs, h), "wb").write(data)
    return "sha256:" + h, len(data)
index = json.load(open(os.path.join(d, "index.json")))
desc = index["manifests"][0]
man = json.load(open(os.path.join(blobs, desc["digest"][7:])))
cfg = json.load(open(os.path.join(blobs, man["config"]["digest"][7:])))
cfg["rootfs"]["diff_ids"] = ["sha256:" + "0" * 64]
man["config"]["digest"], man["config"]["size"] = put(cfg)
desc["digest"], desc["size"] = put(man)
json.dump(index, open(os.path.join(d, "index.json"), "w"))
PY
tar -C "$tmp/lie" -cf "$tmp/lie.tar" .
if STACK_ROOT=$tmp/root5 st image load -i "$tmp/lie.tar" 2>"$tmp/err"; then fail "an inconsistent image loaded"; fi
grep -q "but the image config says sha256:0000" "$tmp/err" || fail "diff_id error: $(cat "$tmp/err")"
[[ -z $(STACK_ROOT=$tmp/root5 st images -q) ]] || fail "an inconsistent image was recorded"

# rm by name and by ID, then nothing is left.
st image rm bbtest:tgz | grep -qx "Untagged: bbtest:tgz" || fail "rm by name"
st image rm "$short" | grep -qx "Untagged: bbtest:1.0" || fail "rm by ID"
if st image rm bbtest:1.0 2>"$tmp/err"; then fail "rm of a removed image"; fi
grep -q "No such image" "$tmp/err" || fail "rm error: $(cat "$tmp/err")"
[[ -z $(st images -q) ]] || fail "images left after rm"
st image prune | grep -q "Total reclaimed space" || fail "prune"
[[ -z $(ls "$STACK_ROOT/blobs/sha256") ]] || fail "blobs left: $(ls "$STACK_ROOT/blobs/sha256")"
[[ -z $(ls "$STACK_ROOT/rootfs") ]] || fail "root disks left: $(ls "$STACK_ROOT/rootfs")"
echo "ok"
