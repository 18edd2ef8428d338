#!/usr/bin/env bash
# The project environment as Compose has it: `environment: [KEY]` and
# `run -e KEY` take KEY from the shell, then --env-file/.env (or
# COMPOSE_ENV_FILES); a KEY set nowhere is not set in the container, also
# when the supervisor's own environment has it; an unset variable in an
# unquoted value is "" with Compose's warning, printed once.
set -euo pipefail
. "$STACK_SOURCE_DIR/tests/lib/up.sh"
up_test_init up-env-project

cat >compose.yaml <<'YAML'
name: upenvproject
services:
  app:
    image: busybox:amd64
    command: sh -c 'env | sort; sleep 300'
    environment:
      - FROM_DOTENV
      - FROM_SHELL
      - UNSET_KEY
      - BLANK=${NOT_SET_ANYWHERE}
      - DEFAULTED=${NOT_SET_ANYWHERE:-dflt}
YAML
printf 'FROM_DOTENV=dotenv-value\nFROM_SHELL=dotenv-loses\nRUN_KEY=run-from-dotenv\n' >.env
printf 'RUN_KEY=run-from-extra\nFROM_DOTENV=extra-value\n' >extra.env
unset NOT_SET_ANYWHERE UNSET_KEY RUN_KEY NOPE || true

# the supervisor is started with UNSET_KEY in its environment ...
UNSET_KEY=leaked FROM_SHELL=shell-value timeout 300 "$STACK" up -d 2>"$tmp/err" ||
  fail "up: $(cat "$tmp/err")"
[[ $(grep -c 'The "NOT_SET_ANYWHERE" variable is not set. Defaulting to a blank string.' "$tmp/err") == 1 ]] ||
  fail "the warning is not printed once: $(cat "$tmp/err")"
# ... a later up without it recreates the container without it
FROM_SHELL=shell-value timeout 300 "$STACK" up -d --force-recreate 2>"$tmp/err" ||
  fail "up --force-recreate: $(cat "$tmp/err")"
wait_for eval '[[ $("$STACK" logs --no-color app) == *PATH=* ]]' || fail "no env output: $("$STACK" logs app)"
logs=$("$STACK" logs --no-color --no-log-prefix app)
grep -qx 'FROM_DOTENV=dotenv-value' <<<"$logs" || fail "FROM_DOTENV: $logs"
grep -qx 'FROM_SHELL=shell-value' <<<"$logs" || fail "FROM_SHELL (the shell wins): $logs"
grep -qx 'BLANK=' <<<"$logs" || fail "BLANK: $logs"
grep -qx 'DEFAULTED=dflt' <<<"$logs" || fail "DEFAULTED: $logs"
! grep -q '^UNSET_KEY' <<<"$logs" || fail "UNSET_KEY is set: $logs"

# run -e KEY: from .env; a key set nowhere stays unset
out=$(timeout 300 "$STACK" run --rm -e RUN_KEY -e NOPE app env 2>"$tmp/err") || fail "run: $(cat "$tmp/err")"
grep -qx 'RUN_KEY=run-from-dotenv' <<<"$out" || fail "run -e RUN_KEY: $out"
! grep -q '^NOPE' <<<"$out" || fail "run -e NOPE: $out"
out=$(RUN_KEY=from-shell timeout 300 "$STACK" run --rm -e RUN_KEY app env 2>"$tmp/err") || fail "run: $(cat "$tmp/err")"
grep -qx 'RUN_KEY=from-shell' <<<"$out" || fail "run -e RUN_KEY (shell): $out"
# --env-file, and COMPOSE_ENV_FILES in place of .env
out=$(timeout 300 "$STACK" --env-file extra.env run --rm -e RUN_KEY app env 2>"$tmp/err") || fail "run: $(cat "$tmp/err")"
grep -qx 'RUN_KEY=run-from-extra' <<<"$out" || fail "--env-file run -e RUN_KEY: $out"
out=$(COMPOSE_ENV_FILES=extra.env timeout 300 "$STACK" run --rm -e RUN_KEY app env 2>"$tmp/err") ||
  fail "run: $(cat "$tmp/err")"
grep -qx 'RUN_KEY=run-from-extra' <<<"$out" || fail "COMPOSE_ENV_FILES run -e RUN_KEY: $out"
grep -qx 'FROM_DOTENV=extra-value' <<<"$out" || fail "COMPOSE_ENV_FILES environment: [FROM_DOTENV]: $out"
[[ $(COMPOSE_ENV_FILES=extra.env "$STACK" config 2>/dev/null) == *'FROM_DOTENV: extra-value'* ]] ||
  fail "config with COMPOSE_ENV_FILES: $(COMPOSE_ENV_FILES=extra.env "$STACK" config)"
echo ok
