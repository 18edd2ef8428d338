# A real OCI registry for tests: Debian's docker-registry on 127.0.0.1 with a
# random free port and a private storage directory.
#
# Source it from an e2e test:
#     . "$STACK_SOURCE_DIR/tests/lib/registry.sh"
#     registry_start plain|basic|token|tls    # sets the variables below
#     registry_push_busybox [REPO]            # test images, see below
#     trap registry_stop EXIT                 # (or registry_test_init NAME first)
# or run it from a C test (tests/integration/image/helper_registry.c):
#     bash registry.sh start VARIANT DIR      # prints VAR=value lines, daemons keep running
#     bash registry.sh stop DIR
#
# Variables after registry_start:
#   REGISTRY        127.0.0.1:PORT
#   REGISTRY_DIR    private directory (storage, config, certs, logs, pids)
#   REGISTRY_USER / REGISTRY_PASS   credentials for basic and token variants
#   REGISTRY_CA     the CA certificate (tls variant)
#   REGISTRY_TOKEN_LOG  one line per token request (token variant)
#
# registry_push_busybox pushes, from tests/images/build.sh's output, to REPO
# (default busybox): tags latest (OCI index amd64+arm64), amd64, arm64, zstd,
# plain, multi (7 layers), and `docker` (a Docker manifest list of the same blobs, PUT by curl).
# BUSYBOX_* digests (busybox.env) are exported.

_registry_here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
_registry_dirs=()

# registry_test_init NAME: the common start of a registry e2e test: skips
# (77) without docker-registry, makes $tmp, points STACK_ROOT, STACK_RUN_DIR,
# STACK_CONFIG ($tmp/config/config.json) and HOME into it, cd's there, sets a trap
# that stops every registry started and removes $tmp.  Defines fail().
registry_test_init() {
  command -v docker-registry >/dev/null || { echo "SKIP: docker-registry not installed"; exit 77; }
  tmp=$(mktemp -d "/tmp/stack-$1.XXXXXX")
  trap _registry_test_cleanup EXIT
  export STACK_ROOT=$tmp/root STACK_RUN_DIR=$tmp/run STACK_CONFIG=$tmp/config/config.json HOME=$tmp/home
  # No Compose file above: `stack pull IMAGE` then means images, not services.
  cd "$tmp"
}
_registry_test_cleanup() {
  local d
  for d in "${_registry_dirs[@]}"; do registry_stop "$d"; done
  rm -rf "$tmp"
}
fail() { echo "FAIL: $*" >&2; exit 1; }

_registry_free_port() {
  python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'
}

