/* Scalar types of the canonical tree.  compose-go decodes the tree into Go
 * structs and prints them back, so what it prints is typed by its model:
 * `published: "8000"` (a string), `target: 8000` (an integer),
 * `memory: "52428800"` (bytes, a string), `delay: 1m0s` (a duration), labels
 * are strings, ...  Rather than a typed copy of that model, the tree keeps
 * the type in each scalar (quoted = string) and this table says which paths
 * are not strings. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "compose_canonical_util.h"
#include "compose_model.h"
#include "compose_path.h"
#include "compose_scalar.h"
#include "runtime/util/cleanup.h"
#include "runtime/util/error.h"
#include "runtime/util/xalloc.h"

enum ty {
  TY_STRING, /* the default */
  TY_BOOL,
  TY_DROP_TRUE, /* a boolean that compose-go omits when true (OptOut) */
  TY_INT,
  TY_INT_OR_STR,
  TY_FLOAT,
  TY_BYTES,
  TY_DURATION,
  TY_MODE,
  TY_STR_OR_EMPTY, /* null -> "" (map[string]string in compose-go) */
  TY_KEEP,
};

struct rule {
  const char *pattern; /* segments joined by '.', '*' any key, '[]' any index, 'a|b' */
  enum ty ty;
};

static const struct rule rules[] = {
    {"services.*.attach|init|tty|stdin_open|privileged|read_only|oom_kill_disable|use_api_socket",
     TY_BOOL},
    {"services.*.volumes.[].read_only", TY_BOOL},
    {"services.*.volumes.[].volume.nocopy", TY_BOOL},
    {"services.*.volumes.[].bind.create_host_path", TY_DROP_TRUE},
    {"services.*.depends_on.*.required|restart", TY_BOOL},
    {"services.*.healthcheck.disable", TY_BOOL},
    {"services.*.build.no_cache|pull|privileged", TY_BOOL},
    {"services.*.env_file.[].required", TY_BOOL},
    {"services.*.post_start|pre_stop.[].privileged", TY_BOOL},
    {"networks|volumes|secrets|configs.*.external", TY_BOOL},
    {"networks.*.internal|attachable|enable_ipv6|enable_ipv4", TY_BOOL},
    {"services.*.ports.[].target", TY_INT},
    {"services.*.scale", TY_INT},
    {"services.*.deploy.replicas", TY_INT},
    {"services.*.healthcheck.retries", TY_INT},
    {"services.*.deploy.restart_policy.max_attempts", TY_INT},
    {"services.*.deploy.update_config|rollback_config.parallelism", TY_INT},
    {"services.*.deploy.placement.max_replicas_per_node", TY_INT},
    {"services.*.ulimits.*", TY_INT},
    {"services.*.ulimits.*.soft|hard", TY_INT},
    {"services.*.build.ulimits.*", TY_INT},
    {"services.*.build.ulimits.*.soft|hard", TY_INT},
    {"services.*.cpu_count|cpu_percent|cpu_shares|cpu_period|cpu_quota|pids_limit|mem_swappiness|"
     "oom_score_adj",
     TY_INT},
    {"services.*.deploy.resources.limits.pids", TY_INT},
    {"services.*.networks.*.priority|gw_priority", TY_INT},
    {"services.*.blkio_config.weight", TY_INT},
    {"services.*.blkio_config.weight_device.[].weight", TY_INT},
    {"services.*.blkio_config.device_read_iops|device_write_iops.[].rate", TY_INT},
    {"services.*.blkio_config.device_read_bps|device_write_bps.[].rate", TY_BYTES},
    {"services.*.deploy.resources.reservations.generic_resources.[].discrete_resource_spec.value",
     TY_INT},
    {"services.*.volumes.[].tmpfs.mode", TY_INT},
    {"models.*.context_size", TY_INT},
    {"services.*.deploy.resources.reservations.devices.[].count", TY_INT_OR_STR},
    {"services.*.gpus.[].count", TY_INT_OR_STR},
    {"services.*.cpus", TY_FLOAT},
    {"services.*.deploy.resources.limits|reservations.cpus", TY_FLOAT},
    {"services.*.deploy.update_config|rollback_config.max_failure_ratio", TY_FLOAT},
    {"services.*.mem_limit|mem_reservation|memswap_limit|shm_size", TY_BYTES},
    {"services.*.build.shm_size", TY_BYTES},
    {"services.*.deploy.resources.limits|reservations.memory", TY_BYTES},
    {"services.*.volumes.[].tmpfs.size", TY_BYTES},
    {"services.*.stop_grace_period", TY_DURATION},
    {"services.*.healthcheck.interval|timeout|start_period|start_interval", TY_DURATION},
    {"services.*.deploy.update_config|rollback_config.delay|monitor", TY_DURATION},
    {"services.*.deploy.restart_policy.delay|window", TY_DURATION},
    {"services.*.secrets|configs.[].mode", TY_MODE},
    {"services.*.build.secrets.[].mode", TY_MODE},
    {"services.*.labels|annotations|sysctls.*", TY_STR_OR_EMPTY},
    {"services.*.build.labels.*", TY_STR_OR_EMPTY},
    {"services.*.deploy.labels.*", TY_STR_OR_EMPTY},
    {"networks|volumes|secrets|configs.*.labels.*", TY_STR_OR_EMPTY},
    {"services.*.provider.options.*", TY_KEEP},
    {"services.*.provider.options.*.[]", TY_KEEP},
};

