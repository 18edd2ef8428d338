#!/usr/bin/env bash
# Installs QEMU for stack (called by scripts/setup.sh; run as root).
#
# On Debian 12 it takes qemu-system-x86 from Debian's official backports
# (suite bookworm-backports, from the same mirror as the system's bookworm
# sources; the package runs on Debian 12's libraries): with QEMU 8.2 or
# later a VM template's RAM is one file its clones map copy-on-write
# (docs/how-it-works.md, "Templates").  Whether that works is found out
# here, at run time: when the mirror has no backports suite, or no QEMU
# 8.2 or later in it, or the install fails, Debian 12's own QEMU 7.2 is
# installed instead (stack probes the version and copies template RAM
# then).  STACK_QEMU_BACKPORTS=0 keeps 7.2 without asking.  A backports
# source this script added and could not use is removed again.
# Idempotent; quiet when QEMU is already what it should be.
set -euo pipefail
export DEBIAN_FRONTEND=noninteractive

want=1:8.2 # the first QEMU whose template RAM clones can share
backports=/etc/apt/sources.list.d/stack-bookworm-backports.sources

installed_version() {
  if dpkg-query -W -f='${Status}' qemu-system-x86 2>/dev/null | grep -q 'install ok installed'; then
    dpkg-query -W -f='${Version}' qemu-system-x86
  fi
}

# The candidate version of qemu-system-x86 in bookworm-backports, if any.
backports_candidate() {
  apt-cache madison qemu-system-x86 2>/dev/null |
    awk -F'|' '$3 ~ / bookworm-backports\// { gsub(/ /, "", $2); print $2; exit }'
}

# The URI of the system's bookworm source (any format, as apt reads it),
# where bookworm-backports lives too.
bookworm_mirror() {
  apt-get indextargets --format '$(RELEASE) $(REPO_URI)' 'Created-By: Packages' 2>/dev/null |
    awk '$1 == "bookworm" { print $2; exit }'
}

# Installs Debian 12's own QEMU unless some QEMU is installed.
install_stable() {
  [[ -n $(installed_version) ]] && return 0
  echo "setup: installing qemu-system-x86 from Debian 12 (QEMU 7.2: VM templates copy their RAM)"
  apt-get update -qq
  apt-get install -y -qq --no-install-recommends qemu-system-x86 >/dev/null
}

have=$(installed_version)
if [[ -n $have ]] && dpkg --compare-versions "$have" ge "$want"; then
  exit 0
fi
codename=$(. /etc/os-release && echo "${VERSION_CODENAME:-}")
if [[ ${STACK_QEMU_BACKPORTS:-1} == 0 || $codename != bookworm ]]; then
  install_stable
  exit 0
fi

added=0
if ! grep -rqsE '^[^#]*bookworm-backports' /etc/apt/sources.list /etc/apt/sources.list.d/; then
  mirror=$(bookworm_mirror)
  if [[ -z $mirror ]]; then
    echo "setup: no bookworm source in apt's configuration: keeping Debian 12's QEMU" >&2
    install_stable
    exit 0
  fi
  echo "setup: adding bookworm-backports from $mirror ($backports)"
  printf 'Types: deb\nURIs: %s\nSuites: bookworm-backports\nComponents: main\nSigned-By: /usr/share/keyrings/debian-archive-keyring.gpg\n' \
    "$mirror" >"$backports"
  added=1
fi

drop_backports() {
  if ((added)); then
    echo "setup: removing $backports again"
    rm -f "$backports"
    apt-get update -qq || true
  fi
}

# an error of another source must not hide what backports offers: the
# candidate decides
apt-get update -qq || echo "setup: apt-get update reported errors (above)" >&2
candidate=$(backports_candidate)
if [[ -z $candidate ]] || ! dpkg --compare-versions "$candidate" ge "$want"; then
  echo "setup: bookworm-backports has no QEMU 8.2 or later (${candidate:-none found}): using Debian 12's" >&2
  drop_backports
  install_stable
  exit 0
fi
echo "setup: installing qemu-system-x86 $candidate from bookworm-backports"
if ! apt-get install -y -qq --no-install-recommends -t bookworm-backports qemu-system-x86 >/dev/null; then
  echo "setup: installing QEMU $candidate from bookworm-backports failed: using Debian 12's" >&2
  drop_backports
  install_stable
fi
