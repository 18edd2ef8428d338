/* Project-level checks on the merged canonical tree: what a per-file schema
 * cannot see (references between services and top-level resources,
 * dependency cycles, two services publishing one host port, bind mounts of
 * host paths that give the host away: compose_host_paths.h). */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "compose_canonical_util.h"
#include "compose_graph.h"
#include "compose_host_paths.h"
#include "compose_scalar.h"
#include "compose_validate.h"
#include "runtime/util/cleanup.h"
#include "runtime/util/error.h"
#include "runtime/util/xalloc.h"

static bool defined(const struct cnode *project, const char *section, const char *name) {
  return cnode_map_get_pair(cnode_map_get(project, section), name) != NULL;
}

static int check_file_refs(const struct cnode *project, const char *svc, const struct cnode *list,
                           const char *section, struct stack_error **err) {
  if (list == NULL || list->kind != CNODE_SEQ)
    return 0;
  for (size_t i = 0; i < list->n; i++) {
    const struct cnode *e = list->items[i];
    const struct cnode *src = e->kind == CNODE_MAP ? cnode_map_get(e, "source") : e;
    if (src == NULL || src->kind != CNODE_SCALAR)
      continue;
    if (!defined(project, section, src->str))
      return cn_fail(err, src, svc,
                     "uses %s \"%s\", which is not defined; add it under the top-level \"%s:\"",
                     section[0] == 's' ? "secret" : "config", src->str, section);
  }
  return 0;
}

static int check_service(const struct cnode *project, const struct cnode_pair *sp,
                         struct stack_error **err) {
  const char *svc = sp->key->str;
  const struct cnode *s = sp->value;
  if (s == NULL || s->kind != CNODE_MAP)
    return cn_fail(err, sp->key, svc, "must be a mapping");
  if (!cnode_map_get(s, "image") && !cnode_map_get(s, "build") && !cnode_map_get(s, "provider"))
    return cn_fail(err, sp->key, svc,
                   "has neither an image nor a build context specified; add \"image:\" or "
                   "\"build:\"");

  const struct cnode *nets = cnode_map_get(s, "networks");
  for (size_t i = 0; nets && nets->kind == CNODE_MAP && i < nets->n; i++) {
    const char *net = nets->pairs[i].key->str;
    if (strcmp(net, "default") != 0 && !defined(project, "networks", net))
      return cn_fail(err, nets->pairs[i].key, svc,
                     "uses network \"%s\", which is not defined; add it under the top-level "
                     "\"networks:\"",
                     net);
  }
  const struct cnode *vols = cnode_map_get(s, "volumes");
  for (size_t i = 0; vols && vols->kind == CNODE_SEQ && i < vols->n; i++) {
    const struct cnode *v = vols->items[i];
    const char *type = cnode_map_get_str(v, "type");
    const struct cnode *src = cnode_map_get(v, "source");
    if (type && strcmp(type, "volume") == 0 && src && src->kind == CNODE_SCALAR &&
        src->str[0] && !defined(project, "volumes", src->str))
      return cn_fail(err, src, svc,
                     "uses volume \"%s\", which is not defined; add it under the top-level "
                     "\"volumes:\" (or use a path such as ./%s for a bind mount)",
                     src->str, src->str);
    if (type && strcmp(type, "bind") == 0 && src && src->kind == CNODE_SCALAR &&
        !compose_host_paths_allowed(project, s)) {
      _cleanup_free_ char *why = compose_host_path_sensitive(src->str, NULL);
      if (why) {
        bool ro = false;
        const char *ro_text = cnode_map_get_str(v, "read_only");
        if (ro_text)
          cscalar_parse_bool(ro_text, &ro);
        _cleanup_free_ char *msg = compose_host_path_refusal(src->str, why, ro);
        return cn_fail(err, src, svc, "%s", msg);
      }
    }
  }
  int r = check_file_refs(project, svc, cnode_map_get(s, "secrets"), "secrets", err);
  if (r == 0)
    r = check_file_refs(project, svc, cnode_map_get(s, "configs"), "configs", err);
  if (r == 0)
    r = check_file_refs(project, svc, cnode_map_get(cnode_map_get(s, "build"), "secrets"),
                        "secrets", err);
  if (r < 0)
    return r;

  const struct cnode *services = cnode_map_get(project, "services");
  const struct cnode *deps = cnode_map_get(s, "depends_on");
  for (size_t i = 0; deps && deps->kind == CNODE_MAP && i < deps->n; i++) {
    const char *dep = deps->pairs[i].key->str;
    const char *req = cnode_map_get_str(deps->pairs[i].value, "required");
    bool required = true;
    if (req)
      cscalar_parse_bool(req, &required);
    if (cnode_map_get_pair(services, dep) == NULL && required)
      return cn_fail(err, deps->pairs[i].key, svc,
                     "depends on undefined service \"%s\"; define it, fix the name, or mark the "
                     "dependency \"required: false\"",
                     dep);
  }
  return 0;
}

