/* What starting a container would refuse, checked when the file is loaded,
 * so that `stack config` reports it with the file position and `up` creates
 * nothing (no supervisor, state, bridge) for a file that cannot run:
 *
 *   names       container_name, volume/network/secret/config `name:`,
 *               external volumes' keys, and the container names made from
 *               project and service names (compose_names.h): names that
 *               become files under stack's state must be plain names
 *   paths       mount, tmpfs, secret and config targets and working_dir
 *               are absolute paths in the container, without ".."
 *   network     network_mode other than none, which a VM cannot share
 *   sizes       one environment variable or command word at most
 *               COMPOSE_ARG_MAX bytes, a service's command, entrypoint and
 *               environment together at most COMPOSE_EXEC_MAX
 *   VM keys     x-stack-tcg-cache is a size in MiB the VM runtime takes,
 *               x-stack-template-ram one of its words (the supervisor
 *               checks them again, without the file position)
 *
 * It runs on the merged tree before normalisation, where a `name:` is one
 * the user wrote (the defaults, "<project>_<key>", are valid by
 * construction). */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "compose_canonical_util.h"
#include "compose_names.h"
#include "compose_scalar.h"
#include "compose_validate.h"
#include "runtime/util/bytesize.h"
#include "runtime/util/cleanup.h"
#include "runtime/util/error.h"
#include "runtime/util/xalloc.h"
#include "runtime/vm/accel.h"

/* what a message shows of a long value */
#define SHOWN 80

static const char *scalar(const struct cnode *n) {
  return n && n->kind == CNODE_SCALAR && !cnode_is_null(n) ? n->str : NULL;
}

static bool is_true(const struct cnode *n) {
  bool b = false;
  return scalar(n) && cscalar_parse_bool(n->str, &b) && b;
}

static int bad_name(struct stack_error **err, const struct cnode *at, const char *field,
                    enum compose_name_kind kind, const char *name) {
  _cleanup_error_ struct stack_error *e = NULL;
  if (compose_name_check(kind, name, &e) == 0)
    return 0;
  return cn_fail(err, at, NULL, "%s: %s", field, e->msg);
}

/* The section's objects: an explicit `name:` follows kind's rule, and so
 * does the key of an external one without a name (it is its name). */
static int check_section(const struct cnode *project, const char *section,
                         enum compose_name_kind kind, struct stack_error **err) {
  const struct cnode *top = cnode_map_get(project, section);
  for (size_t i = 0; top && top->kind == CNODE_MAP && i < top->n; i++) {
    const struct cnode_pair *p = &top->pairs[i];
    const struct cnode *name = cnode_map_get(p->value, "name");
    const struct cnode *ext = cnode_map_get(p->value, "external");
    /* the legacy form, external: {name: x} */
    const struct cnode *ext_name = ext && ext->kind == CNODE_MAP ? cnode_map_get(ext, "name") : NULL;
    _cleanup_free_ char *field = NULL;
    int r = 0;
    if (scalar(name)) {
      field = xasprintf("%s.%s.name", section, p->key->str);
      r = bad_name(err, name, field, kind, name->str);
    } else if (scalar(ext_name)) {
      field = xasprintf("%s.%s.external.name", section, p->key->str);
      r = bad_name(err, ext_name, field, kind, ext_name->str);
    } else if (is_true(ext) || (ext && ext->kind == CNODE_MAP)) {
      field = xasprintf("%s.%s", section, p->key->str);
      r = bad_name(err, p->key, field, kind, p->key->str);
    }
    if (r < 0)
      return r;
  }
  return 0;
}

/* "/a/b" without "." or ".." components (and not "/" itself) */
static bool clean_absolute(const char *p, bool root_ok) {
  if (p == NULL || p[0] != '/')
    return false;
  bool any = false;
  for (const char *c = p; *c;) {
    while (*c == '/')
      c++;
    const char *e = strchrnul(c, '/');
    size_t n = (size_t)(e - c);
    if ((n == 1 && c[0] == '.') || (n == 2 && c[0] == '.' && c[1] == '.'))
      return false;
    any |= n > 0;
    c = e;
  }
  return any || root_ok;
}

static int check_target(struct stack_error **err, const struct cnode *at, const char *field,
                        const char *target) {
  if (target == NULL || target[0] != '/')
    return cn_fail(err, at, NULL,
                   "%s: \"%.*s\" is not an absolute path; a mount target is where the container "
                   "sees it, such as /data",
                   field, SHOWN, target ? target : "");
  if (!clean_absolute(target, false))
    return cn_fail(err, at, NULL,
                   "%s: \"%.*s\" must be an absolute path without \".\" or \"..\" components, "
                   "and not / itself",
                   field, SHOWN, target);
  return 0;
}

