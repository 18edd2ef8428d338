/* The typed model, read from the final tree.  The tree is canonical and
 * typed by then (compose_typing.c), so reading is mostly copying; values
 * that still cannot be read are errors with their position. */
#include "compose_model.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "compose_scalar.h"
#include "runtime/util/cleanup.h"
#include "runtime/util/error.h"
#include "runtime/util/xalloc.h"

struct rd {
  const char *service;
  struct stack_error **err;
  int r; /* the first error */
};

__attribute__((format(printf, 3, 4))) static void bad(struct rd *rd, const struct cnode *n,
                                                      const char *fmt, ...) {
  if (rd->r < 0)
    return;
  va_list ap;
  va_start(ap, fmt);
  _cleanup_free_ char *msg = xvasprintf(fmt, ap);
  va_end(ap);
  _cleanup_free_ char *where = cnode_where(n);
  if (rd->service)
    rd->r = stack_error_set(rd->err, -EINVAL, "%s: service \"%s\": %s", where, rd->service, msg);
  else
    rd->r = stack_error_set(rd->err, -EINVAL, "%s: %s", where, msg);
}

static const char *scalar(const struct cnode *n) {
  return n && n->kind == CNODE_SCALAR && !(!n->quoted && cnode_is_null(n)) ? n->str : NULL;
}

static char *dup_str(const struct cnode *map, const char *key) {
  const char *s = scalar(cnode_map_get(map, key));
  return s ? xstrdup(s) : NULL;
}

static bool get_bool(struct rd *rd, const struct cnode *map, const char *key, bool dflt) {
  const struct cnode *n = cnode_map_get(map, key);
  const char *s = scalar(n);
  bool b = dflt;
  if (s && !cscalar_parse_bool(s, &b))
    bad(rd, n, "%s must be true or false", key);
  return b;
}

static int64_t get_int(struct rd *rd, const struct cnode *map, const char *key, int64_t dflt) {
  const struct cnode *n = cnode_map_get(map, key);
  const char *s = scalar(n);
  int64_t v = dflt;
  if (s && !cscalar_parse_int(s, &v))
    bad(rd, n, "%s must be an integer", key);
  return v;
}

static double get_float(struct rd *rd, const struct cnode *map, const char *key) {
  const struct cnode *n = cnode_map_get(map, key);
  const char *s = scalar(n);
  double v = 0;
  if (s && !cscalar_parse_float(s, &v))
    bad(rd, n, "%s must be a number", key);
  return v;
}

static int64_t get_duration(struct rd *rd, const struct cnode *map, const char *key) {
  const struct cnode *n = cnode_map_get(map, key);
  const char *s = scalar(n);
  int64_t v = -1;
  if (s && compose_parse_duration(s, &v) < 0)
    bad(rd, n, "%s must be a duration such as \"10s\"", key);
  return v;
}

static int64_t get_bytes(struct rd *rd, const struct cnode *map, const char *key) {
  const struct cnode *n = cnode_map_get(map, key);
  const char *s = scalar(n);
  int64_t v = -1;
  if (s && compose_parse_bytes(s, &v) < 0)
    bad(rd, n, "%s must be a size such as \"512m\"", key);
  return v;
}

static char **get_strv(const struct cnode *map, const char *key) {
  const struct cnode *l = cnode_map_get(map, key);
  if (l == NULL || l->kind != CNODE_SEQ)
    return NULL;
  char **v = xcalloc(l->n + 1, sizeof(char *));
  size_t k = 0;
  for (size_t i = 0; i < l->n; i++) {
    const char *s = scalar(l->items[i]);
    if (s)
      v[k++] = xstrdup(s);
  }
  return v;
}

static int cmp_kv(const void *a, const void *b) {
  return strcmp(((const struct compose_kv *)a)->key, ((const struct compose_kv *)b)->key);
}

