#!/usr/bin/env bash
# stack pull against a real registry (Debian's docker-registry on 127.0.0.1):
# by tag and by digest, OCI index and Docker manifest list with platform
# choice, gzip / zstd / uncompressed layers, a cached second pull that
# downloads no blob, and clear errors for bad references and platforms.
set -euo pipefail
. "$STACK_SOURCE_DIR/tests/lib/registry.sh"
STACK=${STACK_BIN:?}
registry_test_init pull-test

registry_start plain "$tmp/registry"
registry_push_busybox
R=$REGISTRY

host_arch=$(uname -m)
digest_of() { sed -n 's/^Digest: //p' <<<"$1"; }
record() { cat "$STACK_ROOT"/images/*.json | tr '}' '\n' | grep -F "\"ref\":\"$1\""; }

# By tag: the index resolves to the host's platform.
out=$(timeout 60 "$STACK" pull "$R/busybox:latest" 2>"$tmp/err") || { cat "$tmp/err"; fail "pull latest"; }
if [[ $host_arch == x86_64 ]]; then
  [[ $(digest_of "$out") == "$BUSYBOX_AMD64_MANIFEST" ]] || fail "latest resolved to $(digest_of "$out")"
fi
for d in $BUSYBOX_AMD64_MANIFEST $BUSYBOX_AMD64_CONFIG $BUSYBOX_AMD64_LAYER $BUSYBOX_INDEX; do
  [[ -f $STACK_ROOT/blobs/sha256/${d#sha256:} ]] || fail "blob $d missing after pull"
done
grep -q "Pull complete" "$tmp/err" || fail "no progress lines: $(cat "$tmp/err")"

# Platform choice in an OCI index.
out=$(timeout 60 "$STACK" pull -q --platform linux/arm64 "$R/busybox:latest")
record "$R/busybox:latest" | grep -q "\"manifest\":\"$BUSYBOX_ARM64_MANIFEST\"" || fail "arm64 not recorded"
record "$R/busybox:latest" | grep -q '"platform":"linux/arm64/v8"' || fail "arm64 platform not recorded"
[[ -f $STACK_ROOT/blobs/sha256/${BUSYBOX_ARM64_CONFIG#sha256:} ]] || fail "arm64 config missing"

# Platform choice in a Docker manifest list.
out=$("$STACK" pull --platform linux/arm64/v8 "$R/busybox:docker" 2>/dev/null)
[[ $(digest_of "$out") == "$BUSYBOX_DOCKER_ARM64_MANIFEST" ]] || fail "docker list arm64: $out"
out=$("$STACK" pull --platform linux/amd64 "$R/busybox:docker" 2>/dev/null)
[[ $(digest_of "$out") == "$BUSYBOX_DOCKER_AMD64_MANIFEST" ]] || fail "docker list amd64: $out"

# By digest: of the index, and of a platform manifest.
out=$("$STACK" pull --platform linux/amd64 "$R/busybox@$BUSYBOX_INDEX" 2>/dev/null)
[[ $(digest_of "$out") == "$BUSYBOX_AMD64_MANIFEST" ]] || fail "by index digest: $out"
record "$R/busybox@$BUSYBOX_INDEX" >/dev/null || fail "digest reference not recorded"
out=$("$STACK" pull "$R/busybox@$BUSYBOX_ARM64_MANIFEST" 2>/dev/null)
[[ $(digest_of "$out") == "$BUSYBOX_ARM64_MANIFEST" ]] || fail "by manifest digest: $out"

# Compression variants (and the `image pull` spelling).
"$STACK" image pull -q "$R/busybox:zstd" >/dev/null 2>&1 || fail "zstd pull"
[[ -f $STACK_ROOT/blobs/sha256/${BUSYBOX_ZSTD_LAYER#sha256:} ]] || fail "zstd layer missing"
"$STACK" pull -q "$R/busybox:plain" >/dev/null 2>&1 || fail "plain pull"
[[ -f $STACK_ROOT/blobs/sha256/${BUSYBOX_PLAIN_LAYER#sha256:} ]] || fail "plain layer missing"

# Seven layers: more than run at once; all arrive.
export STACK_ROOT=$tmp/root-multi
"$STACK" pull -q "$R/busybox:multi" >/dev/null 2>"$tmp/err" || fail "multi-layer pull: $(cat "$tmp/err")"
layers=$(python3 -c 'import json,sys; print(" ".join(l["digest"][7:] for l in json.load(open(sys.argv[1]))["layers"]))' \
  "$STACK_ROOT/blobs/sha256/${BUSYBOX_MULTI_MANIFEST#sha256:}")
[[ $(wc -w <<<"$layers") == 7 ]] || fail "multi manifest has $(wc -w <<<"$layers") layers"
for l in $layers; do [[ -f $STACK_ROOT/blobs/sha256/$l ]] || fail "multi layer $l missing"; done
export STACK_ROOT=$tmp/root

# A cached image: a second pull downloads no blob (watched through the
# pass-through proxy, which logs blob requests).
registry_start_bad
export STACK_ROOT=$tmp/root2
"$STACK" pull -q --platform linux/amd64 "$BAD_REGISTRY/good:latest" >/dev/null 2>&1 || fail "pull via proxy"
first=$(wc -l <"$BAD_REGISTRY_LOG")
((first >= 2)) || fail "first pull fetched only $first blobs"
"$STACK" pull --platform linux/amd64 "$BAD_REGISTRY/good:latest" >/dev/null 2>"$tmp/err" || fail "second pull"
[[ $(wc -l <"$BAD_REGISTRY_LOG") == "$first" ]] || fail "second pull downloaded blobs: $(cat "$BAD_REGISTRY_LOG")"
grep -q "Already exists" "$tmp/err" || fail "cached layer not reported: $(cat "$tmp/err")"

export STACK_ROOT=$tmp/root

# Errors name the problem.
expect_error() { # MESSAGE-FRAGMENT ARGS...
  local frag=$1
  shift
  if "$STACK" pull -q "$@" >/dev/null 2>"$tmp/err"; then fail "pull $* succeeded"; fi
  grep -qF -- "$frag" "$tmp/err" || fail "pull $*: expected \"$frag\" in: $(cat "$tmp/err")"
}
expect_error "no image for platform linux/s390x" --platform linux/s390x "$R/busybox:latest"
expect_error "invalid platform" --platform linux "$R/busybox:latest"
expect_error "not found" "$R/busybox:nosuchtag"
expect_error "not found" "$R/nosuchrepo:latest"
expect_error "repository names must be lowercase" "$R/BusyBox"
expect_error "is for linux/arm64/v8, not for the requested platform linux/amd64" --platform linux/amd64 "$R/busybox:arm64"
port=$(_registry_free_port)
expect_error "cannot talk to registry 127.0.0.1:$port" "127.0.0.1:$port/busybox"
# Compose form: `stack pull` pulls each service's image once, skips
# pull_policy never, and `stack pull SERVICE` only that one.
mkdir -p "$tmp/proj"
cat >"$tmp/proj/compose.yaml" <<YAML
services:
  a:
    image: $R/busybox:plain
  b:
    image: $R/busybox:plain
  c:
    image: $R/busybox:arm64
    platform: linux/arm64
  d:
    image: $R/nosuchrepo:never
    pull_policy: never
YAML
export STACK_ROOT=$tmp/root3
(cd "$tmp/proj" && "$STACK" pull -q) >"$tmp/out" 2>"$tmp/err" || fail "compose pull: $(cat "$tmp/err")"
[[ $(sort "$tmp/out") == "$(printf '%s\n' "$R/busybox:arm64" "$R/busybox:plain")" ]] || fail "compose pull printed: $(cat "$tmp/out")"
export STACK_ROOT=$tmp/root4
(cd "$tmp/proj" && "$STACK" pull -q c) >"$tmp/out" 2>"$tmp/err" || fail "compose pull c: $(cat "$tmp/err")"
[[ $(cat "$tmp/out") == "$R/busybox:arm64" ]] || fail "compose pull c printed: $(cat "$tmp/out")"
(cd "$tmp/proj" && "$STACK" pull nosuch) >/dev/null 2>"$tmp/err" && fail "pull of an unknown service succeeded"
grep -q "no such service: nosuch" "$tmp/err" || fail "unknown service: $(cat "$tmp/err")"

# Two processes pulling into one store at once both succeed.
export STACK_ROOT=$tmp/root5
"$STACK" pull -q "$R/busybox:plain" >/dev/null 2>"$tmp/err1" & p1=$!
"$STACK" pull -q "$R/busybox:plain" >/dev/null 2>"$tmp/err2" & p2=$!
wait $p1 || fail "concurrent pull 1: $(cat "$tmp/err1")"
wait $p2 || fail "concurrent pull 2: $(cat "$tmp/err2")"
[[ -f $STACK_ROOT/blobs/sha256/${BUSYBOX_PLAIN_LAYER#sha256:} ]] || fail "concurrent pulls lost the layer"

# A digest reference whose content is all in the store needs no registry.
export STACK_ROOT=$tmp/root
registry_stop
"$STACK" pull -q "$R/busybox@$BUSYBOX_ARM64_MANIFEST" >/dev/null 2>"$tmp/err" || fail "offline digest pull: $(cat "$tmp/err")"
expect_error "cannot talk to registry $R" "$R/busybox:latest"
echo "ok"