#define N_RULES (sizeof(rules) / sizeof(rules[0]))

struct walk {
  struct cpath path;
  size_t rule_depth[N_RULES];
  struct stack_error **err;
};

static enum ty type_at(const struct walk *w) {
  for (size_t i = 0; i < N_RULES; i++)
    if (w->rule_depth[i] == w->path.depth && cpath_match(rules[i].pattern, &w->path))
      return rules[i].ty;
  return TY_STRING;
}

__attribute__((format(printf, 3, 4))) static int bad(const struct walk *w, const struct cnode *n,
                                                     const char *fmt, ...) {
  va_list ap;
  va_start(ap, fmt);
  _cleanup_free_ char *msg = xvasprintf(fmt, ap);
  va_end(ap);
  _cleanup_free_ char *path = cpath_string(&w->path);
  return cn_fail(w->err, n, cpath_service(&w->path), "%s: %s", path, msg);
}

static void set_text(struct cnode *n, char *owned, bool quoted) {
  free(n->str);
  n->str = owned;
  n->quoted = quoted;
  n->kind = CNODE_SCALAR;
}

static bool parse_bool_loose(const char *s, bool *out) {
  static const char *const yes[] = {"y", "yes", "true", "on"};
  static const char *const no[] = {"n", "no", "false", "off"};
  for (size_t i = 0; i < 4; i++) {
    if (!strcasecmp(s, yes[i]))
      return *out = true, true;
    if (!strcasecmp(s, no[i]))
      return *out = false, true;
  }
  return false;
}

static char *format_float32(double d) {
  float f = (float)d;
  for (int prec = 1; prec <= 9; prec++) {
    char buf[64];
    snprintf(buf, sizeof(buf), "%.*g", prec, (double)f);
    if ((float)strtod(buf, NULL) == f)
      return xstrdup(buf);
  }
  return xasprintf("%.9g", (double)f);
}

/* Types one scalar; returns 1 if the pair holding it should be dropped. */
static int type_scalar(struct walk *w, struct cnode *n, enum ty ty) {
  if (ty == TY_KEEP)
    return 0;
  if (n->kind == CNODE_NULL || cnode_is_null(n)) {
    if (ty == TY_STR_OR_EMPTY)
      set_text(n, xstrdup(""), true);
    return 0;
  }
  const char *s = n->str;
  switch (ty) {
  case TY_BOOL:
  case TY_DROP_TRUE: {
    bool b;
    if (!parse_bool_loose(s, &b))
      return bad(w, n, "must be a boolean (true or false), not \"%s\"", s);
    set_text(n, xstrdup(b ? "true" : "false"), false);
    return ty == TY_DROP_TRUE && b ? 1 : 0;
  }
  case TY_INT_OR_STR:
  case TY_INT: {
    int64_t v;
    double d;
    if (cscalar_parse_int(s, &v)) {
      set_text(n, xasprintf("%lld", (long long)v), false);
    } else if (cscalar_parse_float(s, &d) && d > -9e18 && d < 9e18 && d == (double)(int64_t)d) {
      set_text(n, xasprintf("%lld", (long long)d), false);
    } else if (ty == TY_INT_OR_STR) {
      n->quoted = true;
    } else {
      return bad(w, n, "must be an integer, not \"%s\"", s);
    }
    return 0;
  }
  case TY_FLOAT: {
    double d;
    if (!cscalar_parse_float(s, &d))
      return bad(w, n, "must be a number, not \"%s\"", s);
    set_text(n, format_float32(d), false);
    return 0;
  }
  case TY_BYTES: {
    int64_t b;
    if (compose_parse_bytes(s, &b) < 0)
      return bad(w, n, "must be a size in bytes such as 512, \"64m\" or \"1.5g\", not \"%s\"", s);
    set_text(n, xasprintf("%lld", (long long)b), true);
    return 0;
  }
  case TY_DURATION: {
    int64_t ns;
    if (compose_parse_duration(s, &ns) < 0)
      return bad(w, n, "must be a duration such as \"10s\", \"1m30s\" or \"500ms\", not \"%s\"",
                 s);
    set_text(n, compose_format_duration(ns), true);
    return 0;
  }
  case TY_MODE: {
    int64_t v;
    char *end;
    if (n->quoted) {
      v = strtoll(s, &end, 8);
      if (*s == '\0' || *end != '\0')
        return bad(w, n, "must be an octal file mode such as \"0440\", not \"%s\"", s);
    } else if (!cscalar_parse_int(s, &v)) {
      return bad(w, n, "must be an octal file mode such as 0440, not \"%s\"", s);
    }
    if (v < 0 || v > 07777)
      return bad(w, n, "must be a file mode between 0 and 07777");
    set_text(n, xasprintf("0%llo", (long long)v), true);
    return 0;
  }
  default:
    n->quoted = true;
    return 0;
  }
}

