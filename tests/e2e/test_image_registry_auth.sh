#!/usr/bin/env bash
# Registry auth and TLS: Basic (credentials from `stack login` and from
# ~/.docker/config.json), Bearer tokens from a token server (reused, not
# fetched per request), TLS with a private CA in certs.d; login/logout; push
# (POST + PUT upload, then a cross-repository mount) and pull back.
set -euo pipefail
. "$STACK_SOURCE_DIR/tests/lib/registry.sh"
STACK=${STACK_BIN:?}
registry_test_init auth-test
fresh_store() { export STACK_ROOT=$tmp/root-$1; }
expect_error() { # FRAGMENT ARGS...
  local frag=$1
  shift
  if timeout 60 "$STACK" "$@" >/dev/null 2>"$tmp/err"; then fail "stack $* succeeded"; fi
  grep -qF -- "$frag" "$tmp/err" || fail "stack $*: expected \"$frag\" in: $(cat "$tmp/err")"
}

# --- Basic auth
registry_start basic "$tmp/basic"
registry_push_busybox
BASIC=$REGISTRY BASIC_USER=$REGISTRY_USER BASIC_PASS=$REGISTRY_PASS
fresh_store basic1
expect_error "run \`stack login $BASIC\` first" pull "$BASIC/busybox:amd64"
expect_error "rejected the credentials" login -u "$BASIC_USER" -p wrong "$BASIC"
[[ ! -e $tmp/config/auth.json ]] || fail "a failed login saved credentials"
echo "$BASIC_PASS" | "$STACK" login -u "$BASIC_USER" --password-stdin "$BASIC" >/dev/null || fail "login"
[[ $(stat -c %a "$tmp/config/auth.json") == 600 ]] || fail "auth.json is not mode 0600"
"$STACK" pull -q "$BASIC/busybox:amd64" >/dev/null 2>&1 || fail "pull after login"
"$STACK" logout "$BASIC" >/dev/null || fail "logout"
expect_error "not logged in" logout "$BASIC"
fresh_store basic2
expect_error "stack login" pull "$BASIC/busybox:amd64"
# Docker's config.json works too.
mkdir -p "$HOME/.docker"
printf '{"auths":{"%s":{"auth":"%s"}}}\n' "$BASIC" "$(printf '%s:%s' "$BASIC_USER" "$BASIC_PASS" | base64 -w0)" \
  >"$HOME/.docker/config.json"
"$STACK" pull -q "$BASIC/busybox:amd64" >/dev/null 2>&1 || fail "pull with ~/.docker/config.json"
rm -f "$HOME/.docker/config.json"

# --- Bearer tokens
registry_start token "$tmp/token"
registry_push_busybox
TOKEN=$REGISTRY
fresh_store token1
expect_error "requires authentication" pull "$TOKEN/busybox:latest"
echo "$REGISTRY_PASS" | "$STACK" login -u "$REGISTRY_USER" --password-stdin "$TOKEN" >/dev/null || fail "token login"
: >"$REGISTRY_TOKEN_LOG"
"$STACK" pull -q "$TOKEN/busybox:latest" >/dev/null 2>&1 || fail "pull with a token"
# One token for the whole pull (index, manifest, config, layer).
[[ $(wc -l <"$REGISTRY_TOKEN_LOG") == 1 ]] || fail "tokens fetched: $(cat "$REGISTRY_TOKEN_LOG")"
grep -q "scope=repository%3Abusybox%3Apull" "$REGISTRY_TOKEN_LOG" || fail "scope: $(cat "$REGISTRY_TOKEN_LOG")"

# --- Push: from the token registry's image to the Basic one (upload), then
# to another repository of the same registry (mount), and pull it back.
"$STACK" push "$TOKEN/busybox:latest" "$BASIC/pushed/busybox:v1" 2>"$tmp/err" >/dev/null &&
  fail "push without login succeeded"
echo "$BASIC_PASS" | "$STACK" login -u "$BASIC_USER" --password-stdin "$BASIC" >/dev/null
"$STACK" pull -q --platform linux/amd64 "$TOKEN/busybox:latest" >/dev/null 2>&1
"$STACK" push "$TOKEN/busybox:latest" "$BASIC/pushed/busybox:v1" 2>"$tmp/err" || fail "push: $(cat "$tmp/err")"
grep -q "Pushed" "$tmp/err" || fail "push did not upload: $(cat "$tmp/err")"
"$STACK" pull -q "$BASIC/pushed/busybox:v1" >/dev/null 2>&1
"$STACK" push "$BASIC/pushed/busybox:v1" "$BASIC/mounted:v2" 2>"$tmp/err" || fail "push 2: $(cat "$tmp/err")"
grep -q "Mounted from pushed/busybox" "$tmp/err" || fail "no cross-repository mount: $(cat "$tmp/err")"
fresh_store pushed
out=$("$STACK" pull "$BASIC/mounted:v2" 2>/dev/null) || fail "pull back"
grep -q "Digest: $BUSYBOX_AMD64_MANIFEST" <<<"$out" || fail "pulled back $out"
expect_error "push to a tag" push "$BASIC/mounted:v2" "$BASIC/x@$BUSYBOX_AMD64_MANIFEST"

# --- TLS with a private CA
registry_start tls "$tmp/tls"
registry_push_busybox
fresh_store tls
expect_error "certs.d/$REGISTRY/ca.crt" pull "$REGISTRY/busybox:amd64"
mkdir -p "$tmp/config/certs.d/$REGISTRY"
cp "$REGISTRY_CA" "$tmp/config/certs.d/$REGISTRY/ca.crt"
"$STACK" pull -q "$REGISTRY/busybox:amd64" >/dev/null 2>"$tmp/err" || fail "TLS pull: $(cat "$tmp/err")"
# An insecure-registries entry skips verification instead.
rm -rf "$tmp/config/certs.d"
fresh_store tls2
printf '{"insecure-registries":["%s"]}\n' "$REGISTRY" >"$STACK_CONFIG"
"$STACK" pull -q "$REGISTRY/busybox:amd64" >/dev/null 2>"$tmp/err" || fail "insecure pull: $(cat "$tmp/err")"
echo "ok"