static struct compose_kvs get_kvs(const struct cnode *map, const char *key) {
  struct compose_kvs kvs = {NULL, 0};
  const struct cnode *m = cnode_map_get(map, key);
  if (m == NULL || m->kind != CNODE_MAP)
    return kvs;
  kvs.v = xcalloc(m->n + 1, sizeof(*kvs.v));
  for (size_t i = 0; i < m->n; i++) {
    const char *v = scalar(m->pairs[i].value);
    kvs.v[kvs.n].key = xstrdup(m->pairs[i].key->str);
    kvs.v[kvs.n].value = v ? xstrdup(v) : NULL;
    kvs.n++;
  }
  qsort(kvs.v, kvs.n, sizeof(*kvs.v), cmp_kv);
  return kvs;
}

static void kvs_free(struct compose_kvs *k) {
  for (size_t i = 0; i < k->n; i++) {
    free(k->v[i].key);
    free(k->v[i].value);
  }
  free(k->v);
}

/* A list or a string (command: ["a", "b"]); NULL when absent or null. */
static char **get_command(const struct cnode *map, const char *key) {
  const struct cnode *n = cnode_map_get(map, key);
  if (n && n->kind == CNODE_SCALAR && scalar(n)) {
    char **v = xcalloc(2, sizeof(char *));
    v[0] = xstrdup(n->str);
    return v;
  }
  return get_strv(map, key);
}

static void read_build(struct rd *rd, const struct cnode *b, struct compose_service *s) {
  if (b == NULL || b->kind != CNODE_MAP)
    return;
  struct compose_build *o = s->build = xcalloc(1, sizeof(*o));
  o->context = dup_str(b, "context");
  o->dockerfile = dup_str(b, "dockerfile");
  o->dockerfile_inline = dup_str(b, "dockerfile_inline");
  o->target = dup_str(b, "target");
  o->network = dup_str(b, "network");
  o->args = get_kvs(b, "args");
  o->labels = get_kvs(b, "labels");
  o->tags = get_strv(b, "tags");
  o->platforms = get_strv(b, "platforms");
  o->cache_from = get_strv(b, "cache_from");
  (void)rd;
}

static void read_ports(struct rd *rd, const struct cnode *l, struct compose_service *s) {
  if (l == NULL || l->kind != CNODE_SEQ)
    return;
  s->ports = xcalloc(l->n + 1, sizeof(*s->ports));
  for (size_t i = 0; i < l->n; i++) {
    const struct cnode *p = l->items[i];
    struct compose_port *o = &s->ports[s->n_ports++];
    int64_t t = get_int(rd, p, "target", 0);
    if (t <= 0 || t > 65535)
      bad(rd, p, "ports[%zu].target must be a port number (1-65535)", i);
    o->target = (uint16_t)t;
    o->name = dup_str(p, "name");
    o->host_ip = dup_str(p, "host_ip");
    o->published = dup_str(p, "published");
    if (o->published && *o->published == '\0') {
      free(o->published);
      o->published = NULL;
    }
    o->protocol = dup_str(p, "protocol");
    if (o->protocol == NULL)
      o->protocol = xstrdup("tcp");
    o->mode = dup_str(p, "mode");
    if (o->mode == NULL)
      o->mode = xstrdup("ingress");
    o->app_protocol = dup_str(p, "app_protocol");
  }
}

static void read_volumes(struct rd *rd, const struct cnode *l, struct compose_service *s) {
  if (l == NULL || l->kind != CNODE_SEQ)
    return;
  s->volumes = xcalloc(l->n + 1, sizeof(*s->volumes));
  for (size_t i = 0; i < l->n; i++) {
    const struct cnode *v = l->items[i];
    struct compose_mount *m = &s->volumes[s->n_volumes++];
    m->type = dup_str(v, "type");
    m->source = dup_str(v, "source");
    m->target = dup_str(v, "target");
    if (m->type == NULL || m->target == NULL)
      bad(rd, v, "volumes[%zu] needs a type and a target", i);
    m->read_only = get_bool(rd, v, "read_only", false);
    m->consistency = dup_str(v, "consistency");
    const struct cnode *bind = cnode_map_get(v, "bind");
    m->bind_propagation = dup_str(bind, "propagation");
    m->bind_create_host_path = get_bool(rd, bind, "create_host_path", true);
    const struct cnode *vol = cnode_map_get(v, "volume");
    m->volume_nocopy = get_bool(rd, vol, "nocopy", false);
    m->volume_subpath = dup_str(vol, "subpath");
    const struct cnode *tmpfs = cnode_map_get(v, "tmpfs");
    m->tmpfs_size = get_bytes(rd, tmpfs, "size");
    m->tmpfs_mode = (uint32_t)get_int(rd, tmpfs, "mode", 0);
  }
}