static int cmp_items(const void *a, const void *b) {
  const struct cnode *x = *(struct cnode *const *)a, *y = *(struct cnode *const *)b;
  if (x->kind != CNODE_SCALAR || y->kind != CNODE_SCALAR)
    return (int)x->kind - (int)y->kind;
  return strcmp(x->str, y->str);
}

/* compose-go keeps extra_hosts as a host -> addresses map and prints it as
 * a sorted "host=ip" list, so the written order does not matter. */
static void sort_strings(struct cnode *seq) {
  if (seq->n > 1)
    qsort(seq->items, seq->n, sizeof(*seq->items), cmp_items);
}

static int walk(struct walk *w, struct cnode *n) {
  if (n == NULL)
    return 0;
  if (w->path.depth >= CPATH_MAX_DEPTH)
    return bad(w, n, "is nested too deeply");
  if (n->kind == CNODE_MAP) {
    for (size_t i = 0; i < n->n;) {
      const char *k = n->pairs[i].key->str;
      n->pairs[i].key->quoted = true;
      if (strncmp(k, "x-", 2) == 0) { /* extensions are the user's, untouched */
        i++;
        continue;
      }
      w->path.segs[w->path.depth++] = k;
      struct cnode *v = n->pairs[i].value;
      int r;
      if (v == NULL || v->kind == CNODE_SCALAR || v->kind == CNODE_NULL) {
        if (v == NULL)
          v = n->pairs[i].value = cn_container(CNODE_NULL, n->pairs[i].key);
        r = type_scalar(w, v, type_at(w));
      } else {
        r = walk(w, v);
      }
      w->path.depth--;
      if (r < 0)
        return r;
      if (r == 1)
        cnode_map_remove(n, k);
      else
        i++;
    }
  } else if (n->kind == CNODE_SEQ) {
    if (cpath_match("services.*.extra_hosts", &w->path) ||
        cpath_match("services.*.build.extra_hosts", &w->path))
      sort_strings(n);
    w->path.segs[w->path.depth++] = NULL;
    for (size_t i = 0; i < n->n; i++) {
      struct cnode *v = n->items[i];
      int r = v->kind == CNODE_MAP || v->kind == CNODE_SEQ ? walk(w, v)
                                                           : type_scalar(w, v, type_at(w));
      if (r < 0) {
        w->path.depth--;
        return r;
      }
    }
    w->path.depth--;
  }
  return 0;
}

void compose_sort_extra_hosts(struct cnode *project) {
  struct cnode *services = cnode_map_get(project, "services");
  for (size_t i = 0; services && services->kind == CNODE_MAP && i < services->n; i++) {
    struct cnode *s = services->pairs[i].value;
    struct cnode *h = cnode_map_get(s, "extra_hosts");
    if (h && h->kind == CNODE_SEQ)
      sort_strings(h);
    h = cnode_map_get(cnode_map_get(s, "build"), "extra_hosts");
    if (h && h->kind == CNODE_SEQ)
      sort_strings(h);
  }
}

int compose_apply_types(struct cnode *tree, struct stack_error **err) {
  struct walk w = {.err = err};
  for (size_t i = 0; i < N_RULES; i++)
    w.rule_depth[i] = cpath_pattern_depth(rules[i].pattern);
  return walk(&w, tree);
}