# registry_start VARIANT [DIR]
registry_start() {
  local variant=${1:-plain}
  command -v docker-registry >/dev/null || { echo "registry.sh: docker-registry is not installed" >&2; return 77; }
  REGISTRY_DIR=${2:-$(mktemp -d /tmp/stack-registry.XXXXXX)}
  _registry_dirs+=("$REGISTRY_DIR")
  mkdir -p "$REGISTRY_DIR/storage"
  REGISTRY_USER=stackuser
  REGISTRY_PASS=stack-pass-$RANDOM
  local scheme=http auth="" tls=""
  case $variant in
  plain) ;;
  basic)
    htpasswd -Bbc "$REGISTRY_DIR/htpasswd" "$REGISTRY_USER" "$REGISTRY_PASS" 2>/dev/null
    auth="auth:
  htpasswd:
    realm: stack-test
    path: $REGISTRY_DIR/htpasswd"
    ;;
  token)
    openssl req -x509 -newkey rsa:2048 -nodes -days 2 -subj /CN=stack-test-token \
      -keyout "$REGISTRY_DIR/token.key" -out "$REGISTRY_DIR/token.crt" 2>/dev/null
    : >"$REGISTRY_DIR/token.log"
    REGISTRY_TOKEN_LOG=$REGISTRY_DIR/token.log
    python3 "$_registry_here/token_server.py" "$REGISTRY_DIR/token.port" "$REGISTRY_DIR/token.key" \
      "$REGISTRY_DIR/token.crt" stack-test-issuer "$REGISTRY_USER" "$REGISTRY_PASS" \
      "$REGISTRY_TOKEN_LOG" 2>>"$REGISTRY_DIR/token.err" &
    echo $! >"$REGISTRY_DIR/token.pid"
    local i
    for ((i = 0; i < 100; i++)); do
      [[ -s $REGISTRY_DIR/token.port ]] && break
      sleep 0.05
    done
    [[ -s $REGISTRY_DIR/token.port ]] || { echo "registry.sh: token server did not start" >&2; cat "$REGISTRY_DIR/token.err" >&2; return 1; }
    auth="auth:
  token:
    realm: http://127.0.0.1:$(cat "$REGISTRY_DIR/token.port")/token
    service: stack-test-registry
    issuer: stack-test-issuer
    rootcertbundle: $REGISTRY_DIR/token.crt"
    ;;
  tls)
    openssl req -x509 -newkey rsa:2048 -nodes -days 2 -subj /CN=stack-test-ca \
      -addext basicConstraints=critical,CA:TRUE -addext keyUsage=critical,keyCertSign,cRLSign \
      -keyout "$REGISTRY_DIR/ca.key" -out "$REGISTRY_DIR/ca.crt" 2>/dev/null
    openssl req -newkey rsa:2048 -nodes -subj /CN=127.0.0.1 \
      -keyout "$REGISTRY_DIR/server.key" -out "$REGISTRY_DIR/server.csr" 2>/dev/null
    printf 'subjectAltName=IP:127.0.0.1,DNS:localhost\nbasicConstraints=CA:FALSE\nextendedKeyUsage=serverAuth\n' >"$REGISTRY_DIR/ext.cnf"
    openssl x509 -req -in "$REGISTRY_DIR/server.csr" -CA "$REGISTRY_DIR/ca.crt" -CAkey "$REGISTRY_DIR/ca.key" \
      -CAcreateserial -days 2 -extfile "$REGISTRY_DIR/ext.cnf" -out "$REGISTRY_DIR/server.crt" 2>/dev/null
    REGISTRY_CA=$REGISTRY_DIR/ca.crt
    scheme=https
    tls="  tls:
    certificate: $REGISTRY_DIR/server.crt
    key: $REGISTRY_DIR/server.key"
    ;;
  *) echo "registry.sh: unknown variant $variant" >&2; return 1 ;;
  esac
  REGISTRY_SCHEME=$scheme
  local attempt port
  for attempt in 1 2 3 4 5; do
    port=$(_registry_free_port)
    cat >"$REGISTRY_DIR/config.yml" <<EOF
version: 0.1
log:
  level: error
  accesslog:
    disabled: true
storage:
  filesystem:
    rootdirectory: $REGISTRY_DIR/storage
  delete:
    enabled: true
http:
  addr: 127.0.0.1:$port
  secret: stack-test-secret
$tls
$auth
EOF
    docker-registry serve "$REGISTRY_DIR/config.yml" >>"$REGISTRY_DIR/registry.log" 2>&1 &
    echo $! >"$REGISTRY_DIR/registry.pid"
    local i code
    for ((i = 0; i < 200; i++)); do
      code=$(curl -sk -o /dev/null -w '%{http_code}' "$scheme://127.0.0.1:$port/v2/" 2>/dev/null || true)
      [[ $code == 200 || $code == 401 ]] && break
      kill -0 "$(cat "$REGISTRY_DIR/registry.pid")" 2>/dev/null || break
      sleep 0.05
    done
    if [[ $code == 200 || $code == 401 ]]; then
      REGISTRY=127.0.0.1:$port
      export REGISTRY REGISTRY_DIR REGISTRY_USER REGISTRY_PASS REGISTRY_CA REGISTRY_SCHEME REGISTRY_TOKEN_LOG
      return 0
    fi
    kill "$(cat "$REGISTRY_DIR/registry.pid")" 2>/dev/null
    wait "$(cat "$REGISTRY_DIR/registry.pid")" 2>/dev/null
  done
  echo "registry.sh: docker-registry did not start:" >&2
  cat "$REGISTRY_DIR/registry.log" >&2
  return 1
}

_registry_kill() {
  local f=$1 pid
  [[ -f $f ]] || return 0
  pid=$(cat "$f")
  kill "$pid" 2>/dev/null || true
  local i
  for ((i = 0; i < 100; i++)); do
    kill -0 "$pid" 2>/dev/null || break
    sleep 0.02
  done
  kill -9 "$pid" 2>/dev/null || true
  rm -f "$f"
}

