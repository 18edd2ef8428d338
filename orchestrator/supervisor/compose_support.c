#include "compose_support.h"

#include <stdbool.h>
#include <string.h>

#include "orchestrator/compose/compose_scalar.h"
#include "orchestrator/compose/node.h"
#include "runtime/util/cleanup.h"
#include "runtime/util/sbuf.h"
#include "runtime/util/xalloc.h"
#include "service_resources.h"

/* Reasons used by several keys */
#define R_HOST_KERNEL "the container has its own kernel in its VM: host-kernel and Docker-engine settings do not apply"
#define R_NO_DEVICES "no device pass-through into VMs"
#define R_CPU "no meaning inside a VM, whose vCPUs are its own: use cpus"
#define R_MEM "no meaning for a VM with its own memory: use mem_limit"
#define R_NO_API "no container API shows them (stack config prints them)"
#define R_SWARM "Docker Swarm's"

static const char *scalar(const struct cnode *n) {
  return n && n->kind == CNODE_SCALAR && !cnode_is_null(n) ? n->str : NULL;
}

static void item(struct sbuf *b, const char *prefix, const char *what, const char *why) {
  if (b->len)
    sbuf_puts(b, ", ");
  sbuf_printf(b, "%s%s (%s)", prefix, what, why);
}

static void check_security_opt(const struct cnode *v, const char *prefix, struct sbuf *b) {
  for (size_t i = 0; v && v->kind == CNODE_SEQ && i < v->n; i++) {
    const char *o = scalar(v->items[i]);
    if (o && !sup_security_opt_honoured(o)) {
      _cleanup_free_ char *what = xasprintf("security_opt %s", o);
      item(b, prefix, what,
           "seccomp profiles, AppArmor and SELinux labels are not applied: the VM is the "
           "boundary");
    }
  }
}

static void check_volumes(const struct cnode *v, const char *prefix, struct sbuf *b) {
  for (size_t i = 0; v && v->kind == CNODE_SEQ && i < v->n; i++) {
    const struct cnode *m = v->items[i];
    const char *type = scalar(cnode_map_get(m, "type"));
    const char *target = scalar(cnode_map_get(m, "target"));
    if (target == NULL)
      target = "?";
    if (type && strcmp(type, "bind") != 0 && strcmp(type, "volume") != 0 &&
        strcmp(type, "tmpfs") != 0) {
      _cleanup_free_ char *what = xasprintf("volumes of type %s (%s)", type, target);
      item(b, prefix, what, "only bind, volume and tmpfs mounts exist in a VM");
    }
    const struct cnode *bind = cnode_map_get(m, "bind");
    bool create = true;
    const char *ch = scalar(cnode_map_get(bind, "create_host_path"));
    if (ch && cscalar_parse_bool(ch, &create) && !create) {
      _cleanup_free_ char *what = xasprintf("volumes (%s) bind.create_host_path: false", target);
      item(b, prefix, what, "a missing host directory is created");
    }
    if (scalar(cnode_map_get(bind, "propagation"))) {
      _cleanup_free_ char *what = xasprintf("volumes (%s) bind.propagation", target);
      item(b, prefix, what, "a 9p share has no mount propagation");
    }
    if (scalar(cnode_map_get(bind, "selinux"))) {
      _cleanup_free_ char *what = xasprintf("volumes (%s) bind.selinux", target);
      item(b, prefix, what, "no SELinux labels in the guest");
    }
    if (scalar(cnode_map_get(cnode_map_get(m, "volume"), "subpath"))) {
      _cleanup_free_ char *what = xasprintf("volumes (%s) volume.subpath", target);
      item(b, prefix, what, "not applied yet: the whole volume is mounted");
    }
  }
}

static void check_network_mode(const struct cnode *v, const char *prefix, struct sbuf *b) {
  /* every other mode is refused at load (compose_validate_runnable.c) */
  const char *mode = scalar(v);
  if (mode && strcmp(mode, "none") != 0) {
    _cleanup_free_ char *what = xasprintf("network_mode %s", mode);
    item(b, prefix, what, "each service has its own VM and network stack");
  }
}

static void check_enable_ipv4(const struct cnode *v, const char *prefix, struct sbuf *b) {
  bool on = true;
  const char *s = scalar(v);
  if (s && cscalar_parse_bool(s, &on) && !on)
    item(b, prefix, "enable_ipv4: false", "every network has IPv4");
}

