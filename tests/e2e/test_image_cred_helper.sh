#!/usr/bin/env bash
# Docker's credential helpers against a real registry that requires Basic
# auth (htpasswd): with "credsStore" in $DOCKER_CONFIG/config.json, `stack
# login` stores through `docker-credential-<name> store` (not in stack's
# auth.json), pulls get the credentials from `get` with the registry host on
# stdin, `stack logout` erases them; "credHelpers" names a helper for one
# registry; a helper that is not installed is an error naming it, the file
# and the key, and what to do.  The helper is a small program written here
# into a directory first in PATH, keeping credentials in a JSON file.
set -euo pipefail
. "$STACK_SOURCE_DIR/tests/lib/registry.sh"
STACK=${STACK_BIN:?}
registry_test_init cred-helper
fresh_store() { export STACK_ROOT=$tmp/root-$1; }
expect_error() { # FRAGMENT ARGS...
  local frag=$1
  shift
  if timeout 120 "$STACK" "$@" >/dev/null 2>"$tmp/err"; then fail "stack $* succeeded"; fi
  grep -qF -- "$frag" "$tmp/err" || fail "stack $*: expected \"$frag\" in: $(cat "$tmp/err")"
}

registry_start basic "$tmp/basic"
registry_push_busybox

mkdir -p "$tmp/bin" "$tmp/docker"
export PATH=$tmp/bin:$PATH DOCKER_CONFIG=$tmp/docker
cat >"$tmp/bin/docker-credential-test" <<'PY'
#!/usr/bin/env python3
import json, os, sys
here = os.path.dirname(os.path.abspath(__file__))
store = os.path.join(here, "store.json")
db = json.load(open(store)) if os.path.exists(store) else {}
data = sys.stdin.read()
key = json.loads(data)["ServerURL"] if sys.argv[1] == "store" else data
with open(os.path.join(here, "calls.log"), "a") as log:
    log.write(f"{sys.argv[1]} {key}\n")
if sys.argv[1] == "get":
    if key not in db:
        print("credentials not found in native keychain")
        sys.exit(1)
    print(json.dumps({"ServerURL": key, "Username": db[key][0], "Secret": db[key][1]}))
elif sys.argv[1] == "store":
    c = json.loads(data)
    db[key] = [c["Username"], c["Secret"]]
    json.dump(db, open(store, "w"))
elif sys.argv[1] == "erase":
    if key not in db:
        print("credentials not found in native keychain")
        sys.exit(1)
    del db[key]
    json.dump(db, open(store, "w"))
PY
chmod +x "$tmp/bin/docker-credential-test"
calls=$tmp/bin/calls.log
store=$tmp/bin/store.json

# --- credsStore: login, pull, logout through the helper
printf '{"credsStore": "test"}\n' >"$DOCKER_CONFIG/config.json"
fresh_store s1
expect_error "run \`stack login $REGISTRY\` first" pull "$REGISTRY/busybox:amd64"
grep -qx "get $REGISTRY" "$calls" || fail "the helper was not asked: $(cat "$calls" 2>/dev/null)"
out=$(echo "$REGISTRY_PASS" | "$STACK" login -u "$REGISTRY_USER" --password-stdin "$REGISTRY") || fail "login: $out"
[[ $out == *"credentials saved by docker-credential-test"* ]] || fail "login said: $out"
[[ ! -e $tmp/config/auth.json ]] || fail "login saved the password in stack's auth.json too"
python3 -c 'import json,sys; db=json.load(open(sys.argv[1])); assert db[sys.argv[2]] == [sys.argv[3], sys.argv[4]], db' \
  "$store" "$REGISTRY" "$REGISTRY_USER" "$REGISTRY_PASS" || fail "the helper did not store the credentials"
: >"$calls"
"$STACK" pull -q "$REGISTRY/busybox:amd64" >/dev/null 2>"$tmp/err" || fail "pull with the helper: $(cat "$tmp/err")"
grep -qx "get $REGISTRY" "$calls" || fail "pull did not ask the helper: $(cat "$calls")"
out=$("$STACK" logout "$REGISTRY") || fail "logout: $out"
grep -qx "erase $REGISTRY" "$calls" || fail "logout did not erase: $(cat "$calls")"
[[ $(python3 -c 'import json,sys; print(len(json.load(open(sys.argv[1]))))' "$store") == 0 ]] || fail "still stored: $(cat "$store")"
expect_error "not logged in to $REGISTRY" logout "$REGISTRY"
fresh_store s2
expect_error "stack login" pull "$REGISTRY/busybox:amd64"

# --- credHelpers: the helper for this registry only
printf '{"ServerURL":"%s","Username":"%s","Secret":"%s"}' "$REGISTRY" "$REGISTRY_USER" "$REGISTRY_PASS" |
  "$tmp/bin/docker-credential-test" store
printf '{"credsStore": "absent", "credHelpers": {"%s": "test"}}\n' "$REGISTRY" >"$DOCKER_CONFIG/config.json"
fresh_store h1
"$STACK" pull -q "$REGISTRY/busybox:amd64" >/dev/null 2>"$tmp/err" || fail "pull with credHelpers: $(cat "$tmp/err")"

# --- a helper that is not installed: a clear error, nothing pulled
printf '{"credsStore": "absent"}\n' >"$DOCKER_CONFIG/config.json"
fresh_store m1
expect_error "docker-credential-absent is not installed (no such program in PATH), but $DOCKER_CONFIG/config.json names it in \"credsStore\": install the credential helper" \
  pull "$REGISTRY/busybox:amd64"
expect_error "docker-credential-absent is not installed" login -u "$REGISTRY_USER" -p "$REGISTRY_PASS" "$REGISTRY"
echo ok
