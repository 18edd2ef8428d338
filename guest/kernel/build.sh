#!/usr/bin/env bash
# Builds the guest kernel (vmlinux, PVH direct boot) from Debian's
# linux-source-6.1, `make tinyconfig` plus stack.config, with patches/*.patch
# applied, and caches it at
#   $STACK_CACHE_DIR/kernel/<sha256 of config and patches>/vmlinux
# with $STACK_CACHE_DIR/kernel/current pointing at the newest build.
# A cache hit skips everything.  The build happens on tmpfs (/dev/shm) because
# the source tree is ~1 GB of small files and / is mounted with `discard`.
#
# Usage: build.sh [--print-path | --check-config]
#   --print-path    print the vmlinux path on stdout
#   --check-config  stop after checking the configuration (no build, no cache)
# Environment: STACK_CACHE_DIR, STACK_KERNEL_CONFIG (the fragment, default
#   stack.config here), STACK_KERNEL_SOURCE (default
#   /usr/src/linux-source-6.1.tar.xz), STACK_KERNEL_JOBS (default nproc),
#   STACK_KERNEL_SCRATCH (default /dev/shm).
set -euo pipefail

here=$(cd "$(dirname "$0")" && pwd)
fragment=${STACK_KERNEL_CONFIG:-$here/stack.config}
source_tar=${STACK_KERNEL_SOURCE:-/usr/src/linux-source-6.1.tar.xz}
jobs=${STACK_KERNEL_JOBS:-$(nproc)}
print_path=0 check_only=0
case ${1:-} in
  --print-path) print_path=1 ;;
  --check-config) check_only=1 ;;
  "") ;;
  *) echo "usage: $0 [--print-path | --check-config]" >&2; exit 2 ;;
esac

log() { echo "kernel: $*" >&2; }
die() { echo "kernel: error: $*" >&2; exit 1; }

# Same rule as runtime/util/paths.c stack_cache_dir().
if [[ -n ${STACK_CACHE_DIR:-} ]]; then
  cache=$STACK_CACHE_DIR
elif [[ $(id -u) == 0 ]]; then
  cache=/var/cache/stack
else
  cache=${XDG_CACHE_HOME:-${HOME:-/tmp}/.cache}/stack
fi
cache=$cache/kernel

# The key covers everything that changes the output: the fragment, the patches
# (in order, with their names) and the source tarball's identity.
shopt -s nullglob
patches=("$here"/patches/*.patch)
shopt -u nullglob
[[ -r $source_tar ]] || die "$source_tar not found: install the linux-source-6.1 package (scripts/setup.sh does)"
key=$( {
  sha256sum "$fragment" | cut -d' ' -f1
  for p in "${patches[@]}"; do echo "$(basename "$p") $(sha256sum "$p" | cut -d' ' -f1)"; done
  stat -c '%s' "$source_tar"; basename "$source_tar"
} | sha256sum | cut -d' ' -f1)
out_dir=$cache/$key

finish() {
  ln -sfn "$key" "$cache/.current.$$" && mv -Tf "$cache/.current.$$" "$cache/current"
  ((print_path)) && echo "$out_dir/vmlinux"
  exit 0
}

((check_only)) || [[ ! -s $out_dir/vmlinux ]] || finish

mkdir -p "$cache"
# One build at a time per cache: a second caller waits, then finds the hit.
exec 9>"$cache/.lock"
flock 9
((check_only)) || [[ ! -s $out_dir/vmlinux ]] || finish

# The unpacked tree plus objects need about 2 GB.
has_room() { [[ -d $1 && -w $1 ]] && (($(df -Pk "$1" | awk 'NR==2 {print $4}') > 2500000)); }
scratch_root=${STACK_KERNEL_SCRATCH:-/dev/shm}
has_room "$scratch_root" || scratch_root=${TMPDIR:-/tmp}
has_room "$scratch_root" || die "no directory with 2.5 GB free for the build (set STACK_KERNEL_SCRATCH)"
scratch=$(mktemp -d "$scratch_root/stack-kernel.XXXXXX")
trap 'rm -rf "$scratch"' EXIT

log "building guest kernel $key (5-10 minutes on 2 cores)"
start=$(date +%s)
tar -xJf "$source_tar" -C "$scratch"
src=$(find "$scratch" -mindepth 1 -maxdepth 1 -type d | head -n1)
[[ -f $src/Makefile ]] || die "$source_tar does not hold a kernel tree"

for p in "${patches[@]}"; do
  patch -d "$src" -p1 --quiet --forward <"$p" || die "patch $(basename "$p") does not apply"
done

mk() { make -C "$src" -s ARCH=x86_64 "$@"; }
mk tinyconfig >/dev/null
KCONFIG_CONFIG=$src/.config "$src/scripts/kconfig/merge_config.sh" -m -O "$src" \
  "$src/.config" "$fragment" >/dev/null
mk olddefconfig >/dev/null

# Kconfig silently drops options whose dependencies are missing: check that
# every line of the fragment made it into the final configuration.
bad=()
while IFS= read -r line; do
  if [[ $line =~ ^(CONFIG_[A-Za-z0-9_]+)=(.*)$ ]]; then
    grep -qxF "$line" "$src/.config" || bad+=("$line (got: $(grep -E "^(# )?${BASH_REMATCH[1]}[= ]" "$src/.config" || echo unset))")
  elif [[ $line =~ ^#\ (CONFIG_[A-Za-z0-9_]+)\ is\ not\ set$ ]]; then
    if grep -qE "^${BASH_REMATCH[1]}=" "$src/.config"; then
      bad+=("$line (got: $(grep -E "^${BASH_REMATCH[1]}=" "$src/.config"))")
    fi
  fi
done <"$fragment"
if ((${#bad[@]})); then
  printf 'kernel: error: option not in final .config: %s\n' "${bad[@]}" >&2
  exit 1
fi
if ((check_only)); then
  log "configuration checked: every option of $(basename "$fragment") is set"
  exit 0
fi

mk -j"$jobs" vmlinux
tmp_out=$cache/.$key.$$
mkdir -p "$tmp_out"
cp "$src/vmlinux" "$tmp_out/vmlinux"
strip --strip-debug "$tmp_out/vmlinux" 2>/dev/null || true
cp "$src/.config" "$tmp_out/config"
rm -rf "$out_dir"
mv -T "$tmp_out" "$out_dir"
log "built in $(($(date +%s) - start)) s: $out_dir/vmlinux"
finish