static void check_ipam_config(const struct cnode *v, const char *prefix, struct sbuf *b) {
  static const char *const ignored[] = {"ip_range", "aux_addresses"};
  for (size_t i = 0; v && v->kind == CNODE_SEQ && i < v->n; i++)
    for (size_t k = 0; k < sizeof(ignored) / sizeof(ignored[0]); k++)
      if (cnode_map_get(v->items[i], ignored[k])) {
        _cleanup_free_ char *what = xasprintf("config.%s", ignored[k]);
        item(b, prefix, what, "stack allocates addresses from the whole subnet");
      }
}

static void check_volume_driver(const struct cnode *v, const char *prefix, struct sbuf *b) {
  const char *d = scalar(v);
  if (d && strcmp(d, "local") != 0) {
    _cleanup_free_ char *what = xasprintf("driver %s", d);
    item(b, prefix, what, "every volume is a local directory");
  }
}

#define NONE CS_N_SCOPES

static const struct cs_key keys[] = {
    /* the top level */
    {CS_TOP, "version", CS_YES, "obsolete: accepted and dropped, as in Compose", NULL, NONE, 0, NULL},
    {CS_TOP, "name", CS_YES,
     "the project name; `-p` and `COMPOSE_PROJECT_NAME` win; normalised as Compose does; Compose's "
     "rule checked (see above)",
     NULL, NONE, 0, NULL},
    {CS_TOP, "include", CS_YES, "files are included at load time (short and long syntax)", NULL,
     NONE, 0, NULL},
    {CS_TOP, "services", CS_YES, "see the service keys below", NULL, NONE, 0, NULL},
    {CS_TOP, "models", CS_NO, "AI model runners are out of scope", "loaded and printed", NONE, 0,
     NULL},
    {CS_TOP, "networks", CS_YES, "one Linux bridge per network", "see the network keys below",
     NONE, 0, NULL},
    {CS_TOP, "volumes", CS_YES, "a directory per volume under `<data root>/volumes/`",
     "see the volume keys below", NONE, 0, NULL},
    {CS_TOP, "secrets", CS_YES, "given to the services that name them",
     "see the secret keys below", NONE, 0, NULL},
    {CS_TOP, "configs", CS_YES, "given to the services that name them",
     "see the config keys below", NONE, 0, NULL},

    /* services.NAME */
    {CS_SERVICE, "develop", CS_PARTIAL, "see `develop` below", NULL, CS_DEVELOP, 0, NULL},
    {CS_SERVICE, "deploy", CS_PARTIAL, "see `deploy` below", NULL, CS_DEPLOY, 0, NULL},
    {CS_SERVICE, "annotations", CS_NO, R_NO_API, NULL, NONE, 0, NULL},
    {CS_SERVICE, "attach", CS_YES,
     "`attach: false` leaves the service's output out of an attached `up` (unless `--attach` names "
     "it)",
     NULL, NONE, 0, NULL},
    {CS_SERVICE, "build", CS_NO, "stack runs images: building them is out of scope for now",
     "the section loads (string or long form, `context` resolved, `dockerfile` default) and "
     "`stack config` prints it",
     NONE, 0, NULL},
    {CS_SERVICE, "blkio_config", CS_NO, R_NO_DEVICES, NULL, NONE, 0, NULL},
    {CS_SERVICE, "cpu_count", CS_NO, R_CPU, NULL, NONE, 0, NULL},
    {CS_SERVICE, "cpu_percent", CS_NO, R_CPU, NULL, NONE, 0, NULL},
    {CS_SERVICE, "cpu_shares", CS_NO, R_CPU, NULL, NONE, 0, NULL},
    {CS_SERVICE, "cpu_quota", CS_NO, R_CPU, NULL, NONE, 0, NULL},
    {CS_SERVICE, "cpu_period", CS_NO, R_CPU, NULL, NONE, 0, NULL},
    {CS_SERVICE, "cpu_rt_period", CS_NO, R_CPU, NULL, NONE, 0, NULL},
    {CS_SERVICE, "cpu_rt_runtime", CS_NO, R_CPU, NULL, NONE, 0, NULL},
    {CS_SERVICE, "cpus", CS_YES, "the number of vCPUs (rounded up)",
     "under TCG, above 1 it also keeps a host thread per vCPU when VMs crowd the host, see "
     "how-it-works.md",
     NONE, 0, NULL},
    {CS_SERVICE, "cpuset", CS_NO, R_CPU, NULL, NONE, 0, NULL},
    {CS_SERVICE, "cap_add", CS_YES,
     "the guest applies capabilities as Docker computes them: Docker's default set (CHOWN, "
     "DAC_OVERRIDE, FSETID, FOWNER, MKNOD, NET_RAW, SETGID, SETUID, SETFCAP, SETPCAP, "
     "NET_BIND_SERVICE, SYS_CHROOT, KILL, AUDIT_WRITE) plus `cap_add` minus `cap_drop` (`ALL` in "
     "either), every capability with `privileged`",
     "the rest leave the process's bounding set (exec sessions and health checks too); the VM "
     "stays the isolation boundary",
     NONE, 0, NULL},
    {CS_SERVICE, "cap_drop", CS_YES, "see `cap_add`", NULL, NONE, 0, NULL},
    {CS_SERVICE, "cgroup", CS_NO, R_HOST_KERNEL, NULL, NONE, 0, NULL},
    {CS_SERVICE, "cgroup_parent", CS_NO, R_HOST_KERNEL, NULL, NONE, 0, NULL},
    {CS_SERVICE, "command", CS_YES, "a string is split like a shell, as compose-go does", NULL,
     NONE, 0, NULL},
    {CS_SERVICE, "configs", CS_YES,
     "written by the guest init before the process starts, at `/<name>` (or `target`)",
     "short and long syntax; `mode` (default 0444), numeric `uid`/`gid`; a source of more than "
     "512 KiB is refused; the files are copies, not bind mounts (a change on the host shows at "
     "the next start)",
     NONE, 0, NULL},
    {CS_SERVICE, "container_name", CS_YES, "also a DNS name",
     "Docker's rule for names, checked at load (see above)", NONE, 0, NULL},
    {CS_SERVICE, "credential_spec", CS_NO, "Windows containers only", NULL, NONE, 0, NULL},
    {CS_SERVICE, "depends_on", CS_YES,
     "conditions `service_started`, `service_healthy`, `service_completed_successfully`",
     "a list means `condition: service_started, required: true`; `restart: true` restarts the "
     "dependent on `stack restart` of the dependency and when `up` recreates the dependency's "
     "running container (not on policy restarts, as in Compose); cycles are an error naming the "
     "cycle",
     NONE, 0, NULL},
    {CS_SERVICE, "device_cgroup_rules", CS_NO, R_NO_DEVICES, NULL, NONE, 0, NULL},
    {CS_SERVICE, "devices", CS_NO, R_NO_DEVICES, NULL, NONE, 0, NULL},
    {CS_SERVICE, "dns", CS_YES, "written to the guest's /etc/resolv.conf", NULL, NONE, 0, NULL},
    {CS_SERVICE, "dns_opt", CS_YES, "see `dns`", NULL, NONE, 0, NULL},
    {CS_SERVICE, "dns_search", CS_YES, "see `dns`", NULL, NONE, 0, NULL},
    {CS_SERVICE, "domainname", CS_YES,
     "the guest's UTS domain name; `/etc/hosts` names the container `host.domain host` as Docker "
     "does",
     NULL, NONE, 0, NULL},
    {CS_SERVICE, "entrypoint", CS_YES, "as `command`", NULL, NONE, 0, NULL},
    {CS_SERVICE, "environment", CS_YES, "a list or a map; `KEY` alone takes the value from the environment", NULL, NONE, 0,
     NULL},
    {CS_SERVICE, "env_file", CS_YES,
     "the files' contents are merged into `environment`, as `docker compose config` shows",
     "string, list, long form with `required` and `format`", NONE, 0, NULL},
    {CS_SERVICE, "expose", CS_YES, "informational, as in Compose", NULL, NONE, 0, NULL},
    {CS_SERVICE, "extends", CS_YES, "resolved at load time (same file and other files)", NULL,
     NONE, 0, NULL},
    {CS_SERVICE, "external_links", CS_NO,
     "a VM reaches only its project's networks: containers outside the project have no name in "
     "them",
     NULL, NONE, 0, NULL},
    {CS_SERVICE, "extra_hosts", CS_YES, "written to the guest's /etc/hosts",
     "`host:ip`, `host=ip` or a map; printed as sorted `host=ip`", NONE, 0, NULL},
    {CS_SERVICE, "gpus", CS_NO, R_NO_DEVICES, NULL, NONE, 0, NULL},
    {CS_SERVICE, "group_add", CS_NO, "the guest does not add supplementary groups yet", NULL,
     NONE, 0, NULL},
    {CS_SERVICE, "healthcheck", CS_YES, "run through the guest agent",
     "`test` as a string means `CMD-SHELL`; durations are normalised (`90s` -> `1m30s`)", NONE, 0,
     NULL},
    {CS_SERVICE, "hostname", CS_YES, "the guest's host name", NULL, NONE, 0, NULL},
    {CS_SERVICE, "image", CS_YES, "`redis` means `docker.io/library/redis:latest`", NULL, NONE, 0,
     NULL},
    {CS_SERVICE, "init", CS_YES,
     "the guest init is always PID 1 and reaps every process: `init: true` changes nothing",
     NULL, NONE, 0, NULL},
    {CS_SERVICE, "ipc", CS_NO, R_HOST_KERNEL, NULL, NONE, 0, NULL},
    {CS_SERVICE, "isolation", CS_NO, R_HOST_KERNEL, NULL, NONE, 0, NULL},
    {CS_SERVICE, "labels", CS_NO, R_NO_API, NULL, NONE, 0, NULL},
    {CS_SERVICE, "label_file", CS_YES, "read at load time into `labels` (see there)", NULL, NONE,
     0, NULL},
    {CS_SERVICE, "links", CS_YES, "implicit dependencies and DNS names, as in Compose", NULL,
     NONE, 0, NULL},
    {CS_SERVICE, "logging", CS_NO,
     "stack logs reads the VM's output: logging drivers and their options are not used", NULL,
     NONE, 0, NULL},
    {CS_SERVICE, "network_mode", CS_PARTIAL,
     "`none` gives a VM without network; any other mode is an error at load",
     "`host` cannot share the host's network stack with a VM: publish ports with `ports:`; "
     "`service:`/`container:` cannot share another VM's stack: use `networks:`",
     NONE, 0, check_network_mode},
    {CS_SERVICE, "networks", CS_PARTIAL, "see the service network keys below", NULL,
     CS_SERVICE_NETWORK, 1, NULL},
    {CS_SERVICE, "mac_address", CS_NO, "not applied to the VM's interface yet", NULL, NONE, 0,
     NULL},
    {CS_SERVICE, "mem_limit", CS_YES, "the VM's memory", "sizes like `50M` are read as bytes",
     NONE, 0, NULL},
    {CS_SERVICE, "mem_reservation", CS_NO, R_MEM, NULL, NONE, 0, NULL},
    {CS_SERVICE, "mem_swappiness", CS_NO, R_MEM, NULL, NONE, 0, NULL},
    {CS_SERVICE, "memswap_limit", CS_NO, R_MEM, NULL, NONE, 0, NULL},
    {CS_SERVICE, "models", CS_NO, "AI model runners are out of scope", NULL, NONE, 0, NULL},
    {CS_SERVICE, "oom_kill_disable", CS_NO, R_HOST_KERNEL, NULL, NONE, 0, NULL},
    {CS_SERVICE, "oom_score_adj", CS_NO, R_HOST_KERNEL, NULL, NONE, 0, NULL},
    {CS_SERVICE, "pid", CS_NO, R_HOST_KERNEL, NULL, NONE, 0, NULL},
    {CS_SERVICE, "pids_limit", CS_YES,
     "the guest puts the container's processes, exec sessions and health checks included, in a "
     "cgroup with that `pids.max`",
     NULL, NONE, 0, NULL},
    {CS_SERVICE, "platform", CS_YES, "chooses the manifest of a multi-platform image", NULL, NONE,
     0, NULL},
    {CS_SERVICE, "ports", CS_YES, "published ports are proxied from the host to the VM",
     "ranges, host IPs (IPv6 too), `/udp`; one entry per port; duplicates across services are an "
     "error",
     NONE, 0, NULL},
    {CS_SERVICE, "post_start", CS_NO, "lifecycle hooks are not run yet", NULL, NONE, 0, NULL},
    {CS_SERVICE, "pre_stop", CS_NO, "lifecycle hooks are not run yet", NULL, NONE, 0, NULL},
    {CS_SERVICE, "privileged", CS_YES, "every capability (see `cap_add`)", NULL, NONE, 0, NULL},
    {CS_SERVICE, "profiles", CS_YES,
     "`--profile`, `COMPOSE_PROFILES`, services named on the command line", NULL, NONE, 0, NULL},
    {CS_SERVICE, "provider", CS_NO, "provider services (Compose plugins) are out of scope", NULL,
     NONE, 0, NULL},
    {CS_SERVICE, "pull_policy", CS_YES, "`if_not_present` means `missing`", NULL, NONE, 0, NULL},
    {CS_SERVICE, "pull_refresh_after", CS_NO, "not applied yet: use `pull_policy`", NULL, NONE, 0,
     NULL},
    {CS_SERVICE, "read_only", CS_YES,
     "the guest remounts the root read-only once configured; `tmpfs` mounts and the "
     "`/etc/hosts`, `/etc/hostname`, `/etc/resolv.conf` files stay writable, as with Docker",
     NULL, NONE, 0, NULL},
    {CS_SERVICE, "restart", CS_YES, "`no`, `always`, `on-failure[:N]`, `unless-stopped`", NULL,
     NONE, 0, NULL},
    {CS_SERVICE, "runtime", CS_NO, "every service runs in stack's VM runtime", NULL, NONE, 0,
     NULL},
    {CS_SERVICE, "scale", CS_YES, "the number of containers", NULL, NONE, 0, NULL},
    {CS_SERVICE, "secrets", CS_YES,
     "written by the guest init before the process starts, at `/run/secrets/<name>` (or `target`, "
     "relative ones under `/run/secrets`) on a tmpfs",
     "as `configs`", NONE, 0, NULL},
    {CS_SERVICE, "security_opt", CS_PARTIAL,
     "`no-new-privileges[:true]` sets it for every process of the container (exec sessions too); "
     "`seccomp=unconfined` is what the guest always is; other options are warned",
     "seccomp profiles, AppArmor and SELinux labels are not applied: the VM is the boundary, and "
     "the guest applies no default seccomp profile either",
     NONE, 0, check_security_opt},
    {CS_SERVICE, "shm_size", CS_YES, "a tmpfs of that size over `/dev/shm`", NULL, NONE, 0, NULL},
    {CS_SERVICE, "stdin_open", CS_YES,
     "the process gets a stdin that stays open (reads wait, as with `docker run -i` and nothing "
     "attached) instead of one at end of file",
     NULL, NONE, 0, NULL},
    {CS_SERVICE, "stop_grace_period", CS_YES,
     "the time between the stop signal and SIGKILL, for `stop`, `down`, `rm -s` and for `up` "
     "when it replaces a running container (stopped first, then removed, as Compose does)",
     NULL, NONE, 0, NULL},
    {CS_SERVICE, "stop_signal", CS_YES, "sent to the process by the guest", NULL, NONE, 0, NULL},
    {CS_SERVICE, "storage_opt", CS_NO, "the root disk is an ext4 image the size of the image",
     NULL, NONE, 0, NULL},
    {CS_SERVICE, "sysctls", CS_YES,
     "written to `/proc/sys` by the guest init before the process starts",
     "any setting works (the kernel is the container's own, not only the namespaced ones Docker "
     "allows); an unknown one fails the container with its name",
     NONE, 0, NULL},
    {CS_SERVICE, "tmpfs", CS_YES,
     "mounted by the guest after its root, with Docker's default flags `noexec,nosuid,nodev` "
     "(undone by `exec`, `suid`, `dev`)",
     "flag options (`ro`, `noexec`, `noatime`, ...) become mount flags, the rest (`size`, `mode`, "
     "`uid`, `gid`, `nr_inodes`) the tmpfs's options",
     NONE, 0, NULL},
    {CS_SERVICE, "tty", CS_YES, "the process gets a pty", NULL, NONE, 0, NULL},
    {CS_SERVICE, "ulimits", CS_YES, "applied by the guest init to the service's process", NULL,
     NONE, 0, NULL},
    {CS_SERVICE, "use_api_socket", CS_NO, "stack has no Docker API socket to give", NULL, NONE, 0,
     NULL},
    {CS_SERVICE, "user", CS_YES, "the process's user and group", NULL, NONE, 0, NULL},
    {CS_SERVICE, "userns_mode", CS_NO, R_HOST_KERNEL, NULL, NONE, 0, NULL},
    {CS_SERVICE, "uts", CS_NO, R_HOST_KERNEL, NULL, NONE, 0, NULL},
    {CS_SERVICE, "volumes", CS_PARTIAL,
     "bind mounts and volumes are host directories shared into the VM over virtio-9p; `type: "
     "tmpfs` is a tmpfs in the guest; other types (`npipe`, `cluster`, `image`), `volume.subpath`, "
     "`bind.propagation`, `bind.selinux` and `bind.create_host_path: false` are warned",
     "no guest cache: both sides see writes at once; read-only with `ro`; a bind mount's missing "
     "host directory is created; a single file is shared through a hard link (same file system "
     "as stack's state) and bound on its target by the guest, so the VM never sees the files "
     "beside it; a VM takes at most 4 networks and shared directories together (QEMU's microvm "
     "has 8 device slots; single files share one or two), more is an error; mounts are made "
     "parents first, as Docker sorts them; named volumes live in "
     "`<data root>/volumes/<name>/_data`, anonymous ones per container, and `down -v` removes the "
     "project's (not `external` ones, which must exist); an empty named or anonymous volume first "
     "gets the image's files at its target with their owners and modes, and the target's own "
     "owner and mode, as Docker does (not with `volume.nocopy` or `:ro`); `tmpfs.size` and "
     "`tmpfs.mode` apply; `consistency` has no effect (as on Docker for Linux).  Differences "
     "from Docker that keep the host safe (how-it-works.md, \"What the VM boundary protects\"): in "
     "a bind mount the guest's owners and modes are the host's, as with Docker, but a "
     "set-user-ID mode and a device node are refused (EPERM) and a set-group-ID bit does not "
     "stick; a named or anonymous volume keeps the guest's owners, modes, links and device nodes "
     "in xattrs (QEMU's `mapped-xattr`): on the host its files belong to the VM's QEMU with mode "
     "0600/0700; a bind mount of `/`, `/etc`, `/proc`, `/sys`, `/dev` (or what lies in the last "
     "three), the Docker socket (or a directory holding it), or stack's own state (its data "
     "root, cache and run directories, what lies in them or holds them; symbolic links "
     "resolved) is refused at load, naming file:line:col, unless the service or the project "
     "sets `x-stack-allow-host-paths: true` (`stack run SERVICE -v` follows the same rule)",
     NONE, 0, check_volumes},
    {CS_SERVICE, "volumes_from", CS_NO, "a VM cannot share another container's mounts",
     "adds an implicit dependency, as in Compose", NONE, 0, NULL},
    {CS_SERVICE, "working_dir", CS_YES, "the process's working directory", NULL, NONE, 0, NULL},

    /* services.NAME.networks.NET */
    {CS_SERVICE_NETWORK, "aliases", CS_YES, "DNS names on that network", NULL, NONE, 0, NULL},
    {CS_SERVICE_NETWORK, "interface_name", CS_NO, "the guest names its interfaces", NULL, NONE, 0,
     NULL},
    {CS_SERVICE_NETWORK, "ipv4_address", CS_YES, "the VM's address on that network", NULL, NONE,
     0, NULL},
    {CS_SERVICE_NETWORK, "ipv6_address", CS_NO, "no IPv6 on stack's networks yet", NULL, NONE, 0,
     NULL},
    {CS_SERVICE_NETWORK, "link_local_ips", CS_NO, "not applied to the VM's interface", NULL, NONE,
     0, NULL},
    {CS_SERVICE_NETWORK, "mac_address", CS_NO, "not applied to the VM's interface yet", NULL,
     NONE, 0, NULL},
    {CS_SERVICE_NETWORK, "driver_opts", CS_NO, "only the bridge driver, which takes none", NULL,
     NONE, 0, NULL},
    {CS_SERVICE_NETWORK, "priority", CS_NO, "not used to order the VM's interfaces", NULL, NONE, 0,
     NULL},
    {CS_SERVICE_NETWORK, "gw_priority", CS_NO, "not used to choose the VM's default route", NULL,
     NONE, 0, NULL},

    /* services.NAME.deploy */
    {CS_DEPLOY, "mode", CS_YES, "one host: `global` is one container, as `replicated` with one replica",
     NULL, NONE, 0, NULL},
    {CS_DEPLOY, "endpoint_mode", CS_NO, R_SWARM, NULL, NONE, 0, NULL},
    {CS_DEPLOY, "replicas", CS_YES, "the number of containers", NULL, NONE, 0, NULL},
    {CS_DEPLOY, "labels", CS_NO, R_SWARM, NULL, NONE, 0, NULL},
    {CS_DEPLOY, "rollback_config", CS_NO, R_SWARM, NULL, NONE, 0, NULL},
    {CS_DEPLOY, "update_config", CS_NO, R_SWARM, NULL, NONE, 0, NULL},
    {CS_DEPLOY, "resources", CS_PARTIAL, "see `deploy.resources` below", NULL, CS_RESOURCES, 0,
     NULL},
    {CS_DEPLOY, "restart_policy", CS_YES,
     "`condition`, `delay`, `max_attempts`, `window`, as `restart`", NULL, NONE, 0, NULL},
    {CS_DEPLOY, "placement", CS_NO, R_SWARM, NULL, NONE, 0, NULL},
    {CS_RESOURCES, "limits", CS_PARTIAL, "see `deploy.resources.limits` below", NULL, CS_LIMITS,
     0, NULL},
    {CS_RESOURCES, "reservations", CS_NO, "a VM has the memory and vCPUs it is given", NULL, NONE,
     0, NULL},
    {CS_LIMITS, "cpus", CS_YES, "as `cpus`", NULL, NONE, 0, NULL},
    {CS_LIMITS, "memory", CS_YES, "as `mem_limit`", NULL, NONE, 0, NULL},
    {CS_LIMITS, "pids", CS_YES, "as `pids_limit`", NULL, NONE, 0, NULL},
    {CS_DEVELOP, "watch", CS_NO, "no file watching (`up --watch`) yet", NULL, NONE, 0, NULL},

    /* networks.NAME */
    {CS_NETWORK, "name", CS_YES, "the network's name (not empty or blank)", NULL, NONE, 0, NULL},
    {CS_NETWORK, "driver", CS_PARTIAL, "`bridge`: another driver is an error at `up`", NULL, NONE,
     0, NULL},
    {CS_NETWORK, "driver_opts", CS_REFUSED, "an error at `up`: the bridge takes none", NULL, NONE,
     0, NULL},
    {CS_NETWORK, "ipam", CS_PARTIAL, "see `ipam` below", NULL, CS_IPAM, 0, NULL},
    {CS_NETWORK, "external", CS_YES, "the network must exist (made by another project)", NULL,
     NONE, 0, NULL},
    {CS_NETWORK, "internal", CS_YES, "no way out of the network", NULL, NONE, 0, NULL},
    {CS_NETWORK, "enable_ipv4", CS_PARTIAL, "every network has IPv4: `false` is warned", NULL,
     NONE, 0, check_enable_ipv4},
    {CS_NETWORK, "enable_ipv6", CS_PARTIAL, "`true` is an error at `up`: no IPv6 yet", NULL, NONE,
     0, NULL},
    {CS_NETWORK, "attachable", CS_NO, R_SWARM, NULL, NONE, 0, NULL},
    {CS_NETWORK, "labels", CS_NO, R_NO_API, NULL, NONE, 0, NULL},
    {CS_IPAM, "driver", CS_NO, "stack allocates the addresses itself", NULL, NONE, 0, NULL},
    {CS_IPAM, "config", CS_PARTIAL,
     "`subnet` and `gateway`; `ip_range` and `aux_addresses` are warned", NULL, NONE, 0,
     check_ipam_config},
    {CS_IPAM, "options", CS_NO, "stack allocates the addresses itself", NULL, NONE, 0, NULL},

    /* volumes.NAME */
    {CS_VOLUME, "name", CS_YES, "the directory's name", NULL, NONE, 0, NULL},
    {CS_VOLUME, "driver", CS_PARTIAL, "`local`: every volume is a local directory", NULL, NONE,
     0, check_volume_driver},
    {CS_VOLUME, "driver_opts", CS_NO, "every volume is a local directory", NULL, NONE, 0, NULL},
    {CS_VOLUME, "external", CS_YES, "the volume must exist; `down -v` leaves it", NULL, NONE, 0,
     NULL},
    {CS_VOLUME, "labels", CS_NO, R_NO_API, NULL, NONE, 0, NULL},

    /* secrets.NAME */
    {CS_SECRET, "name", CS_YES, "the secret's name", NULL, NONE, 0, NULL},
    {CS_SECRET, "environment", CS_YES,
     "the variable in the environment of the `stack` that started the project's supervisor",
     NULL, NONE, 0, NULL},
    {CS_SECRET, "file", CS_YES, "read on the host", NULL, NONE, 0, NULL},
    {CS_SECRET, "external", CS_REFUSED, "external secrets belong to Docker Swarm", NULL, NONE, 0,
     NULL},
    {CS_SECRET, "labels", CS_NO, R_NO_API, NULL, NONE, 0, NULL},
    {CS_SECRET, "driver", CS_NO, R_SWARM, NULL, NONE, 0, NULL},
    {CS_SECRET, "driver_opts", CS_NO, R_SWARM, NULL, NONE, 0, NULL},
    {CS_SECRET, "template_driver", CS_NO, R_SWARM, NULL, NONE, 0, NULL},

    /* configs.NAME */
    {CS_CONFIG, "name", CS_YES, "the config's name", NULL, NONE, 0, NULL},
    {CS_CONFIG, "content", CS_YES, "the file's content, inline", NULL, NONE, 0, NULL},
    {CS_CONFIG, "environment", CS_YES, "as for secrets", NULL, NONE, 0, NULL},
    {CS_CONFIG, "file", CS_YES, "read on the host", NULL, NONE, 0, NULL},
    {CS_CONFIG, "external", CS_REFUSED, "external configs belong to Docker Swarm", NULL, NONE, 0,
     NULL},
    {CS_CONFIG, "labels", CS_NO, R_NO_API, NULL, NONE, 0, NULL},
    {CS_CONFIG, "template_driver", CS_NO, R_SWARM, NULL, NONE, 0, NULL},
};

