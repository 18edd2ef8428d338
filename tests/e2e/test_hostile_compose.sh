#!/usr/bin/env bash
# Hostile Compose files, as a careful user would try them: a container name
# that climbs out of stack's state towards a canary directory with a
# victim.img and victim.log, volume names and targets with "..", a 10 MB
# environment variable, an alias bomb, deep nesting, a dependency cycle,
# network_mode: host, and a bad name in every field that takes one.  Each is refused by `config`
# and by `up` with an error naming the file position and the field, and
# exit code 1; afterwards nothing was made for any of them: no supervisor,
# no file under STACK_ROOT or STACK_RUN_DIR, no bridge, tap or nftables
# table, and the canary is byte for byte what it was.  A first `up` that
# fails further on (a host port in use, an unknown ulimit) is rolled back
# the same way, VMs it started included; once the port is free the same
# project comes up, and `down -v` leaves no directory of it.
set -euo pipefail
. "$STACK_SOURCE_DIR/tests/lib/up.sh"
up_test_init hostile

canary=$tmp/x
mkdir -p "$canary"
printf 'the victim disk' >"$canary/victim.img"
printf 'the victim log\n' >"$canary/victim.log"
touch -d '2001-02-03 04:05:06' "$canary/victim.img" "$canary/victim.log" "$canary"
snapshot() { (cd "$canary" && find . -printf '%p %y %s %T@ %m\n' | sort && sha256sum victim.*); }
canary_before=$(snapshot)
climb=../../../../../../../../../../..$canary

projects=() # every project a case names: none may leave anything
# refused NAME NEEDLE...: the case's compose.yaml (stdin) makes `config` and
# `up -d` fail with exit code 1 and an error holding every needle (fixed
# strings); its project is NAME
refused() {
  local name=$1 dir=$tmp/cases/$1 cmd rc n
  shift
  projects+=("$name")
  mkdir -p "$dir"
  cat >"$dir/compose.yaml"
  for cmd in config "up -d"; do
    rc=0
    (cd "$dir" && timeout 120 "$STACK" $cmd >/dev/null 2>"$tmp/err") || rc=$?
    ((rc == 1)) || fail "$name: $cmd: exit code $rc, want 1: $(head -c 800 "$tmp/err")"
    for n in "$@"; do
      grep -qF -- "$n" "$tmp/err" || fail "$name: $cmd: no \"$n\" in the error: $(head -c 800 "$tmp/err")"
    done
  done
}

svc='    image: busybox:amd64
    command: sleep 3600'

refused hcname 'compose.yaml:6:21: services.a.container_name: invalid container name "../../' <<YAML
name: hcname
services:
  a:
$svc
    container_name: $climb/victim
YAML
refused hvolname 'compose.yaml:9:11: volumes.data.name: invalid volume name "../.."' <<YAML
name: hvolname
services:
  a:
$svc
    volumes: [data:/data]
volumes:
  data:
    name: ../..
YAML
refused hvolclimb 'compose.yaml:9:11: volumes.data.name: invalid volume name' <<YAML
name: hvolclimb
services:
  a:
$svc
    volumes: [data:/data]
volumes:
  data:
    name: $climb
YAML
refused hextvol 'compose.yaml:8:3: volumes._x: invalid volume name "_x"' <<YAML
name: hextvol
services:
  a:
$svc
    volumes: [_x:/data]
volumes:
  _x:
    external: true
YAML
refused htarget 'compose.yaml:6:15: services.a.volumes[0].target: ".." is not an absolute path' <<YAML
name: htarget
services:
  a:
$svc
    volumes: ["data:.."]
volumes:
  data: {}
YAML
refused htmpfs 'compose.yaml:6:13: services.a.tmpfs[0]: "run" is not an absolute path' <<YAML
name: htmpfs
services:
  a:
$svc
    tmpfs: [run]
YAML
refused hworkdir 'compose.yaml:6:18: services.a.working_dir: "../app" must be an absolute path' <<YAML
name: hworkdir
services:
  a:
$svc
    working_dir: ../app
YAML
refused hsecret 'compose.yaml:6:35: services.a.secrets[0]: the file would be /run/secrets/../../../etc/x' <<YAML
name: hsecret
services:
  a:
$svc
    secrets: [{source: s, target: ../../../etc/x}]
secrets:
  s:
    environment: HOME
YAML
refused hsecname 'compose.yaml:10:11: secrets.s.name: invalid secret name "../s"' <<YAML
name: hsecname
services:
  a:
$svc
    secrets: [s]
secrets:
  s:
    environment: HOME
    name: ../s