# registry_start_bad: after registry_start plain and registry_push_busybox,
# starts tests/lib/bad_registry.py in front of it (see there for what each
# repository name does).  Sets BAD_REGISTRY (127.0.0.1:PORT) and
# BAD_REGISTRY_LOG (one line per blob request: repo digest range).
registry_start_bad() {
  BAD_REGISTRY_LOG=$REGISTRY_DIR/bad.log
  : >"$BAD_REGISTRY_LOG"
  python3 "$_registry_here/bad_registry.py" "$REGISTRY_DIR/bad.port" "$REGISTRY" "$BAD_REGISTRY_LOG" \
    2>>"$REGISTRY_DIR/bad.err" &
  echo $! >"$REGISTRY_DIR/bad.pid"
  local i
  for ((i = 0; i < 100; i++)); do
    [[ -s $REGISTRY_DIR/bad.port ]] && break
    sleep 0.05
  done
  [[ -s $REGISTRY_DIR/bad.port ]] || { echo "registry.sh: bad registry did not start" >&2; return 1; }
  BAD_REGISTRY=127.0.0.1:$(cat "$REGISTRY_DIR/bad.port")
  export BAD_REGISTRY BAD_REGISTRY_LOG
}

# registry_stop [DIR]: stops the daemons and removes the directory.
registry_stop() {
  local dir=${1:-${REGISTRY_DIR:-}}
  [[ -n $dir && -d $dir ]] || return 0
  _registry_kill "$dir/registry.pid"
  _registry_kill "$dir/token.pid"
  _registry_kill "$dir/bad.pid"
  rm -rf "$dir"
}

# _registry_curl ARGS...: curl with the registry's credentials (Basic, or a
# token fetched for the given scope in $_registry_scope).
_registry_curl() {
  local authh=()
  if [[ -s ${REGISTRY_DIR}/token.port ]]; then
    local tok
    tok=$(curl -sf -u "$REGISTRY_USER:$REGISTRY_PASS" \
      "http://127.0.0.1:$(cat "$REGISTRY_DIR/token.port")/token?service=stack-test-registry&scope=$_registry_scope" |
      python3 -c 'import json,sys; print(json.load(sys.stdin)["token"])')
    authh=(-H "Authorization: Bearer $tok")
  elif [[ -f ${REGISTRY_DIR}/htpasswd ]]; then
    authh=(-u "$REGISTRY_USER:$REGISTRY_PASS")
  fi
  curl -sfk "${authh[@]}" "$@"
}

# registry_put_manifest REPO REF MEDIATYPE FILE
registry_put_manifest() {
  local _registry_scope="repository:$1:pull,push"
  _registry_curl -X PUT -H "Content-Type: $3" --data-binary "@$4" \
    "$REGISTRY_SCHEME://$REGISTRY/v2/$1/manifests/$2" -o /dev/null
}

# registry_push_busybox [REPO]
registry_push_busybox() {
  local repo=${1:-busybox}
  local images
  images=$(cd "$_registry_here/../images" && pwd)
  "$images/build.sh" || return 1
  local src
  src=$("$images/build.sh" --print-dir)
  set -a
  . "$src/busybox.env"
  set +a
  local creds=()
  [[ -f $REGISTRY_DIR/htpasswd || -s $REGISTRY_DIR/token.port ]] && creds=(--dest-creds "$REGISTRY_USER:$REGISTRY_PASS")
  local tag
  for tag in latest amd64 arm64 zstd plain multi; do
    skopeo copy -q --all --preserve-digests --dest-tls-verify=false "${creds[@]}" \
      "oci:$src/busybox:$tag" "docker://$REGISTRY/$repo:$tag" >/dev/null || return 1
  done
  local dmt=application/vnd.docker.distribution.manifest.v2+json
  registry_put_manifest "$repo" "$BUSYBOX_DOCKER_AMD64_MANIFEST" $dmt "$src/busybox-docker/manifest-amd64.json" || return 1
  registry_put_manifest "$repo" "$BUSYBOX_DOCKER_ARM64_MANIFEST" $dmt "$src/busybox-docker/manifest-arm64.json" || return 1
  registry_put_manifest "$repo" docker application/vnd.docker.distribution.manifest.list.v2+json \
    "$src/busybox-docker/list.json" || return 1
}

if [[ ${BASH_SOURCE[0]} == "$0" ]]; then
  set -euo pipefail
  case ${1:-} in
  start)
    dir=${3:?usage: registry.sh start VARIANT DIR}
    registry_start "$2" "$dir"
    registry_push_busybox >/dev/null
    # The daemons must outlive this script: disown them.
    disown -a
    env | grep -E '^(REGISTRY|BUSYBOX_)' | sort
    ;;
  stop) registry_stop "${2:?usage: registry.sh stop DIR}" ;;
  *) echo "usage: registry.sh start VARIANT DIR | stop DIR" >&2; exit 2 ;;
  esac
fi