static void read_networks(struct rd *rd, const struct cnode *m, struct compose_service *s) {
  if (m == NULL || m->kind != CNODE_MAP)
    return;
  s->networks = xcalloc(m->n + 1, sizeof(*s->networks));
  for (size_t i = 0; i < m->n; i++) {
    const struct cnode *v = m->pairs[i].value;
    struct compose_service_network *o = &s->networks[s->n_networks++];
    o->name = xstrdup(m->pairs[i].key->str);
    o->aliases = get_strv(v, "aliases");
    o->ipv4_address = dup_str(v, "ipv4_address");
    o->ipv6_address = dup_str(v, "ipv6_address");
    o->mac_address = dup_str(v, "mac_address");
    o->priority = (int)get_int(rd, v, "priority", 0);
  }
}

static void read_depends(struct rd *rd, const struct cnode *m, struct compose_service *s) {
  if (m == NULL || m->kind != CNODE_MAP)
    return;
  s->depends_on = xcalloc(m->n + 1, sizeof(*s->depends_on));
  for (size_t i = 0; i < m->n; i++) {
    const struct cnode *v = m->pairs[i].value;
    struct compose_dependency *d = &s->depends_on[s->n_depends_on++];
    d->service = xstrdup(m->pairs[i].key->str);
    const char *c = scalar(cnode_map_get(v, "condition"));
    d->condition = COMPOSE_DEP_STARTED;
    if (c && !strcmp(c, "service_healthy"))
      d->condition = COMPOSE_DEP_HEALTHY;
    else if (c && !strcmp(c, "service_completed_successfully"))
      d->condition = COMPOSE_DEP_COMPLETED_SUCCESSFULLY;
    else if (c && strcmp(c, "service_started") != 0)
      bad(rd, cnode_map_get(v, "condition"), "unknown depends_on condition \"%s\"", c);
    d->required = get_bool(rd, v, "required", true);
    d->restart = get_bool(rd, v, "restart", false);
  }
}

static void read_healthcheck(struct rd *rd, const struct cnode *h, struct compose_healthcheck *o) {
  o->interval_ns = o->timeout_ns = o->start_period_ns = o->start_interval_ns = -1;
  o->retries = -1;
  if (h == NULL || h->kind != CNODE_MAP)
    return;
  o->set = true;
  o->disable = get_bool(rd, h, "disable", false);
  o->test = get_strv(h, "test");
  if (o->test && o->test[0] && !strcmp(o->test[0], "NONE"))
    o->disable = true;
  o->interval_ns = get_duration(rd, h, "interval");
  o->timeout_ns = get_duration(rd, h, "timeout");
  o->start_period_ns = get_duration(rd, h, "start_period");
  o->start_interval_ns = get_duration(rd, h, "start_interval");
  o->retries = (int)get_int(rd, h, "retries", -1);
}

static void read_deploy(struct rd *rd, const struct cnode *d, struct compose_deploy *o) {
  o->replicas = -1;
  o->memory_limit = o->memory_reservation = o->pids_limit = -1;
  o->restart_policy.delay_ns = o->restart_policy.window_ns = -1;
  o->restart_policy.max_attempts = -1;
  if (d == NULL || d->kind != CNODE_MAP)
    return;
  o->mode = dup_str(d, "mode");
  o->replicas = (int)get_int(rd, d, "replicas", -1);
  const struct cnode *res = cnode_map_get(d, "resources");
  const struct cnode *lim = cnode_map_get(res, "limits");
  const struct cnode *resv = cnode_map_get(res, "reservations");
  o->cpus_limit = get_float(rd, lim, "cpus");
  o->memory_limit = get_bytes(rd, lim, "memory");
  o->pids_limit = get_int(rd, lim, "pids", -1);
  o->cpus_reservation = get_float(rd, resv, "cpus");
  o->memory_reservation = get_bytes(rd, resv, "memory");
  const struct cnode *rp = cnode_map_get(d, "restart_policy");
  o->restart_policy.condition = dup_str(rp, "condition");
  o->restart_policy.delay_ns = get_duration(rd, rp, "delay");
  o->restart_policy.window_ns = get_duration(rd, rp, "window");
  o->restart_policy.max_attempts = (int)get_int(rd, rp, "max_attempts", -1);
}

