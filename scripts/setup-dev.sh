#!/usr/bin/env bash
# Installs what the tests and the benchmarks drive, on top of scripts/setup.sh:
# the sanitizer runtime, a real registry and image tools, DNS and network
# probes, and (with --bench) the peers the benchmarks compare with.  Never
# starts a daemon: the benches start their own Docker daemon privately.
# Idempotent and quiet when nothing is missing.  Run as root.
set -euo pipefail

packages=(
  clang libclang-rt-14-dev
  docker-registry skopeo umoci debootstrap apache2-utils openssl
  dnsmasq-base dnsutils netcat-openbsd python3 bsdutils e2fsprogs
)
if [[ ${1:-} == --bench ]]; then
  packages+=(hyperfine docker.io docker-compose)
fi

missing=()
for p in "${packages[@]}"; do
  if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed'; then
    missing+=("$p")
  fi
done
((${#missing[@]})) || exit 0

echo "setup-dev: installing ${missing[*]}"
export DEBIAN_FRONTEND=noninteractive
# Installing docker.io must not start a Docker daemon or rewrite the firewall:
# no service starts while the packages are configured.
policy=/usr/sbin/policy-rc.d
made_policy=0
if [[ ! -e $policy ]]; then
  printf '#!/bin/sh\nexit 101\n' >"$policy"
  chmod 755 "$policy"
  made_policy=1
fi
trap '((made_policy)) && rm -f "$policy"' EXIT
apt-get update -qq
apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