static int check_mounts(const char *svc, const struct cnode *s, struct stack_error **err) {
  const struct cnode *vols = cnode_map_get(s, "volumes");
  for (size_t i = 0; vols && vols->kind == CNODE_SEQ && i < vols->n; i++) {
    const struct cnode *v = vols->items[i];
    const char *type = cnode_map_get_str(v, "type");
    if (type == NULL || (strcmp(type, "bind") && strcmp(type, "volume") && strcmp(type, "tmpfs")))
      continue; /* others are not run (warned) */
    const struct cnode *t = cnode_map_get(v, "target");
    _cleanup_free_ char *field = xasprintf("services.%s.volumes[%zu].target", svc, i);
    int r = check_target(err, t ? t : v, field, scalar(t));
    if (r < 0)
      return r;
  }
  const struct cnode *tmpfs = cnode_map_get(s, "tmpfs");
  for (size_t i = 0; tmpfs && tmpfs->kind == CNODE_SEQ && i < tmpfs->n; i++) {
    const char *t = scalar(tmpfs->items[i]);
    if (t == NULL)
      continue;
    _cleanup_free_ char *target = xstrndup(t, strcspn(t, ":"));
    _cleanup_free_ char *field = xasprintf("services.%s.tmpfs[%zu]", svc, i);
    int r = check_target(err, tmpfs->items[i], field, target);
    if (r < 0)
      return r;
  }
  const struct cnode *wd = cnode_map_get(s, "working_dir");
  if (scalar(wd) && *wd->str && !clean_absolute(wd->str, true))
    return cn_fail(err, wd, NULL,
                   "services.%s.working_dir: \"%.*s\" must be an absolute path without \".\" or "
                   "\"..\" components",
                   svc, SHOWN, wd->str);
  return 0;
}

/* secrets land in /run/secrets/<target or source>, configs in /<...>,
 * unless the target is absolute */
static int check_files(const char *svc, const struct cnode *s, const char *section,
                       struct stack_error **err) {
  const struct cnode *refs = cnode_map_get(s, section);
  bool secret = strcmp(section, "secrets") == 0;
  for (size_t i = 0; refs && refs->kind == CNODE_SEQ && i < refs->n; i++) {
    const struct cnode *e = refs->items[i];
    const struct cnode *t = e->kind == CNODE_MAP ? cnode_map_get(e, "target") : NULL;
    const struct cnode *src = e->kind == CNODE_MAP ? cnode_map_get(e, "source") : e;
    const struct cnode *at = scalar(t) ? t : src;
    const char *name = scalar(at);
    if (name == NULL)
      continue;
    _cleanup_free_ char *path = name[0] == '/' ? xstrdup(name)
                                : secret       ? xasprintf("/run/secrets/%s", name)
                                               : xasprintf("/%s", name);
    if (!clean_absolute(path, false))
      return cn_fail(err, at, NULL,
                     "services.%s.%s[%zu]: the file would be %.*s: a target must be a path "
                     "without \".\" or \"..\" components (and not / itself)",
                     svc, section, i, SHOWN, path);
  }
  return 0;
}

static int check_word(struct stack_error **err, const struct cnode *at, const char *field,
                      size_t len) {
  if (len <= COMPOSE_ARG_MAX)
    return 0;
  return cn_fail(err, at, NULL,
                 "%s: %zu bytes; a program is given at most %u bytes per argument or environment "
                 "variable (Linux's limit for one string)",
                 field, len, COMPOSE_ARG_MAX);
}

static int check_sizes(const char *svc, const struct cnode *s, struct stack_error **err) {
  size_t total = 0;
  static const char *const cmds[] = {"command", "entrypoint"};
  for (size_t k = 0; k < 2; k++) {
    const struct cnode *c = cnode_map_get(s, cmds[k]);
    for (size_t i = 0; c && c->kind == CNODE_SEQ && i < c->n; i++) {
      const char *w = scalar(c->items[i]);
      size_t len = w ? strlen(w) : 0;
      _cleanup_free_ char *field = xasprintf("services.%s.%s[%zu]", svc, cmds[k], i);
      int r = check_word(err, c->items[i], field, len);
      if (r < 0)
        return r;
      total += len + 1;
    }
  }
  const struct cnode *env = cnode_map_get(s, "environment");
  for (size_t i = 0; env && env->kind == CNODE_MAP && i < env->n; i++) {
    const struct cnode_pair *p = &env->pairs[i];
    const char *v = scalar(p->value);
    if (v == NULL)
      continue;
    size_t len = strlen(p->key->str) + 1 + strlen(v);
    _cleanup_free_ char *field = xasprintf("services.%s.environment.%.*s", svc, SHOWN, p->key->str);
    int r = check_word(err, p->value, field, len);
    if (r < 0)
      return r;
    total += len + 1;
  }
  if (total > COMPOSE_EXEC_MAX)
    return cn_fail(err, env ? env : s, NULL,
                   "services.%s: the command, entrypoint and environment take %zu bytes; stack "
                   "passes at most %u to a container's process",
                   svc, total, COMPOSE_EXEC_MAX);
  return 0;
}

/* network_mode: only `none` means something for a service with its own VM
 * and network stack; the rest would fail at start, after the project's
 * networks and the container were made. */
