#!/usr/bin/env bash
# OPTIONAL, for the benchmark only (never needed by tests): a redis image from
# Debian packages, `debootstrap --variant=minbase --include=redis-server`,
# packed with umoci as an OCI layout at
#   <cache>/test-images/redis   (tag latest; one gzip layer; Cmd redis-server)
# where <cache> is what tests/images/build.sh --print-dir names.  Needs a
# Debian mirror ($DEBIAN_MIRROR, default http://deb.debian.org/debian); takes
# minutes.  Idempotent: an existing image is kept unless --force.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
out=$("$here/build.sh" --print-dir)
mirror=${DEBIAN_MIRROR:-http://deb.debian.org/debian}
[[ ${1:-} != --force && -f $out/redis/index.json ]] && exit 0
for tool in debootstrap umoci; do
  command -v "$tool" >/dev/null || { echo "build-redis.sh: $tool is not installed" >&2; exit 1; }
done
mkdir -p "$out"
# The root file system lives on tmpfs: deleting big trees on / is slow here.
work=$(mktemp -d /dev/shm/stack-redis.XXXXXX)
trap 'rm -rf "$work"' EXIT
nice -n 10 debootstrap --variant=minbase --include=redis-server bookworm "$work/root" "$mirror" \
  >"$work/debootstrap.log" 2>&1 || { tail -20 "$work/debootstrap.log" >&2; exit 1; }
rm -rf "$work/root"/var/cache/apt/archives/*.deb "$work/root"/var/lib/apt/lists/* "$work/root"/var/log/*
tar --sort=name --numeric-owner --format=posix --pax-option=delete=atime,delete=ctime \
  -C "$work/root" -cf "$work/layer.tar" .
layout=$work/redis
umoci init --layout "$layout"
umoci new --image "$layout:latest"
umoci raw add-layer --image "$layout:latest" "$work/layer.tar"
umoci config --image "$layout:latest" --config.cmd redis-server --config.cmd --protected-mode \
  --config.cmd no --config.exposedports 6379/tcp \
  --config.env PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin \
  --os linux --architecture amd64
umoci gc --layout "$layout"
rm -rf "$out/redis"
mv "$layout" "$out/redis"
echo "test images: $out/redis (tag latest, $(du -sh "$out/redis" | cut -f1))"
