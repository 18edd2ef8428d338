#!/usr/bin/env bash
# Docker's copy-up: a new, empty named volume mounted where the image has a
# directory gets the image's files there, with their owners and modes, and
# the directory's own owner and mode (so an image's non-root user can write
# its data directory); a volume with content is left alone, and
# `volume.nocopy` keeps a new one empty.  Mounts go parents first.  The
# owners and modes are the guest's (kept in xattrs: mapped-xattr); on the
# host the volume's files are QEMU's own, mode 0600.
set -euo pipefail
source "$STACK_SOURCE_DIR/tests/lib/up.sh"
source "$STACK_SOURCE_DIR/tests/lib/busybox_tree.sh"
up_test_init copyup

busybox_tree "$tmp/tree"
mkdir -p "$tmp/tree/var/lib/app/sub"
echo seed >"$tmp/tree/var/lib/app/seed.txt"
echo deep >"$tmp/tree/var/lib/app/sub/deep.txt"
ln -s seed.txt "$tmp/tree/var/lib/app/link"
chown -R 1000:1000 "$tmp/tree/var/lib/app"
chmod 750 "$tmp/tree/var/lib/app"
chmod 600 "$tmp/tree/var/lib/app/seed.txt"
"$STACK" image import "$tmp/tree" copyup:latest >/dev/null 2>"$tmp/err" ||
  fail "image import: $(cat "$tmp/err")"

echo extra >extra.txt
cat > compose.yaml <<'YAML'
name: cu
services:
  a:
    image: copyup:latest
    user: "1000"
    command: sh -c 'cat /var/lib/app/seed.txt; echo mine >/var/lib/app/new.txt; sleep 3600'
    network_mode: none
    volumes:
      - appdata:/var/lib/app
  b:
    image: copyup:latest
    command: sleep 3600
    network_mode: none
    volumes:
      - ./extra.txt:/var/lib/app/extra.txt:ro
      - {type: volume, source: bare, target: /var/lib/app, volume: {nocopy: true}}
volumes:
  appdata: {}
  bare: {}
YAML
out=$(timeout 120 "$STACK" up -d 2>&1) || fail "up failed: $out"
vol=$STACK_ROOT/volumes/cu_appdata/_data
ex() { timeout 60 "$STACK" exec -T "$@"; }
wait_for test -f "$vol/new.txt" || fail "user 1000 could not write its copied-up data directory: $("$STACK" logs a)"
[[ $("$STACK" logs --no-log-prefix a) == seed ]] || fail "the image's file was not in the volume: $("$STACK" logs a)"
[[ $(ex a stat -c '%u:%g %a' /var/lib/app) == "1000:1000 750" ]] || fail "volume root: $(ex a stat -c '%u:%g %a' /var/lib/app)"
[[ $(ex a stat -c '%u:%g %a' /var/lib/app/seed.txt) == "1000:1000 600" ]] || fail "seed.txt: $(ex a stat -c '%u:%g %a' /var/lib/app/seed.txt)"
[[ $(cat "$vol/sub/deep.txt") == deep && $(ex a readlink /var/lib/app/link) == seed.txt ]] ||
  fail "the directory tree or the symlink was not copied: $(ls -laR "$vol")"
# on the host: a file of QEMU's (0600), with the guest's owner in an xattr
xuid() { python3 -c 'import os,sys; print(int.from_bytes(os.getxattr(sys.argv[1], "user.virtfs.uid"), "little"))' "$1"; }
[[ $(stat -c '%a' "$vol/seed.txt") == 600 && $(stat -c '%u' "$vol/seed.txt") != 1000 && $(xuid "$vol/seed.txt") == 1000 ]] ||
  fail "seed.txt on the host: $(stat -c '%u:%g %a' "$vol/seed.txt") $(xuid "$vol/seed.txt")"
# nocopy: nothing of the image's, only the (empty) mount point of the
# file bound inside it
bare=$STACK_ROOT/volumes/cu_bare/_data
[[ $(ls -A "$bare") == extra.txt && ! -s $bare/extra.txt ]] || fail "nocopy: the volume got files: $(ls -lA "$bare")"
# mounts go parents first, as Docker sorts them: the file listed before the
# volume it lies in is still seen
[[ $(timeout 60 "$STACK" exec -T b cat /var/lib/app/extra.txt) == extra ]] ||
  fail "a file bound inside a volume was hidden by it"

# a volume with content is left alone
echo changed >"$vol/seed.txt"
timeout 120 "$STACK" restart a >/dev/null 2>&1 || fail "restart failed"
wait_for eval '[[ $("$STACK" logs --no-log-prefix a) == *changed* ]]' ||
  fail "the volume was copied up again: $("$STACK" logs a)"
timeout 120 "$STACK" down -v -t 0 >/dev/null 2>&1 || fail "down -v failed"
echo "ok"