static int check_cycles(const struct cnode *services, struct stack_error **err) {
  size_t n = services->n;
  _cleanup_free_ size_t **deps = xcalloc(n + 1, sizeof(*deps));
  _cleanup_free_ size_t *n_deps = xcalloc(n + 1, sizeof(*n_deps));
  _cleanup_free_ const char **names = xcalloc(n + 1, sizeof(*names));
  for (size_t i = 0; i < n; i++) {
    names[i] = services->pairs[i].key->str;
    const struct cnode *d = cnode_map_get(services->pairs[i].value, "depends_on");
    if (d == NULL || d->kind != CNODE_MAP)
      continue;
    deps[i] = xcalloc(d->n + 1, sizeof(size_t));
    for (size_t j = 0; j < d->n; j++)
      for (size_t k = 0; k < n; k++)
        if (strcmp(services->pairs[k].key->str, d->pairs[j].key->str) == 0)
          deps[i][n_deps[i]++] = k;
  }
  _cleanup_free_ char *cycle = compose_graph_find_cycle(n, deps, n_deps, names);
  for (size_t i = 0; i < n; i++)
    free(deps[i]);
  if (cycle) {
    const struct cnode *first = NULL;
    /* point at the first service of the cycle */
    const char *sp = strstr(cycle, " -> ");
    for (size_t i = 0; sp && i < n; i++)
      if (strlen(names[i]) == (size_t)(sp - cycle) && strncmp(names[i], cycle, sp - cycle) == 0)
        first = services->pairs[i].key;
    return cn_fail(err, first ? first : services, NULL,
                   "dependency cycle between services: %s; remove one of these depends_on", cycle);
  }
  return 0;
}

struct published {
  const char *service;
  const struct cnode *node;
  const char *ip;
  const char *proto;
  long port;
};

static bool wildcard(const char *ip) {
  return ip == NULL || !*ip || !strcmp(ip, "0.0.0.0") || !strcmp(ip, "::");
}

static int check_ports(const struct cnode *services, struct stack_error **err) {
  struct published *pub = NULL;
  size_t n = 0, cap = 0;
  int r = 0;
  for (size_t i = 0; i < services->n && r == 0; i++) {
    const struct cnode *ports = cnode_map_get(services->pairs[i].value, "ports");
    for (size_t j = 0; ports && ports->kind == CNODE_SEQ && j < ports->n && r == 0; j++) {
      const struct cnode *p = ports->items[j];
      const char *published = cnode_map_get_str(p, "published");
      if (published == NULL || !*published)
        continue;
      char *end;
      long lo = strtol(published, &end, 10), hi = lo;
      if (*end == '-')
        hi = strtol(end + 1, &end, 10);
      if (*end != '\0' || lo <= 0 || hi < lo || hi - lo > 65535)
        continue;
      const char *ip = cnode_map_get_str(p, "host_ip");
      const char *proto = cnode_map_get_str(p, "protocol");
      if (proto == NULL)
        proto = "tcp";
      for (long port = lo; port <= hi && r == 0; port++) {
        for (size_t k = 0; k < n; k++) {
          if (pub[k].port != port || strcmp(pub[k].proto, proto) != 0)
            continue;
          if (!(wildcard(ip) || wildcard(pub[k].ip) || strcmp(ip, pub[k].ip) == 0))
            continue;
          _cleanup_free_ char *other = cnode_where(pub[k].node);
          r = cn_fail(err, p, services->pairs[i].key->str,
                      "publishes host port %s%s%ld/%s, which service \"%s\" already publishes "
                      "(%s); use another host port",
                      ip && *ip ? ip : "", ip && *ip ? ":" : "", port, proto, pub[k].service,
                      other);
          break;
        }
        if (r == 0 && hi - lo <= 1024) {
          pub = xgrow(pub, &cap, n + 1, sizeof(*pub));
          pub[n++] = (struct published){services->pairs[i].key->str, p, ip, proto, port};
        }
      }
    }
  }
  free(pub);
  return r;
}

int compose_validate_project(const struct cnode *project, struct stack_error **err) {
  const struct cnode *services = cnode_map_get(project, "services");
  if (services == NULL || services->kind != CNODE_MAP)
    return 0;
  for (size_t i = 0; i < services->n; i++) {
    int r = check_service(project, &services->pairs[i], err);
    if (r < 0)
      return r;
  }
  int r = check_cycles(services, err);
  if (r < 0)
    return r;
  return check_ports(services, err);
}