static void read_refs(struct rd *rd, const struct cnode *l, struct compose_file_ref **out,
                      size_t *n) {
  if (l == NULL || l->kind != CNODE_SEQ)
    return;
  *out = xcalloc(l->n + 1, sizeof(**out));
  for (size_t i = 0; i < l->n; i++) {
    const struct cnode *e = l->items[i];
    struct compose_file_ref *r = &(*out)[(*n)++];
    r->source = dup_str(e, "source");
    r->target = dup_str(e, "target");
    r->uid = dup_str(e, "uid");
    r->gid = dup_str(e, "gid");
    r->mode = -1;
    const char *mode = scalar(cnode_map_get(e, "mode"));
    if (mode) {
      char *end;
      r->mode = strtoll(mode, &end, 8);
      if (*end != '\0')
        bad(rd, cnode_map_get(e, "mode"), "mode must be an octal file mode");
    }
  }
}

static void read_ulimits(struct rd *rd, const struct cnode *m, struct compose_service *s) {
  if (m == NULL || m->kind != CNODE_MAP)
    return;
  s->ulimits = xcalloc(m->n + 1, sizeof(*s->ulimits));
  for (size_t i = 0; i < m->n; i++) {
    const struct cnode *v = m->pairs[i].value;
    struct compose_ulimit *u = &s->ulimits[s->n_ulimits++];
    u->name = xstrdup(m->pairs[i].key->str);
    if (v && v->kind == CNODE_MAP) {
      u->soft = get_int(rd, v, "soft", 0);
      u->hard = get_int(rd, v, "hard", 0);
    } else if (!scalar(v) || !cscalar_parse_int(v->str, &u->soft)) {
      bad(rd, v ? v : m->pairs[i].key, "ulimits.%s must be a number or {soft, hard}", u->name);
    } else {
      u->hard = u->soft;
    }
  }
}

static void read_service(struct rd *rd, const struct cnode_pair *p, struct compose_service *s) {
  const struct cnode *n = p->value;
  s->name = xstrdup(p->key->str);
  s->node = n;
  rd->service = s->name;
  s->image = dup_str(n, "image");
  read_build(rd, cnode_map_get(n, "build"), s);
  s->command = get_command(n, "command");
  s->entrypoint = get_command(n, "entrypoint");
  s->environment = get_kvs(n, "environment");
  s->working_dir = dup_str(n, "working_dir");
  s->user = dup_str(n, "user");
  s->hostname = dup_str(n, "hostname");
  s->domainname = dup_str(n, "domainname");
  s->container_name = dup_str(n, "container_name");
  if (s->container_name && s->container_name[0] == '/') /* Docker drops it */
    memmove(s->container_name, s->container_name + 1, strlen(s->container_name));
  s->platform = dup_str(n, "platform");
  s->pull_policy = dup_str(n, "pull_policy");
  s->restart = dup_str(n, "restart");
  s->stop_signal = dup_str(n, "stop_signal");
  s->stop_grace_period_ns = get_duration(rd, n, "stop_grace_period");
  s->network_mode = dup_str(n, "network_mode");
  s->init = get_bool(rd, n, "init", false);
  s->tty = get_bool(rd, n, "tty", false);
  s->stdin_open = get_bool(rd, n, "stdin_open", false);
  s->privileged = get_bool(rd, n, "privileged", false);
  s->read_only = get_bool(rd, n, "read_only", false);
  s->attach = get_bool(rd, n, "attach", true);
  s->scale = (int)get_int(rd, n, "scale", -1);
  s->mem_limit = get_bytes(rd, n, "mem_limit");
  s->memswap_limit = get_bytes(rd, n, "memswap_limit");
  s->shm_size = get_bytes(rd, n, "shm_size");
  s->cpus = get_float(rd, n, "cpus");
  s->pids_limit = get_int(rd, n, "pids_limit", -1);
  read_ports(rd, cnode_map_get(n, "ports"), s);
  s->expose = get_strv(n, "expose");
  read_volumes(rd, cnode_map_get(n, "volumes"), s);
  s->tmpfs = get_strv(n, "tmpfs");
  read_networks(rd, cnode_map_get(n, "networks"), s);
  read_depends(rd, cnode_map_get(n, "depends_on"), s);
  read_healthcheck(rd, cnode_map_get(n, "healthcheck"), &s->healthcheck);
  read_deploy(rd, cnode_map_get(n, "deploy"), &s->deploy);
  s->dns = get_strv(n, "dns");
  s->dns_search = get_strv(n, "dns_search");
  s->dns_opt = get_strv(n, "dns_opt");
  s->extra_hosts = get_strv(n, "extra_hosts");
  s->links = get_strv(n, "links");
  s->external_links = get_strv(n, "external_links");
  s->profiles = get_strv(n, "profiles");
  s->cap_add = get_strv(n, "cap_add");
  s->cap_drop = get_strv(n, "cap_drop");
  s->security_opt = get_strv(n, "security_opt");
  s->labels = get_kvs(n, "labels");
  s->annotations = get_kvs(n, "annotations");
  s->sysctls = get_kvs(n, "sysctls");
  read_ulimits(rd, cnode_map_get(n, "ulimits"), s);
  read_refs(rd, cnode_map_get(n, "secrets"), &s->secrets, &s->n_secrets);
  read_refs(rd, cnode_map_get(n, "configs"), &s->configs, &s->n_configs);
  rd->service = NULL;
}

