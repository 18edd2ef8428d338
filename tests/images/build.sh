#!/usr/bin/env bash
# Builds the offline test images from Debian packages, without internet, and
# caches them.  Idempotent: a second run with the same inputs does nothing.
#
#   $STACK_CACHE_DIR/test-images/ (else /var/cache/stack/test-images, or
#   $XDG_CACHE_HOME/stack/test-images for non-root):
#     busybox/            OCI image layout, tags (org.opencontainers.image.ref.name):
#        latest           OCI index: linux/amd64 + linux/arm64/v8 (gzip layers)
#        amd64            OCI manifest, linux/amd64, gzip layer
#        arm64            OCI manifest, linux/arm64/v8 (its "busybox" is a text
#                         file: it only exists to test platform choice)
#        zstd             linux/amd64, zstd layer
#        plain            linux/amd64, uncompressed layer
#        multi            linux/amd64, 7 gzip layers: busybox, then /etc/layer1..5
#                         (one file each), then a whiteout of /etc/layer1 and
#                         an opaque /opt holding only /opt/kept
#     busybox.tar         the same layout as an OCI archive (`stack image load -i`)
#     busybox-docker/     Docker schema2 manifests of the same blobs, for tests
#                         that push a Docker manifest list by hand:
#                         manifest-amd64.json, manifest-arm64.json, list.json
#     busybox.env         shell variables: digests of everything above
#
# The amd64 root file system: /bin/busybox from busybox-static with every applet
# as a symlink (busybox --list-full), /etc/passwd (root, nobody 65534, user
# 1000), /etc/group, /tmp (1777), /root, /home/user, /proc, /sys, /dev, /run,
# /var.  Config: PATH, Cmd ["sh"].
#
# Usage: tests/images/build.sh [--force | --print-dir]
set -euo pipefail

here=$(cd "$(dirname "$0")" && pwd)
if [[ -n ${STACK_CACHE_DIR:-} ]]; then
  cache=$STACK_CACHE_DIR
elif [[ $(id -u) == 0 ]]; then
  cache=/var/cache/stack
else
  cache=${XDG_CACHE_HOME:-$HOME/.cache}/stack
fi
out=$cache/test-images
force=0
[[ ${1:-} == --force ]] && force=1
if [[ ${1:-} == --print-dir ]]; then
  echo "$out"
  exit 0
fi

bb=/bin/busybox
if [[ ! -x $bb ]]; then
  echo "build.sh: $bb is missing: install busybox-static (scripts/setup.sh does)" >&2
  exit 1
fi

# Cache key: this script and the busybox binary.
key=$( (cat "$0"; sha256sum "$bb") | sha256sum | cut -c1-16)
if [[ $force == 0 && -f $out/busybox.key && $(cat "$out/busybox.key") == "$key" ]]; then
  exit 0
fi

mkdir -p "$out"
# Parallel tests may all call this: one builds, the others wait and reuse.
exec 9>"$out/.lock"
flock 9
if [[ $force == 0 && -f $out/busybox.key && $(cat "$out/busybox.key") == "$key" ]]; then
  exit 0
fi
work=$(mktemp -d "$out/.build.XXXXXX")
trap 'rm -rf "$work"' EXIT

sha() { sha256sum "$1" | cut -d' ' -f1; }
size() { stat -c %s "$1"; }

layout=$work/busybox
mkdir -p "$layout/blobs/sha256"
echo '{"imageLayoutVersion":"1.0.0"}' >"$layout/oci-layout"

# put FILE: moves FILE into the layout's blobs, prints its digest hex.
put() {
  local h
  h=$(sha "$1")
  mv "$1" "$layout/blobs/sha256/$h"
  echo "$h"
}

# make_rootfs DIR ARCH
make_rootfs() {
  local r=$1 arch=$2
  mkdir -p "$r"/{bin,sbin,usr/bin,usr/sbin,etc,root,home/user,proc,sys,dev,run,var/log,tmp}
  chmod 1777 "$r/tmp"
  chmod 700 "$r/root"
  if [[ $arch == amd64 ]]; then
    cp "$bb" "$r/bin/busybox"
    local a
    while read -r a; do
      [[ $a == bin/busybox ]] && continue
      mkdir -p "$r/$(dirname "$a")"
      ln -sf /bin/busybox "$r/$a"
    done < <("$bb" --list-full)
  else
    printf '#!/bin/sh\n# arm64 placeholder: never run, only tells platforms apart\n' >"$r/bin/busybox"
    ln -sf /bin/busybox "$r/bin/sh"
  fi
  chmod 755 "$r/bin/busybox"
  cat >"$r/etc/passwd" <<'EOF'
root:x:0:0:root:/root:/bin/sh
nobody:x:65534:65534:nobody:/nonexistent:/bin/false
user:x:1000:1000:user:/home/user:/bin/sh
EOF
  cat >"$r/etc/group" <<'EOF'
root:x:0:
nogroup:x:65534:
user:x:1000:
EOF
  echo "$arch" >"$r/etc/arch"
  chown 1000:1000 "$r/home/user"
}

