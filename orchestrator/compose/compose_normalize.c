/* compose-go's Normalize (loader/normalize.go): the implicit parts of a
 * project made explicit, so that `stack config` shows what will run and the
 * model needs no defaults of its own: the default network, resource names
 * prefixed with the project name, the default Dockerfile, implicit
 * dependencies (links, network_mode/ipc/pid/uts/cgroup "service:x",
 * volumes_from). */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "compose_canonical_util.h"
#include "compose_normalize.h"
#include "compose_scalar.h"
#include "runtime/util/cleanup.h"
#include "runtime/util/error.h"
#include "runtime/util/xalloc.h"

static bool is_true(const struct cnode *n) {
  bool b = false;
  return n && n->kind == CNODE_SCALAR && cscalar_parse_bool(n->str, &b) && b;
}

static struct cnode *ensure_map(struct cnode *parent, const char *key, const struct cnode *at) {
  struct cnode_pair *p = cnode_map_get_pair(parent, key);
  if (p && p->value && p->value->kind == CNODE_MAP)
    return p->value;
  struct cnode *m = cn_container(CNODE_MAP, p && p->value ? p->value : at);
  cnode_map_set(parent, key, m);
  return m;
}

static void normalize_networks(struct cnode *project) {
  struct cnode *services = cnode_map_get(project, "services");
  bool uses_default = false;
  for (size_t i = 0; services && services->kind == CNODE_MAP && i < services->n; i++) {
    struct cnode *s = services->pairs[i].value;
    if (s == NULL || s->kind != CNODE_MAP || cnode_map_get(s, "provider") ||
        cnode_map_get(s, "network_mode"))
      continue;
    struct cnode *nets = cnode_map_get(s, "networks");
    if (nets == NULL || nets->kind != CNODE_MAP || nets->n == 0) {
      struct cnode *m = cn_container(CNODE_MAP, services->pairs[i].key);
      cnode_map_set(m, "default", cn_container(CNODE_NULL, services->pairs[i].key));
      cnode_map_set(s, "networks", m);
      uses_default = true;
    } else if (cnode_map_get_pair(nets, "default")) {
      uses_default = true;
    }
  }
  if (!uses_default)
    return;
  struct cnode *top = ensure_map(project, "networks", project);
  if (!cnode_map_get_pair(top, "default"))
    cnode_map_set(top, "default", cn_container(CNODE_MAP, top));
}

/* depends_on[name] = {condition: service_started, restart, required: true}
 * unless the service already says something about name. */
static void implicit_dep(struct cnode *s, const char *name, bool restart, const struct cnode *at) {
  if (name == NULL || *name == '\0')
    return;
  struct cnode *deps = ensure_map(s, "depends_on", at);
  if (cnode_map_get_pair(deps, name))
    return;
  struct cnode *d = cn_container(CNODE_MAP, at);
  cnode_map_set(d, "condition", cn_str("service_started", at));
  cnode_map_set(d, "restart", cn_plain(restart ? "true" : "false", at));
  cnode_map_set(d, "required", cn_plain("true", at));
  cnode_map_set_node(deps, cn_str(name, at), d);
}

static void normalize_service(struct cnode *s) {
  if (s == NULL || s->kind != CNODE_MAP)
    return;
  struct cnode *pp = cnode_map_get(s, "pull_policy");
  if (pp && pp->kind == CNODE_SCALAR && !strcmp(pp->str, "if_not_present")) {
    free(pp->str);
    pp->str = xstrdup("missing");
  }
  struct cnode *build = cnode_map_get(s, "build");
  if (build && build->kind == CNODE_MAP && !cnode_map_get(build, "dockerfile") &&
      !cnode_map_get(build, "dockerfile_inline"))
    cnode_map_set(build, "dockerfile", cn_str("Dockerfile", build));

  struct cnode *links = cnode_map_get(s, "links");
  for (size_t i = 0; links && links->kind == CNODE_SEQ && i < links->n; i++) {
    const struct cnode *l = links->items[i];
    if (l->kind != CNODE_SCALAR)
      continue;
    const char *colon = strchr(l->str, ':');
    _cleanup_free_ char *name = colon ? xstrndup(l->str, colon - l->str) : xstrdup(l->str);
    implicit_dep(s, name, true, l);
  }
  static const char *const ns[] = {"network_mode", "ipc", "pid", "uts", "cgroup"};
  for (size_t i = 0; i < sizeof(ns) / sizeof(ns[0]); i++) {
    const struct cnode *v = cnode_map_get(s, ns[i]);
    if (v && v->kind == CNODE_SCALAR && strncmp(v->str, "service:", 8) == 0)
      implicit_dep(s, v->str + 8, true, v);
  }
  struct cnode *vf = cnode_map_get(s, "volumes_from");
  for (size_t i = 0; vf && vf->kind == CNODE_SEQ && i < vf->n; i++) {
    const struct cnode *v = vf->items[i];
    if (v->kind != CNODE_SCALAR || strncmp(v->str, "container:", 10) == 0)
      continue;
    const char *colon = strchr(v->str, ':');
    _cleanup_free_ char *name = colon ? xstrndup(v->str, colon - v->str) : xstrdup(v->str);
    implicit_dep(s, name, false, v);
  }
}

static void name_from_key(struct cnode *project, const char *project_name) {
  static const char *const sections[] = {"networks", "volumes", "configs", "secrets"};
  for (size_t k = 0; k < sizeof(sections) / sizeof(sections[0]); k++) {
    struct cnode *top = cnode_map_get(project, sections[k]);
    for (size_t i = 0; top && top->kind == CNODE_MAP && i < top->n; i++) {
      struct cnode_pair *p = &top->pairs[i];
      if (p->value == NULL || p->value->kind != CNODE_MAP) {
        cnode_free(p->value);
        p->value = cn_container(CNODE_MAP, p->key);
      }
      if (cnode_map_get(p->value, "name"))
        continue;
      _cleanup_free_ char *name = is_true(cnode_map_get(p->value, "external"))
                                      ? xstrdup(p->key->str)
                                      : xasprintf("%s_%s", project_name, p->key->str);
      cnode_map_set(p->value, "name", cn_str(name, p->key));
    }
  }
}

int compose_normalize(struct cnode *project, struct stack_error **err) {
  if (project == NULL || project->kind != CNODE_MAP)
    return 0;
  const char *name = cnode_map_get_str(project, "name");
  if (name == NULL || *name == '\0')
    return stack_error_set(err, -EINVAL,
                           "internal error: the project has no name before normalisation");
  normalize_networks(project);
  struct cnode *services = cnode_map_get(project, "services");
  for (size_t i = 0; services && services->kind == CNODE_MAP && i < services->n; i++)
    normalize_service(services->pairs[i].value);
  _cleanup_free_ char *pname = xstrdup(name);
  name_from_key(project, pname);
  /* every node added above is typed already (strings quoted) */
  compose_sort_extra_hosts(project);
  return 0;
}