/* ipam.config[].subnet / gateway into parallel lists */
static void read_ipam(const struct cnode *net, struct compose_network *o) {
  const struct cnode *cfg = cnode_map_get(cnode_map_get(net, "ipam"), "config");
  size_t n = cfg && cfg->kind == CNODE_SEQ ? cfg->n : 0;
  o->subnets = xcalloc(n + 1, sizeof(char *));
  o->gateways = xcalloc(n + 1, sizeof(char *));
  size_t k = 0;
  for (size_t i = 0; i < n; i++) {
    const char *sub = scalar(cnode_map_get(cfg->items[i], "subnet"));
    if (sub == NULL)
      continue;
    const char *gw = scalar(cnode_map_get(cfg->items[i], "gateway"));
    o->subnets[k] = xstrdup(sub);
    o->gateways[k] = xstrdup(gw ? gw : "");
    k++;
  }
}

static void read_top(struct rd *rd, struct compose_project *p) {
  const struct cnode *t = p->tree;
  const struct cnode *nets = cnode_map_get(t, "networks");
  if (nets && nets->kind == CNODE_MAP) {
    p->networks = xcalloc(nets->n + 1, sizeof(*p->networks));
    for (size_t i = 0; i < nets->n; i++) {
      const struct cnode *v = nets->pairs[i].value;
      struct compose_network *o = &p->networks[p->n_networks++];
      o->key = xstrdup(nets->pairs[i].key->str);
      o->name = dup_str(v, "name");
      if (o->name == NULL)
        o->name = xasprintf("%s_%s", p->name, o->key);
      o->driver = dup_str(v, "driver");
      o->external = get_bool(rd, v, "external", false);
      o->internal = get_bool(rd, v, "internal", false);
      o->attachable = get_bool(rd, v, "attachable", false);
      o->enable_ipv6 = get_bool(rd, v, "enable_ipv6", false);
      read_ipam(v, o);
      o->driver_opts = get_kvs(v, "driver_opts");
      o->labels = get_kvs(v, "labels");
    }
  }
  const struct cnode *vols = cnode_map_get(t, "volumes");
  if (vols && vols->kind == CNODE_MAP) {
    p->volumes = xcalloc(vols->n + 1, sizeof(*p->volumes));
    for (size_t i = 0; i < vols->n; i++) {
      const struct cnode *v = vols->pairs[i].value;
      struct compose_volume *o = &p->volumes[p->n_volumes++];
      o->key = xstrdup(vols->pairs[i].key->str);
      o->name = dup_str(v, "name");
      if (o->name == NULL)
        o->name = xasprintf("%s_%s", p->name, o->key);
      o->driver = dup_str(v, "driver");
      o->external = get_bool(rd, v, "external", false);
      o->driver_opts = get_kvs(v, "driver_opts");
      o->labels = get_kvs(v, "labels");
    }
  }
  static const char *const sections[] = {"secrets", "configs"};
  for (int k = 0; k < 2; k++) {
    const struct cnode *m = cnode_map_get(t, sections[k]);
    if (m == NULL || m->kind != CNODE_MAP)
      continue;
    struct compose_file_obj *arr = xcalloc(m->n + 1, sizeof(*arr));
    for (size_t i = 0; i < m->n; i++) {
      const struct cnode *v = m->pairs[i].value;
      struct compose_file_obj *o = &arr[i];
      o->key = xstrdup(m->pairs[i].key->str);
      o->name = dup_str(v, "name");
      if (o->name == NULL)
        o->name = xasprintf("%s_%s", p->name, o->key);
      o->file = dup_str(v, "file");
      o->environment = dup_str(v, "environment");
      o->content = dup_str(v, "content");
      o->external = get_bool(rd, v, "external", false);
    }
    if (k == 0)
      p->secrets = arr, p->n_secrets = m->n;
    else
      p->configs = arr, p->n_configs = m->n;
  }
}

