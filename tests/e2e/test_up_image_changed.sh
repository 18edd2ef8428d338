#!/usr/bin/env bash
# A supervisor that keeps running sees a new image behind the same tag: after
# app:latest is imported again with other contents, `up -d` recreates the
# service's container on the new image (as Compose does when the image
# digest changed); with the same image, `up -d` leaves the container alone.
set -euo pipefail
. "$STACK_SOURCE_DIR/tests/lib/up.sh"
up_test_init up-image-changed
[[ -x /bin/busybox ]] || { echo "SKIP: busybox-static is not installed"; exit 77; }

make_image() { # make_image MARKER: app:latest with /marker holding MARKER
  local tree=$tmp/tree-$1
  mkdir -p "$tree"/{bin,etc,tmp}
  cp /bin/busybox "$tree/bin/busybox"
  for a in sh cat sleep; do ln -sf busybox "$tree/bin/$a"; done
  echo "$1" >"$tree/marker"
  timeout 120 "$STACK" image import "$tree" app:latest >/dev/null || fail "import $1"
}
cat >compose.yaml <<'YAML'
name: imgchanged
services:
  app:
    image: app:latest
    pull_policy: never
    command: ["/bin/sh", "-c", "cat /marker; exec sleep 300"]
YAML
qemu() { pgrep -f -- "-name guest=imgchanged-app-1 " || true; }

make_image one
timeout 300 "$STACK" up -d 2>"$tmp/err" || fail "up: $(cat "$tmp/err")"
[[ $("$STACK" exec app cat /marker) == one ]] || fail "not on image one"
first=$(qemu)

# the same image: nothing to do
timeout 300 "$STACK" up -d 2>"$tmp/err" || fail "up (same): $(cat "$tmp/err")"
[[ $(qemu) == "$first" ]] || fail "up -d replaced a container whose image did not change"

# another image behind the same tag, the supervisor still running
make_image two
timeout 300 "$STACK" up -d 2>"$tmp/err" || fail "up (changed): $(cat "$tmp/err")"
[[ $("$STACK" exec app cat /marker) == two ]] || fail "up -d kept the old image: $("$STACK" exec app cat /marker)"
[[ $(qemu) != "$first" ]] || fail "same VM after the image changed"
id=$("$STACK" ps --format json app | python3 -c 'import json,sys; print(json.loads(sys.stdin.readline()).get("Image",""))')
[[ $id == app:latest || $id == *app* ]] || fail "ps image: $id"

# --force-recreate after yet another import: the newest image too
make_image three
timeout 300 "$STACK" up -d --force-recreate 2>"$tmp/err" || fail "up --force-recreate: $(cat "$tmp/err")"
[[ $("$STACK" exec app cat /marker) == three ]] || fail "--force-recreate kept the old image"
echo ok
