#!/usr/bin/env bash
# Installs everything stack needs on a Debian 12 machine and builds it:
#   Debian packages, the project (build/), the guest kernel (cached outside the
#   tree), and the offline test images.  Idempotent, and quiet when nothing is
#   missing.  Run as root (it uses apt-get).
set -euo pipefail
here=$(cd "$(dirname "$0")/.." && pwd)

# What stack needs to build and run (design.md, "Dependencies"): the
# compiler and libraries, QEMU, the guest kernel's source and build tools,
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
export DEBIAN_FRONTEND=noninteractive
if ((${#missing[@]})); then
  echo "setup: installing ${missing[*]}"
  apt-get update -qq
  apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi

# QEMU 10 from Debian 12's official backports (the same mirror as the
# system's sources, suite bookworm-backports; it runs on Debian 12's
# libraries): with QEMU 8.2 or later VM templates share their RAM with
# their clones (docs/how-it-works.md, "Templates").  Debian 12's own QEMU
# 7.2 still works (stack probes the version); STACK_QEMU_BACKPORTS=0 keeps it.
backports=/etc/apt/sources.list.d/stack-bookworm-backports.sources
qemu_version=$(dpkg-query -W -f='${Version}' qemu-system-x86 2>/dev/null || true)
if [[ ${STACK_QEMU_BACKPORTS:-1} == 1 && $(. /etc/os-release && echo "${VERSION_CODENAME:-}") == bookworm ]] &&
  ! dpkg --compare-versions "${qemu_version:-0}" ge 1:8.2; then
  if ! grep -rqs '^[^#]*bookworm-backports' /etc/apt/sources.list /etc/apt/sources.list.d/; then
    # the first Debian mirror the system uses (deb822 or one-line format)
    mirror=$(sed -n 's/^URIs:[[:space:]]*\([^[:space:]]*\/debian\/\?\)[[:space:]]*$/\1/p' \
      /etc/apt/sources.list.d/*.sources 2>/dev/null | head -1)
    [[ -n $mirror ]] || mirror=$(sed -n 's/^deb[[:space:]]\+\(\[[^]]*\][[:space:]]\+\)\?\([^[:space:]]*\/debian\/\?\)[[:space:]]\+bookworm[[:space:]].*/\2/p' \
      /etc/apt/sources.list /etc/apt/sources.list.d/*.list 2>/dev/null | head -1)
    mirror=${mirror:-http://deb.debian.org/debian}
    echo "setup: adding bookworm-backports from $mirror"
    printf 'Types: deb\nURIs: %s\nSuites: bookworm-backports\nComponents: main\nSigned-By: /usr/share/keyrings/debian-archive-keyring.gpg\n' \
      "$mirror" >"$backports"
  fi
  echo "setup: installing qemu-system-x86 from bookworm-backports"
  apt-get update -qq
  apt-get install -y -qq --no-install-recommends -t bookworm-backports qemu-system-x86 >/dev/null
elif ! dpkg-query -W -f='${Status}' qemu-system-x86 2>/dev/null | grep -q 'install ok installed'; then
  echo "setup: installing qemu-system-x86"
  apt-get update -qq
  apt-get install -y -qq --no-install-recommends qemu-system-x86 >/dev/null
fi

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