int compose_model_build(struct cnode *tree, const char *working_dir, struct compose_project **out,
                        struct stack_error **err) {
  _cleanup_compose_project_ struct compose_project *p = xcalloc(1, sizeof(*p));
  p->tree = tree;
  p->working_dir = xstrdup(working_dir ? working_dir : ".");
  if (tree == NULL || tree->kind != CNODE_MAP) {
    cnode_free(p->tree);
    p->tree = cnode_new(CNODE_MAP, NULL, 0, 0);
  }
  const char *name = scalar(cnode_map_get(p->tree, "name"));
  if (name == NULL || *name == '\0')
    return stack_error_set(err, -EINVAL, "the project has no name; set one with -p or \"name:\"");
  p->name = xstrdup(name);
  struct rd rd = {.err = err};
  const struct cnode *services = cnode_map_get(p->tree, "services");
  if (services && services->kind == CNODE_MAP) {
    p->services = xcalloc(services->n + 1, sizeof(*p->services));
    for (size_t i = 0; i < services->n && rd.r == 0; i++) {
      if (services->pairs[i].value == NULL || services->pairs[i].value->kind != CNODE_MAP) {
        bad(&rd, services->pairs[i].key, "service \"%s\" must be a mapping",
            services->pairs[i].key->str);
        break;
      }
      read_service(&rd, &services->pairs[i], &p->services[p->n_services++]);
    }
  }
  if (rd.r == 0)
    read_top(&rd, p);
  if (rd.r < 0)
    return rd.r;
  *out = steal_pointer(&p);
  return 0;
}