YAML
refused hconfname 'compose.yaml:9:11: configs.c.name: invalid config name "a/b"' <<YAML
name: hconfname
services:
  a:
$svc
configs:
  c:
    content: x
    name: a/b
YAML
refused hnetname 'compose.yaml:9:11: networks.n.name: invalid network name' <<YAML
name: hnetname
services:
  a:
$svc
    networks: [n]
networks:
  n:
    name: "  "
YAML
refused hlongsvc 'compose.yaml:3:3: services.' 'the service name is too long' <<YAML
name: hlongsvc
services:
  $(printf 's%.0s' {1..190}):
$svc
YAML
refused hproject 'compose.yaml:1:7: the top-level `name`: invalid project name "../../' <<YAML
name: $climb
services:
  a:
$svc
YAML
{
  printf 'name: hbigenv\nservices:\n  a:\n%s\n    environment:\n      BIG: ' "$svc"
  head -c $((10 << 20)) /dev/zero | tr '\0' x
  printf '\n'
} | refused hbigenv 'compose.yaml:7:12: services.a.environment.BIG: 10485764 bytes'
{
  printf 'name: hbomb\n'
  printf 'x-0: &l0 [lol, lol, lol, lol, lol, lol, lol, lol, lol]\n'
  for i in 1 2 3 4 5 6 7 8; do
    p=$((i - 1))
    printf 'x-%d: &l%d [*l%d, *l%d, *l%d, *l%d, *l%d, *l%d, *l%d, *l%d, *l%d]\n' $i $i $p $p $p $p $p $p $p $p $p
  done
  printf 'services:\n  a:\n%s\n    labels: {x: *l8}\n' "$svc"
} | refused hbomb 'compose.yaml:' 'aliases would expand to' 'alias bomb'
{
  printf 'name: hdeep\nservices:\n  a:\n%s\n    labels:\n      x: ' "$svc"
  printf '[%.0s' {1..100000}
  printf ']%.0s' {1..100000}
  printf '\n'
} | refused hdeep 'compose.yaml:7:' 'nesting deeper than 256 levels'
refused hcycle 'compose.yaml:3:3: dependency cycle between services: a -> b -> a' <<YAML
name: hcycle
services:
  a:
$svc
    depends_on: [b]
  b:
$svc
    depends_on: [a]
YAML
# a network stack a VM cannot share: refused at load, before anything is made
refused hnetmode 'compose.yaml:6:19: services.a.network_mode: "host" is not possible' 'own VM' \
  'ports:' <<YAML
name: hnetmode
services:
  a:
$svc
    network_mode: host
YAML

# the same names from the command line
projects+=(hcli)
mkdir -p "$tmp/cases/hcli"
printf 'name: hcli\nservices:\n  a:\n%s\n' "$svc" >"$tmp/cases/hcli/compose.yaml"
rc=0
(cd "$tmp/cases/hcli" && timeout 60 "$STACK" -p "../x" up -d >/dev/null 2>"$tmp/err") || rc=$?
((rc == 1)) && grep -qF 'invalid project name "../x"' "$tmp/err" || fail "-p ../x: $rc: $(cat "$tmp/err")"
rc=0
(cd "$tmp/cases/hcli" && timeout 60 "$STACK" run --rm --name "$climb/victim" a true >/dev/null 2>"$tmp/err") || rc=$?
((rc != 0)) && grep -qF 'invalid container name "../../' "$tmp/err" || fail "run --name: $rc: $(cat "$tmp/err")"
rc=0
timeout 60 "$STACK" run --rm --name "$climb/victim" busybox:amd64 true >/dev/null 2>"$tmp/err" || rc=$?
((rc != 0)) && grep -qF 'invalid container name "../../' "$tmp/err" || fail "run IMAGE --name: $rc: $(cat "$tmp/err")"

