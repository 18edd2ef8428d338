#!/usr/bin/env bash
# A volume whose definition changed (labels, driver options) is detected by
# up, which asks before recreating it (Compose's question); no answer (no
# terminal) keeps it and its data, -y/--yes recreates it (the containers
# that use it with it).  -V/--renew-anon-volumes gives a recreated
# container fresh anonymous volumes; without it they are kept.
set -euo pipefail
. "$STACK_SOURCE_DIR/tests/lib/up.sh"
up_test_init up-volume-changed

cat >compose.yaml <<'YAML'
name: upvolchanged
services:
  app:
    image: busybox:amd64
    command: sh -c 'echo "data:$$(ls /data) anon:$$(ls /anon)"; touch /data/kept /anon/kept; sleep 300'
    volumes:
      - data:/data
      - /anon
volumes:
  data:
    labels:
      version: "1"
YAML
last_line() { "$STACK" logs --no-color --no-log-prefix app | grep '^data:' | tail -1; }
up() {
  timeout 300 "$STACK" up -d "$@" </dev/null 2>"$tmp/err" || fail "up $*: $(cat "$tmp/err")"
  wait_for eval '[[ $(last_line) == "$want" ]]' || fail "up $*: app saw \"$(last_line)\", not \"$want\""
}
Q='Volume "upvolchanged_data" exists but doesn'"'"'t match configuration in compose file. Recreate (data will be lost)?'

want="data: anon:"; up
# unchanged: no question
! grep -qF "$Q" "$tmp/err" || fail "asked with nothing changed: $(cat "$tmp/err")"

sed -i 's/version: "1"/version: "2"/' compose.yaml
# no terminal to answer: asked, kept (the container is not recreated)
timeout 300 "$STACK" up -d </dev/null 2>"$tmp/err" || fail "up: $(cat "$tmp/err")"
grep -qF "$Q" "$tmp/err" || fail "not asked: $(cat "$tmp/err")"
[[ $(last_line) == "data: anon:" ]] || fail "recreated without a yes: $(last_line)"
want="data:kept anon:kept"; up --force-recreate

# -y: recreated, empty again; the anonymous volume is the old container's
want="data: anon:kept"; up -y
grep -qF "$Q" "$tmp/err" || fail "-y: not asked: $(cat "$tmp/err")"
grep -q "Volume upvolchanged_data  Removed" "$tmp/err" || fail "-y: $(cat "$tmp/err")"
# the new definition is the volume's now: not asked again
want="data:kept anon:kept"; up --force-recreate
! grep -qF "$Q" "$tmp/err" || fail "asked again: $(cat "$tmp/err")"

# -V: fresh anonymous volumes for the recreated container
want="data:kept anon:"; up --force-recreate -V
# driver options count as the definition too
cat >>compose.yaml <<'YAML'
    driver_opts:
      type: tmpfs
      device: tmpfs
YAML
want="data: anon:kept"; up --yes
echo ok
