#!/usr/bin/env bash
# A registry that misbehaves (tests/lib/bad_registry.py in front of a real
# one): a wrong digest, a truncated or oversized blob, a 2 GiB manifest, a
# redirect loop each give a clear error and leave the store unchanged; a
# connection cut mid-blob is resumed with a Range request.
set -euo pipefail
. "$STACK_SOURCE_DIR/tests/lib/registry.sh"
STACK=${STACK_BIN:?}
registry_test_init pull-bad

registry_start plain "$tmp/registry"
registry_push_busybox
registry_start_bad
B=$BAD_REGISTRY

# The config blob is fetched before the layer: start each case with it in
# the store so that "unchanged" is about the bad content.
"$STACK" pull -q "$B/good:amd64" >/dev/null 2>&1 || fail "pull good"
rm -f "$STACK_ROOT/blobs/sha256/${BUSYBOX_AMD64_LAYER#sha256:}" "$STACK_ROOT"/images/*.json

snapshot() { (cd "$STACK_ROOT" && find blobs/sha256 images -type f 2>/dev/null | sort); }
expect_error() { # FRAGMENT REF
  local before after
  before=$(snapshot)
  if timeout 60 "$STACK" pull -q "$2" >/dev/null 2>"$tmp/err"; then fail "pull $2 succeeded"; fi
  grep -qF -- "$1" "$tmp/err" || fail "pull $2: expected \"$1\" in: $(cat "$tmp/err")"
  after=$(snapshot)
  [[ $before == "$after" ]] || fail "pull $2 changed the store: $(diff <(echo "$before") <(echo "$after"))"
}
expect_error "does not match its digest" "$B/wrongdigest:amd64"
expect_error "truncated" "$B/truncated:amd64"
expect_error "larger than its declared size" "$B/oversize:amd64"
expect_error "does not match its digest" "$B/wrongmanifest@$BUSYBOX_ZSTD_MANIFEST"
start=$(date +%s)
expect_error "larger than 4194304 bytes" "$B/hugemanifest:amd64"
(($(date +%s) - start < 20)) || fail "the huge manifest was not refused early"
expect_error "too many redirects" "$B/redirectloop:amd64"

# A connection cut in the middle of the layer: the pull resumes with Range
# and succeeds, and the layer is fetched only once in total.
out=$(timeout 60 "$STACK" pull "$B/cut:amd64" 2>"$tmp/err") || fail "cut: $(cat "$tmp/err")"
grep -q "Digest: $BUSYBOX_AMD64_MANIFEST" <<<"$out" || fail "cut: $out"
grep -q "^cut $BUSYBOX_AMD64_LAYER -$" "$BAD_REGISTRY_LOG" || fail "no first attempt: $(cat "$BAD_REGISTRY_LOG")"
grep -q "^cut $BUSYBOX_AMD64_LAYER bytes=[1-9][0-9]*-$" "$BAD_REGISTRY_LOG" ||
  fail "no Range request after the cut: $(cat "$BAD_REGISTRY_LOG")"
[[ -f $STACK_ROOT/blobs/sha256/${BUSYBOX_AMD64_LAYER#sha256:} ]] || fail "layer not stored after resume"
[[ -z $(ls -A "$STACK_ROOT/blobs/tmp" 2>/dev/null | grep -v '^put\.' || true) ]] ||
  fail "partial files left: $(ls "$STACK_ROOT/blobs/tmp")"
# A pull killed mid-layer leaves its partial file; the next pull (from
# another repository of the same content) resumes it with Range.
export STACK_ROOT=$tmp/root-kill
partial=$STACK_ROOT/blobs/tmp/${BUSYBOX_ZSTD_LAYER#sha256:}.partial
"$STACK" pull -q "$B/slow:zstd" >/dev/null 2>&1 &
pid=$!
for ((i = 0; i < 200; i++)); do
  [[ -s $partial ]] && break
  sleep 0.05
done
[[ -s $partial ]] || fail "no partial download appeared"
kill -9 "$pid"
wait "$pid" 2>/dev/null || true
have=$(stat -c %s "$partial")
: >"$BAD_REGISTRY_LOG"
timeout 60 "$STACK" pull -q "$B/good:zstd" >/dev/null 2>"$tmp/err" || fail "resume pull: $(cat "$tmp/err")"
grep -q "^good $BUSYBOX_ZSTD_LAYER bytes=$have-$" "$BAD_REGISTRY_LOG" ||
  fail "the layer was not resumed from byte $have: $(cat "$BAD_REGISTRY_LOG")"
[[ -f $STACK_ROOT/blobs/sha256/${BUSYBOX_ZSTD_LAYER#sha256:} && ! -e $partial ]] || fail "resumed layer not committed"
echo "ok"
