#!/usr/bin/env bash
# Secrets and configs reach the container as files: from a file, an
# environment variable or inline content; at Compose's default paths
# (/run/secrets/<name>, /<name>) or a given target, with mode and owner;
# secrets on a tmpfs (never in the writable layer); an undefined or
# unreadable source fails the container with its name.
set -euo pipefail
source "$STACK_SOURCE_DIR/tests/lib/up.sh"
up_test_init secrets

printf 's3cr3t\n' >db_password.txt
export STACK_TEST_TOKEN=from-env
cat > compose.yaml <<'YAML'
name: sec
services:
  a:
    image: busybox:amd64
    command: sleep 3600
    network_mode: none
    secrets:
      - db_password
      - source: token
        target: api_token
        uid: "1000"
        mode: 0400
    configs:
      - app_conf
      - source: inline
        target: /etc/app/inline.conf
secrets:
  db_password:
    file: ./db_password.txt
  token:
    environment: STACK_TEST_TOKEN
configs:
  app_conf:
    file: ./db_password.txt
  inline:
    content: |
      key=value
YAML
out=$(timeout 120 "$STACK" up -d 2>&1) || fail "up failed: $out"
[[ $out != *"not supported"* ]] || fail "up warns: $out"
ex() { timeout 60 "$STACK" exec -T "$@"; }
[[ $(ex a cat /run/secrets/db_password) == s3cr3t ]] || fail "file secret"
[[ $(ex a cat /run/secrets/api_token) == from-env ]] || fail "environment secret at its target"
[[ $(ex a stat -c '%a %u' /run/secrets/api_token) == "400 1000" ]] ||
  fail "secret mode/owner: $(ex a stat -c '%a %u' /run/secrets/api_token)"
[[ $(ex a stat -c '%a' /run/secrets/db_password) == 444 ]] || fail "default mode is not 0444"
[[ $(ex a cat /app_conf) == s3cr3t ]] || fail "config at /<name>"
[[ $(ex a cat /etc/app/inline.conf) == key=value ]] || fail "inline config at its target"
ex a grep -q ' /run/secrets tmpfs ' /proc/mounts || fail "secrets are not on a tmpfs"

# an undefined secret fails the container, naming it
cat > compose.yaml <<'YAML'
name: sec
services:
  a:
    image: busybox:amd64
    command: sleep 3600
    network_mode: none
    secrets: [missing]
secrets:
  missing:
    file: ./no-such-file
YAML
rc=0
out=$(timeout 120 "$STACK" up -d 2>&1) || rc=$?
[[ $rc != 0 ]] || fail "up with an unreadable secret succeeded: $out"
[[ $out == *"secret missing"* ]] || fail "the secret is not named: $out"
echo "ok"