# make_tar DIR OUT: reproducible tar of DIR's contents.
make_tar() {
  tar --sort=name --mtime=@0 --owner=0 --group=0 --numeric-owner --format=gnu \
    -C "$1" -cf "$2" --exclude=./home/user . 
  # /home/user keeps its owner 1000: append it separately with numeric ids.
  tar --sort=name --mtime=@0 --numeric-owner --format=gnu -C "$1" -rf "$2" ./home/user
}

# blob_json MEDIATYPE HEX [extra json]
desc() { printf '{"mediaType":"%s","digest":"sha256:%s","size":%s%s}' "$1" "$2" "$(size "$layout/blobs/sha256/$2")" "${3:-}"; }

# make_image ARCH VARIANT COMPRESSION -> sets IMG_MANIFEST, IMG_CONFIG, IMG_LAYER, IMG_DIFFID
make_image() {
  local arch=$1 variant=$2 comp=$3
  local r=$work/root-$arch
  [[ -d $r ]] || make_rootfs "$r" "$arch"
  local tarf=$work/layer-$arch.tar
  [[ -f $tarf ]] || make_tar "$r" "$tarf"
  local diffid layer lmt
  diffid=$(sha "$tarf")
  case $comp in
  gzip) gzip -n -6 -c "$tarf" >"$work/l"; lmt=application/vnd.oci.image.layer.v1.tar+gzip ;;
  zstd) zstd -q -19 -c "$tarf" >"$work/l"; lmt=application/vnd.oci.image.layer.v1.tar+zstd ;;
  plain) cp "$tarf" "$work/l"; lmt=application/vnd.oci.image.layer.v1.tar ;;
  esac
  layer=$(put "$work/l")
  local v=""
  [[ -n $variant ]] && v=",\"variant\":\"$variant\""
  printf '{"created":"1970-01-01T00:00:00Z","architecture":"%s"%s,"os":"linux","config":{"Env":["PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"],"Cmd":["sh"],"WorkingDir":"/"},"rootfs":{"type":"layers","diff_ids":["sha256:%s"]},"history":[{"created":"1970-01-01T00:00:00Z","created_by":"tests/images/build.sh"}]}' \
    "$arch" "$v" "$diffid" >"$work/c"
  local config
  config=$(put "$work/c")
  printf '{"schemaVersion":2,"mediaType":"application/vnd.oci.image.manifest.v1+json","config":%s,"layers":[%s]}' \
    "$(desc application/vnd.oci.image.config.v1+json "$config")" "$(desc "$lmt" "$layer")" >"$work/m"
  IMG_MANIFEST=$(put "$work/m")
  IMG_CONFIG=$config
  IMG_LAYER=$layer
  IMG_DIFFID=$diffid
}