const struct cs_key *cs_table(enum cs_scope scope, size_t *n) {
  /* the entries of a scope are contiguous */
  const struct cs_key *first = NULL;
  *n = 0;
  for (size_t i = 0; i < sizeof(keys) / sizeof(keys[0]); i++)
    if (keys[i].scope == scope) {
      if (first == NULL)
        first = &keys[i];
      (*n)++;
    }
  return first;
}

const struct cs_key *cs_lookup(enum cs_scope scope, const char *key) {
  size_t n;
  const struct cs_key *t = cs_table(scope, &n);
  for (size_t i = 0; i < n; i++)
    if (strcmp(t[i].key, key) == 0)
      return &t[i];
  return NULL;
}

const char *cs_level_name(enum cs_level level) {
  switch (level) {
  case CS_YES:
    return "yes";
  case CS_PARTIAL:
    return "partial";
  case CS_NO:
    return "no";
  case CS_REFUSED:
    return "refused";
  }
  return "?";
}

const char *cs_scope_name(enum cs_scope scope) {
  static const char *const names[CS_N_SCOPES] = {
      [CS_TOP] = "top",
      [CS_SERVICE] = "service",
      [CS_SERVICE_NETWORK] = "service-network",
      [CS_DEPLOY] = "deploy",
      [CS_RESOURCES] = "deploy.resources",
      [CS_LIMITS] = "deploy.resources.limits",
      [CS_DEVELOP] = "develop",
      [CS_NETWORK] = "network",
      [CS_IPAM] = "ipam",
      [CS_VOLUME] = "volume",
      [CS_SECRET] = "secret",
      [CS_CONFIG] = "config",
  };
  return scope < CS_N_SCOPES ? names[scope] : "?";
}