static void service_free(struct compose_service *s) {
  free(s->name);
  free(s->image);
  if (s->build) {
    struct compose_build *b = s->build;
    free(b->context), free(b->dockerfile), free(b->dockerfile_inline), free(b->target);
    free(b->network);
    kvs_free(&b->args), kvs_free(&b->labels);
    strv_free(b->tags), strv_free(b->platforms), strv_free(b->cache_from);
    free(b);
  }
  strv_free(s->command), strv_free(s->entrypoint);
  kvs_free(&s->environment);
  free(s->working_dir), free(s->user), free(s->hostname), free(s->domainname);
  free(s->container_name), free(s->platform), free(s->pull_policy), free(s->restart);
  free(s->stop_signal), free(s->network_mode);
  for (size_t i = 0; i < s->n_ports; i++) {
    struct compose_port *p = &s->ports[i];
    free(p->name), free(p->host_ip), free(p->published), free(p->protocol), free(p->mode);
    free(p->app_protocol);
  }
  free(s->ports);
  strv_free(s->expose);
  for (size_t i = 0; i < s->n_volumes; i++) {
    struct compose_mount *m = &s->volumes[i];
    free(m->type), free(m->source), free(m->target), free(m->consistency);
    free(m->bind_propagation), free(m->volume_subpath);
  }
  free(s->volumes);
  strv_free(s->tmpfs);
  for (size_t i = 0; i < s->n_networks; i++) {
    struct compose_service_network *n = &s->networks[i];
    free(n->name), strv_free(n->aliases), free(n->ipv4_address), free(n->ipv6_address);
    free(n->mac_address);
  }
  free(s->networks);
  for (size_t i = 0; i < s->n_depends_on; i++)
    free(s->depends_on[i].service);
  free(s->depends_on);
  strv_free(s->healthcheck.test);
  free(s->deploy.mode), free(s->deploy.restart_policy.condition);
  strv_free(s->dns), strv_free(s->dns_search), strv_free(s->dns_opt);
  strv_free(s->extra_hosts), strv_free(s->links), strv_free(s->external_links);
  strv_free(s->profiles), strv_free(s->cap_add), strv_free(s->cap_drop);
  strv_free(s->security_opt);
  kvs_free(&s->labels), kvs_free(&s->annotations), kvs_free(&s->sysctls);
  for (size_t i = 0; i < s->n_ulimits; i++)
    free(s->ulimits[i].name);
  free(s->ulimits);
  struct compose_file_ref *refs[2] = {s->secrets, s->configs};
  size_t nrefs[2] = {s->n_secrets, s->n_configs};
  for (int k = 0; k < 2; k++) {
    for (size_t i = 0; i < nrefs[k]; i++)
      free(refs[k][i].source), free(refs[k][i].target), free(refs[k][i].uid),
          free(refs[k][i].gid);
    free(refs[k]);
  }
}

void compose_project_free(struct compose_project *p) {
  if (p == NULL)
    return;
  for (size_t i = 0; i < p->n_services; i++)
    service_free(&p->services[i]);
  free(p->services);
  for (size_t i = 0; i < p->n_networks; i++) {
    struct compose_network *n = &p->networks[i];
    free(n->key), free(n->name), free(n->driver);
    strv_free(n->subnets), strv_free(n->gateways);
    kvs_free(&n->driver_opts), kvs_free(&n->labels);
  }
  free(p->networks);
  for (size_t i = 0; i < p->n_volumes; i++) {
    struct compose_volume *v = &p->volumes[i];
    free(v->key), free(v->name), free(v->driver);
    kvs_free(&v->driver_opts), kvs_free(&v->labels);
  }
  free(p->volumes);
  struct compose_file_obj *objs[2] = {p->secrets, p->configs};
  size_t nobjs[2] = {p->n_secrets, p->n_configs};
  for (int k = 0; k < 2; k++) {
    for (size_t i = 0; i < nobjs[k]; i++)
      free(objs[k][i].key), free(objs[k][i].name), free(objs[k][i].file),
          free(objs[k][i].environment), free(objs[k][i].content);
    free(objs[k]);
  }
  free(p->name);
  free(p->working_dir);
  cnode_free(p->tree);
  strv_free(p->config_files);
  strv_free(p->environment);
  free(p);
}

void compose_project_freep(struct compose_project **p) {
  compose_project_free(*p);
  *p = NULL;
}

long compose_project_service_index(const struct compose_project *p, const char *name) {
  for (size_t i = 0; i < p->n_services; i++)
    if (strcmp(p->services[i].name, name) == 0)
      return (long)i;
  return -1;
}

const struct compose_service *compose_project_service(const struct compose_project *p,
                                                      const char *name) {
  long i = compose_project_service_index(p, name);
  return i < 0 ? NULL : &p->services[i];
}

const struct compose_network *compose_project_network(const struct compose_project *p,
                                                      const char *key) {
  for (size_t i = 0; i < p->n_networks; i++)
    if (strcmp(p->networks[i].key, key) == 0)
      return &p->networks[i];
  return NULL;
}

const struct compose_volume *compose_project_volume(const struct compose_project *p,
                                                    const char *key) {
  for (size_t i = 0; i < p->n_volumes; i++)
    if (strcmp(p->volumes[i].key, key) == 0)
      return &p->volumes[i];
  return NULL;
}

const char *compose_kvs_get(const struct compose_kvs *kvs, const char *key) {
  for (size_t i = 0; i < kvs->n; i++)
    if (strcmp(kvs->v[i].key, key) == 0)
      return kvs->v[i].value;
  return NULL;
}