static int check_network_mode(const char *svc, const struct cnode *s, struct stack_error **err) {
  const struct cnode *nm = cnode_map_get(s, "network_mode");
  const char *mode = scalar(nm);
  if (mode == NULL || strcmp(mode, "none") == 0)
    return 0;
  if (strcmp(mode, "host") == 0)
    return cn_fail(err, nm, NULL,
                   "services.%.*s.network_mode: \"host\" is not possible: each service runs in "
                   "its own VM, whose network stack cannot be the host's; remove it and publish "
                   "the ports the service listens on with `ports:`",
                   SHOWN, svc);
  if (strncmp(mode, "service:", 8) == 0 || strncmp(mode, "container:", 10) == 0)
    return cn_fail(err, nm, NULL,
                   "services.%.*s.network_mode: \"%.*s\" is not possible: each service runs in "
                   "its own VM with its own network stack, which it cannot share with another; "
                   "put both services on one network with `networks:` instead",
                   SHOWN, svc, SHOWN, mode);
  return cn_fail(err, nm, NULL,
                 "services.%.*s.network_mode: \"%.*s\" is not supported: stack gives a service "
                 "its project's networks (`networks:`) or none (`network_mode: none`)",
                 SHOWN, svc, SHOWN, mode);
}

static int check_vm_keys(const char *svc, const struct cnode *s, struct stack_error **err) {
  const struct cnode *c = cnode_map_get(s, COMPOSE_TCG_CACHE_KEY);
  unsigned mib;
  if (c && (!scalar(c) || parse_mib(c->str, VM_TCG_CACHE_MIN_MIB, VM_TCG_CACHE_MAX_MIB, &mib) < 0))
    return cn_fail(err, c, NULL,
                   "services.%s.%s: \"%.*s\" is not a size in MiB from %d to %d (\"64\", \"64M\", "
                   "\"1G\"): the VM's TCG translation cache",
                   svc, COMPOSE_TCG_CACHE_KEY, SHOWN, scalar(c) ? c->str : "", VM_TCG_CACHE_MIN_MIB,
                   VM_TCG_CACHE_MAX_MIB);
  const struct cnode *t = cnode_map_get(s, COMPOSE_TEMPLATE_RAM_KEY);
  const char *v = scalar(t);
  if (t && (!v || (strcmp(v, "shared") != 0 && strcmp(v, "private") != 0 && strcmp(v, "auto") != 0)))
    return cn_fail(err, t, NULL,
                   "services.%s.%s: \"%.*s\" is not \"shared\", \"private\" or \"auto\" (whether the "
                   "VM maps its template's RAM or copies it)",
                   svc, COMPOSE_TEMPLATE_RAM_KEY, SHOWN, v ? v : "");
  return 0;
}

int compose_validate_runnable(const struct cnode *project, struct stack_error **err) {
  const char *pname = cnode_map_get_str(project, "name");
  const struct cnode *services = cnode_map_get(project, "services");
  for (size_t i = 0; services && services->kind == CNODE_MAP && i < services->n; i++) {
    const struct cnode_pair *sp = &services->pairs[i];
    const char *svc = sp->key->str;
    const struct cnode *s = sp->value;
    if (s == NULL || s->kind != CNODE_MAP)
      continue;
    const struct cnode *cn = cnode_map_get(s, "container_name");
    int r = 0;
    if (scalar(cn)) {
      /* Docker drops one leading '/' */
      _cleanup_free_ char *field = xasprintf("services.%s.container_name", svc);
      r = bad_name(err, cn, field, COMPOSE_NAME_CONTAINER,
                   cn->str[0] == '/' ? cn->str + 1 : cn->str);
    } else if (pname) {
      /* the longest name stack gives it: "<project>-<service>-run-<12 hex>" */
      size_t len = strlen(pname) + strlen(svc) + strlen("--run-") + 12;
      if (len > COMPOSE_CONTAINER_NAME_MAX)
        r = cn_fail(err, sp->key, NULL,
                    "services.%.*s: the service name is too long: with project \"%s\" its "
                    "containers' names (<project>-<service>-run-<id>) would take %zu bytes, "
                    "more than %d; use a shorter service or project name, or container_name",
                    SHOWN, svc, pname, len, COMPOSE_CONTAINER_NAME_MAX);
    }
    if (r == 0)
      r = check_network_mode(svc, s, err);
    if (r == 0)
      r = check_mounts(svc, s, err);
    if (r == 0)
      r = check_files(svc, s, "secrets", err);
    if (r == 0)
      r = check_files(svc, s, "configs", err);
    if (r == 0)
      r = check_sizes(svc, s, err);
    if (r == 0)
      r = check_vm_keys(svc, s, err);
    if (r < 0)
      return r;
  }
  int r = check_section(project, "volumes", COMPOSE_NAME_VOLUME, err);
  if (r == 0)
    r = check_section(project, "networks", COMPOSE_NAME_NETWORK, err);
  if (r == 0)
    r = check_section(project, "secrets", COMPOSE_NAME_SECRET, err);
  if (r == 0)
    r = check_section(project, "configs", COMPOSE_NAME_CONFIG, err);
  return r;
}