refs=()
ref() { refs+=("$(desc "$1" "$2" ",\"annotations\":{\"org.opencontainers.image.ref.name\":\"$3\"}")"); }
plat() { printf ',"platform":{"architecture":"%s","os":"linux"%s}' "$1" "${2:+,\"variant\":\"$2\"}"; }

make_image amd64 "" gzip
amd64_manifest=$IMG_MANIFEST amd64_config=$IMG_CONFIG amd64_layer=$IMG_LAYER amd64_diffid=$IMG_DIFFID
make_image arm64 v8 gzip
arm64_manifest=$IMG_MANIFEST arm64_config=$IMG_CONFIG arm64_layer=$IMG_LAYER
make_image amd64 "" zstd
zstd_manifest=$IMG_MANIFEST zstd_layer=$IMG_LAYER
make_image amd64 "" plain
plain_manifest=$IMG_MANIFEST plain_layer=$IMG_LAYER

# "multi": the amd64 busybox layer and six small gzip layers on top: layer k
# (1..5) adds /etc/layer<k> (text "k"); layer 6 deletes /etc/layer1 with a
# whiteout and makes /opt an opaque directory holding only /opt/kept.
multi_layers=("$(desc application/vnd.oci.image.layer.v1.tar+gzip "$amd64_layer")")
multi_diffids=("\"sha256:$amd64_diffid\"")
for k in 1 2 3 4 5 6; do
  r=$work/multi-$k
  mkdir -p "$r/etc"
  if ((k < 6)); then
    echo "$k" >"$r/etc/layer$k"
  else
    : >"$r/etc/.wh.layer1"
    mkdir -p "$r/opt"
    : >"$r/opt/.wh..wh..opq"
    echo kept >"$r/opt/kept"
  fi
  tar --sort=name --mtime=@0 --owner=0 --group=0 --numeric-owner --format=gnu -C "$r" -cf "$work/multi.tar" .
  multi_diffids+=("\"sha256:$(sha "$work/multi.tar")\"")
  gzip -n -c "$work/multi.tar" >"$work/l"
  multi_layers+=("$(desc application/vnd.oci.image.layer.v1.tar+gzip "$(put "$work/l")")")
done
(
  IFS=,
  printf '{"created":"1970-01-01T00:00:00Z","architecture":"amd64","os":"linux","config":{"Env":["PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"],"Cmd":["sh"]},"rootfs":{"type":"layers","diff_ids":[%s]}}' \
    "${multi_diffids[*]}" >"$work/c"
)
multi_config=$(put "$work/c")
(
  IFS=,
  printf '{"schemaVersion":2,"mediaType":"application/vnd.oci.image.manifest.v1+json","config":%s,"layers":[%s]}' \
    "$(desc application/vnd.oci.image.config.v1+json "$multi_config")" "${multi_layers[*]}" >"$work/m"
)
multi_manifest=$(put "$work/m")

printf '{"schemaVersion":2,"mediaType":"application/vnd.oci.image.index.v1+json","manifests":[%s,%s]}' \
  "$(desc application/vnd.oci.image.manifest.v1+json "$amd64_manifest" "$(plat amd64)")" \
  "$(desc application/vnd.oci.image.manifest.v1+json "$arm64_manifest" "$(plat arm64 v8)")" >"$work/i"
index=$(put "$work/i")

ref application/vnd.oci.image.index.v1+json "$index" latest
ref application/vnd.oci.image.manifest.v1+json "$amd64_manifest" amd64
ref application/vnd.oci.image.manifest.v1+json "$arm64_manifest" arm64
ref application/vnd.oci.image.manifest.v1+json "$zstd_manifest" zstd
ref application/vnd.oci.image.manifest.v1+json "$plain_manifest" plain
ref application/vnd.oci.image.manifest.v1+json "$multi_manifest" multi
(
  IFS=,
  printf '{"schemaVersion":2,"mediaType":"application/vnd.oci.image.index.v1+json","manifests":[%s]}\n' "${refs[*]}"
) >"$layout/index.json"

# Docker schema2 manifests of the same blobs (configs and layers are the same
# bytes; only the media types differ).
docker=$work/busybox-docker
mkdir -p "$docker"
dman() { # CONFIG LAYER -> json
  printf '{"schemaVersion":2,"mediaType":"application/vnd.docker.distribution.manifest.v2+json","config":%s,"layers":[%s]}' \
    "$(desc application/vnd.docker.container.image.v1+json "$1")" \
    "$(desc application/vnd.docker.image.rootfs.diff.tar.gzip "$2")"
}
dman "$amd64_config" "$amd64_layer" >"$docker/manifest-amd64.json"
dman "$arm64_config" "$arm64_layer" >"$docker/manifest-arm64.json"
ddesc() { printf '{"mediaType":"application/vnd.docker.distribution.manifest.v2+json","digest":"sha256:%s","size":%s%s}' "$(sha "$1")" "$(size "$1")" "$2"; }
printf '{"schemaVersion":2,"mediaType":"application/vnd.docker.distribution.manifest.list.v2+json","manifests":[%s,%s]}' \
  "$(ddesc "$docker/manifest-amd64.json" "$(plat amd64)")" \
  "$(ddesc "$docker/manifest-arm64.json" "$(plat arm64 v8)")" >"$docker/list.json"

cat >"$work/busybox.env" <<EOF
BUSYBOX_INDEX=sha256:$index
BUSYBOX_AMD64_MANIFEST=sha256:$amd64_manifest
BUSYBOX_AMD64_CONFIG=sha256:$amd64_config
BUSYBOX_AMD64_LAYER=sha256:$amd64_layer
BUSYBOX_AMD64_DIFFID=sha256:$amd64_diffid
BUSYBOX_ARM64_MANIFEST=sha256:$arm64_manifest
BUSYBOX_ARM64_CONFIG=sha256:$arm64_config
BUSYBOX_ZSTD_MANIFEST=sha256:$zstd_manifest
BUSYBOX_ZSTD_LAYER=sha256:$zstd_layer
BUSYBOX_PLAIN_MANIFEST=sha256:$plain_manifest
BUSYBOX_PLAIN_LAYER=sha256:$plain_layer
BUSYBOX_MULTI_MANIFEST=sha256:$multi_manifest
BUSYBOX_MULTI_CONFIG=sha256:$multi_config
BUSYBOX_DOCKER_LIST=sha256:$(sha "$docker/list.json")
BUSYBOX_DOCKER_AMD64_MANIFEST=sha256:$(sha "$docker/manifest-amd64.json")
BUSYBOX_DOCKER_ARM64_MANIFEST=sha256:$(sha "$docker/manifest-arm64.json")
EOF

tar --sort=name --mtime=@0 --owner=0 --group=0 --numeric-owner -C "$layout" -cf "$work/busybox.tar" .

# Swap the results into place (readers never see a half-built layout).
rm -rf "$out/busybox" "$out/busybox-docker"
mv "$layout" "$out/busybox"
mv "$docker" "$out/busybox-docker"
mv "$work/busybox.tar" "$out/busybox.tar"
mv "$work/busybox.env" "$out/busybox.env"
echo "$key" >"$out/busybox.key"
echo "test images: $out/busybox (tags latest amd64 arm64 zstd plain multi)"
