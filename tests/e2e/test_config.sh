#!/usr/bin/env bash
# `stack config`: output forms, listings, flags, and errors that name
# file:line:col with exit code 1.  Needs only the stack binary.
set -euo pipefail

: "${STACK_BIN:?}" "${STACK_SOURCE_DIR:?}"
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
export STACK_ROOT=$work/root STACK_RUN_DIR=$work/run
failures=0

fail() {
  echo "FAIL: $*" >&2
  failures=$((failures + 1))
}

# expect_out DESCRIPTION EXPECTED-SUBSTRING COMMAND...: exit 0 and stdout has it
expect_out() {
  local what=$1 want=$2 out
  shift 2
  if ! out=$(timeout 30 "$@" 2>"$work/err"); then
    fail "$what: exit $? ($(cat "$work/err"))"
    return
  fi
  [[ $out == *"$want"* ]] || fail "$what: no \"$want\" in: $out"
}

# expect_err DESCRIPTION EXPECTED-SUBSTRING COMMAND...: exit 1 and stderr has it
expect_err() {
  local what=$1 want=$2 rc=0
  shift 2
  timeout 30 "$@" >"$work/out" 2>"$work/err" || rc=$?
  [[ $rc == 1 ]] || fail "$what: exit $rc, expected 1"
  grep -qF -- "$want" "$work/err" || fail "$what: no \"$want\" in stderr: $(cat "$work/err")"
}

hello=$STACK_SOURCE_DIR/examples/hello/compose.yaml
S=("$STACK_BIN" -f "$hello")

expect_out "yaml" $'name: hello\nservices:' "${S[@]}" config
expect_out "defaults" "name: hello_default" "${S[@]}" config
expect_out "durations" "interval: 2s" "${S[@]}" config
expect_out "ports long form" 'published: "8080"' "${S[@]}" config
expect_out "json" $'      "depends_on": {\n        "web": {\n          "condition": "service_healthy"' \
  "${S[@]}" config --format json
expect_out "services" $'web\nworker' "${S[@]}" config --services
expect_out "networks" "default" "${S[@]}" config --networks
expect_out "images" "busybox" "${S[@]}" config --images
expect_out "interpolation" "GREETING: hi" "${S[@]}" config
GREETING=hey expect_out "interpolation from env" "GREETING: hey" "${S[@]}" config
expect_out "no-interpolate" 'GREETING: ${GREETING:-hi}' "${S[@]}" config --no-interpolate
expect_out "help" "Usage:  stack config [OPTIONS] [SERVICE...]" "$STACK_BIN" config --help

out=$("${S[@]}" config --no-normalize)
[[ $out != *"hello_default"* ]] || fail "--no-normalize still added the default network"
out=$("${S[@]}" config --volumes)
[[ -z $out ]] || fail "--volumes listed \"$out\" for a project without volumes"
out=$("${S[@]}" config -q)
[[ -z $out ]] || fail "-q printed output"
"${S[@]}" config -o "$work/out.yaml"
[[ $(cat "$work/out.yaml") == "$("${S[@]}" config)" ]] || fail "-o wrote something else than stdout"
out=$("${S[@]}" config web)
[[ $out == *"web:"* && $out != *"worker:"* ]] || fail "config web printed other services: $out"

# `$` is re-escaped so that the output loads to the same project
mkdir -p "$work/p"
cat >"$work/p/compose.yaml" <<'EOF'
services:
  a:
    image: busybox
    environment:
      PRICE: $$5
      FROM_ENV:
    profiles: [debug]
    volumes: [data:/data, ./src:/src:ro]
volumes:
  data:
EOF
expect_out "dollar" 'PRICE: $$5' "$STACK_BIN" -f "$work/p/compose.yaml" --profile debug config
FROM_ENV=x expect_out "env value" 'FROM_ENV: x' "$STACK_BIN" -f "$work/p/compose.yaml" --profile debug config
expect_out "bind path" "source: $work/p/src" "$STACK_BIN" -f "$work/p/compose.yaml" --profile debug config
expect_out "volumes" "data" "$STACK_BIN" -f "$work/p/compose.yaml" --profile debug config --volumes
expect_out "profiles" "debug" "$STACK_BIN" -f "$work/p/compose.yaml" config --profiles
"$STACK_BIN" -f "$work/p/compose.yaml" --profile debug config >"$work/again.yaml"
[[ $("$STACK_BIN" -f "$work/again.yaml" -p p --profile debug config) == $(cat "$work/again.yaml") ]] ||
  fail "config output does not load back to the same project"

# compose-go's full example, through the whole loader: the same project as
# its expected.yaml (printed by stack config too, so key order and layout
# agree).  compose-go's test skips normalisation; the example names a network
# it does not define, hence --no-consistency.
full=${STACK_CONFORMANCE_DIR:-}/compose-go/full-example
if [[ -d $full ]]; then
  full=$(cd "$full" && pwd)
  sed -e "s|\${WORKDIR}|$full|g" -e "s|\${HOME}|$HOME|g" "$full/expected.yaml" >"$work/expected.yaml"
  QUX=qux_from_environment "$STACK_BIN" -f "$full/full-example.yml" config --no-normalize \
    --no-consistency >"$work/full.yaml" || fail "full example: exit $?"
  QUX=qux_from_environment "$STACK_BIN" -f "$work/expected.yaml" config --no-normalize \
    --no-consistency >"$work/full-expected.yaml" || fail "full example expected: exit $?"
  diff -u "$work/full-expected.yaml" "$work/full.yaml" >&2 || fail "full example differs from expected.yaml"
fi

# errors: exit 1, file:line:col, the service, what to do
cat >"$work/unknown.yaml" <<'EOF'
services:
  web:
    image: busybox
    portz: ["80:80"]
EOF
expect_err "unknown key" "unknown.yaml:4:5: service \"web\"" "$STACK_BIN" -f "$work/unknown.yaml" config
cat >"$work/type.yaml" <<'EOF'
services:
  web:
    image: busybox
    ports: 80
EOF
expect_err "wrong type" "type.yaml:4:12" "$STACK_BIN" -f "$work/type.yaml" config
cat >"$work/cycle.yaml" <<'EOF'
services:
  a: {image: busybox, depends_on: [b]}
  b: {image: busybox, depends_on: [a]}
EOF
expect_err "cycle" "a -> b -> a" "$STACK_BIN" -f "$work/cycle.yaml" config
cat >"$work/noimage.yaml" <<'EOF'
services:
  a:
    command: ["true"]
EOF
expect_err "no image" "noimage.yaml:2:3: service \"a\": has neither an image nor a build" \
  "$STACK_BIN" -f "$work/noimage.yaml" config
expect_out "no-consistency" "command:" "$STACK_BIN" -f "$work/noimage.yaml" config --no-consistency
cat >"$work/ports.yaml" <<'EOF'
services:
  a: {image: busybox, ports: ["8080:80"]}
  b: {image: busybox, ports: ["8080:81"]}
EOF
expect_err "port clash" "ports.yaml:3:31: service \"b\": publishes host port 8080/tcp" \
  "$STACK_BIN" -f "$work/ports.yaml" config
cat >"$work/net.yaml" <<'EOF'
services:
  a: {image: busybox, networks: [back]}
EOF
expect_err "undefined network" "network \"back\", which is not defined" "$STACK_BIN" -f "$work/net.yaml" config
expect_err "bad format" "unsupported format" "${S[@]}" config --format toml

if ((failures)); then
  echo "$failures failure(s)" >&2
  exit 1
fi
echo "ok"
