#!/usr/bin/env bash
# Installs everything stack needs on a Debian 12 machine and builds it:
#   Debian packages, the project (build/), the guest kernel (cached outside the
#   tree), and the offline test images.  Idempotent, and quiet when nothing is
#   missing.  Run as root (it uses apt-get).
set -euo pipefail
here=$(cd "$(dirname "$0")/.." && pwd)

# What stack needs to build and run (design.md, "Dependencies"): the
# compiler and libraries, the guest kernel's source and build tools,
# nftables for the project networks, busybox-static for the bundled example's
# offline image, curl for the README's first command.  Test tools and
# benchmark peers (a registry, skopeo, Docker, Compose, ...) are not installed
# here: scripts/setup-dev.sh does that for the test command and the benches.
packages=(
  build-essential cmake pkg-config
  libyaml-dev libcjson-dev libcurl4-openssl-dev libarchive-dev libext2fs-dev e2fsprogs
  libuv1-dev libssl-dev libzstd-dev zstd musl-tools
  linux-source-6.1 bc bison flex libelf-dev cpio xz-utils
  nftables libnftables-dev iproute2 busybox-static curl
)

missing=()
for p in "${packages[@]}"; do
  if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed'; then
    missing+=("$p")
  fi
done
if ((${#missing[@]})); then
  echo "setup: installing ${missing[*]}"
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq
  apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi

# QEMU: 10 from bookworm-backports where the mirror has it, else Debian
# 12's 7.2 (scripts/setup-qemu.sh says why and how it decides).
"$here/scripts/setup-qemu.sh"

build_dir=${STACK_BUILD_DIR:-$here/build}
cmake -S "$here" -B "$build_dir" -DCMAKE_BUILD_TYPE=RelWithDebInfo ${STACK_CMAKE_ARGS:-} >/dev/null
cmake --build "$build_dir" -j"$(nproc)" >/dev/null

# The guest kernel (cached by the hash of its config and patches).
if [[ -x $here/guest/kernel/build.sh ]]; then
  "$here/guest/kernel/build.sh"
fi

# Offline test images (busybox from busybox-static, ...), cached.
if [[ -x $here/tests/images/build.sh ]]; then
  "$here/tests/images/build.sh"
fi

# The examples use `image: busybox`; there is no internet, so put the offline
# busybox image into the default store (a no-op once it is there).
if ! "$build_dir/stack" image inspect busybox:latest >/dev/null 2>&1; then
  "$build_dir/stack" image load -q -i "$("$here/tests/images/build.sh" --print-dir)/busybox.tar" >/dev/null
fi