# names the networks of a project would have (net/net_names.c)
hash() { printf '%s\0' "$STACK_ROOT" "$@" | sha256sum; }
bridge() { local h; h=$(hash bridge "$1" "$2"); echo "stkb${h:0:11}"; }
tap() { local h; h=$(hash tap "$1" "$2" "$3"); echo "stkt${h:0:11}"; }
table() { local h; h=$(hash table "$1"); echo "stack_${h:0:12}"; }
supervisor_of() {
  local p
  for p in /proc/[0-9]*; do
    [[ $(tr '\0' ' ' <"$p/cmdline" 2>/dev/null) == *" supervisor $1 " ]] && return 0
  done
  return 1
}
# nothing of project $1 (with containers $2...) is left
nothing_of() {
  local p=$1 c
  shift
  [[ ! -e $STACK_ROOT/projects/$p ]] || fail "$p: $STACK_ROOT/projects/$p: $(find "$STACK_ROOT/projects/$p")"
  [[ ! -e $STACK_RUN_DIR/projects/$p ]] || fail "$p: $STACK_RUN_DIR/projects/$p: $(find "$STACK_RUN_DIR/projects/$p")"
  wait_for eval '! supervisor_of "$p"' || fail "$p: a supervisor still runs"
  ! ip link show dev "$(bridge "$p" default)" >/dev/null 2>&1 || fail "$p: its bridge is left"
  for c in "$@"; do
    ! ip link show dev "$(tap "$p" default "$c")" >/dev/null 2>&1 || fail "$p: the tap of $c is left"
    wait_for eval '! pgrep -f -- "-name guest=$c " >/dev/null' || fail "$p: the VM of $c still runs"
  done
  ! nft list table inet "$(table "$p")" >/dev/null 2>&1 || fail "$p: its nftables table is left"
}
for p in "${projects[@]}"; do
  nothing_of "$p" "$p-a-1"
done
! ip link show dev "$(bridge hnetname n)" >/dev/null 2>&1 || fail "hnetname: bridge of n"
[[ ! -e $STACK_ROOT/volumes ]] || [[ -z $(ls -A "$STACK_ROOT/volumes") ]] || fail "volumes made: $(ls -A "$STACK_ROOT/volumes")"
[[ -z $(ls -A "$STACK_ROOT/containers" 2>/dev/null) ]] || fail "container state left: $(ls -A "$STACK_ROOT/containers")"
[[ $(snapshot) == "$canary_before" ]] || fail "the canary changed: $(snapshot)"

# A first `up` that fails when a container starts: a host port in use
# (the other service's VM is up by then), then an unknown ulimit.
python3 -c 'import socket,time; s=socket.socket(); s.bind(("127.0.0.1",0)); s.listen(); print(s.getsockname()[1], flush=True); time.sleep(600)' >"$tmp/held" &
holder=$!
wait_for test -s "$tmp/held" || fail "no port holder"
held=$(cat "$tmp/held")
mkdir -p "$tmp/cases/hroll"
cd "$tmp/cases/hroll"
cat >compose.yaml <<YAML
name: hroll
services:
  ok:
$svc
  busy:
$svc
    depends_on: [ok]
    ports: ["127.0.0.1:$held:80"]
YAML
rc=0
timeout 300 "$STACK" up -d >/dev/null 2>"$tmp/err" || rc=$?
((rc == 1)) || fail "up with port $held in use: exit code $rc: $(cat "$tmp/err")"
grep -qF "container hroll-busy-1 could not be started" "$tmp/err" && grep -qF "$held" "$tmp/err" ||
  fail "the error does not name the container and port: $(cat "$tmp/err")"
nothing_of hroll hroll-ok-1 hroll-busy-1
[[ -z $(ls -A "$STACK_ROOT/containers" 2>/dev/null) ]] || fail "hroll: container state left: $(ls -A "$STACK_ROOT/containers")"

cat >compose.yaml <<YAML
name: hroll
services:
  a:
$svc
    ulimits: {nofiles: 10}
YAML
rc=0
timeout 300 "$STACK" up -d >/dev/null 2>"$tmp/err" || rc=$?
((rc == 1)) && grep -qF 'unknown limit "nofiles"' "$tmp/err" || fail "unknown ulimit: exit code $rc: $(cat "$tmp/err")"
nothing_of hroll hroll-a-1

# the port free again: the same project comes up, and `down -v` leaves
# nothing of it
kill "$holder"
wait "$holder" 2>/dev/null || true
cat >compose.yaml <<YAML
name: hroll
services:
  ok:
$svc
  busy:
$svc
    ports: ["127.0.0.1:$held:80"]
    volumes: [data:/data, /anon]
volumes:
  data: {}
YAML
out=$(timeout 300 "$STACK" up -d 2>&1) || fail "up once the port is free: $out"
[[ -d $STACK_ROOT/projects/hroll ]] || fail "no state for a running project"
out=$(timeout 120 "$STACK" down -v -t 0 2>&1) || fail "down -v: $out"
nothing_of hroll hroll-ok-1 hroll-busy-1
[[ -z $(ls -A "$STACK_ROOT/volumes" 2>/dev/null) ]] || fail "down -v left volumes: $(ls -A "$STACK_ROOT/volumes")"
[[ $(snapshot) == "$canary_before" ]] || fail "the canary changed: $(snapshot)"
echo PASS