/* Whether a key's value leaves things as they would be without the key. */
static bool unset(const struct cnode *v) {
  bool b = true;
  if (v == NULL || cnode_is_null(v))
    return true;
  if (v->kind == CNODE_SEQ || v->kind == CNODE_MAP)
    return v->n == 0;
  return cscalar_parse_bool(v->str, &b) && !b;
}

static void walk(enum cs_scope scope, const struct cnode *obj, const char *prefix,
                 struct sbuf *b) {
  for (size_t i = 0; obj && obj->kind == CNODE_MAP && i < obj->n; i++) {
    const char *key = obj->pairs[i].key->str;
    const struct cnode *v = obj->pairs[i].value;
    if (strncmp(key, "x-", 2) == 0 || v == NULL || cnode_is_null(v))
      continue;
    const struct cs_key *k = cs_lookup(scope, key);
    if (k == NULL) {
      /* the schema let it through: a key newer than this table */
      item(b, prefix, key, "a Compose key stack does not know yet");
      continue;
    }
    if (k->level == CS_NO) {
      if (!unset(v))
        item(b, prefix, key, k->reason);
    } else if (k->level == CS_PARTIAL && k->sub != NONE) {
      if (k->each) {
        for (size_t j = 0; v->kind == CNODE_MAP && j < v->n; j++) {
          _cleanup_free_ char *p = xasprintf("%s%s.%s.", prefix, key, v->pairs[j].key->str);
          walk(k->sub, v->pairs[j].value, p, b);
        }
      } else {
        _cleanup_free_ char *p = xasprintf("%s%s.", prefix, key);
        walk(k->sub, v, p, b);
      }
    } else if (k->level == CS_PARTIAL && k->check) {
      k->check(v, prefix, b);
    }
  }
}

char *cs_unhonoured(enum cs_scope scope, const struct cnode *obj) {
  struct sbuf b = SBUF_INIT;
  walk(scope, obj, "", &b);
  return b.len ? sbuf_steal(&b) : NULL;
}

char *cs_doc_table(enum cs_scope scope) {
  struct sbuf b = SBUF_INIT;
  sbuf_puts(&b, "| key | stack | notes |\n|---|---|---|\n");
  size_t n;
  const struct cs_key *t = cs_table(scope, &n);
  for (size_t i = 0; i < n; i++) {
    static const char *const shown[] = {
        [CS_YES] = "yes",
        [CS_PARTIAL] = "partial",
        [CS_NO] = "no: warned",
        [CS_REFUSED] = "no: an error",
    };
    sbuf_printf(&b, "| `%s` | %s | %s%s%s |\n", t[i].key, shown[t[i].level], t[i].reason,
                t[i].doc ? "; " : "", t[i].doc ? t[i].doc : "");
  }
  return sbuf_steal(&b);
}
