#include "compose_merge.h"

#include <errno.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include "compose_path.h"
#include "runtime/util/cleanup.h"
#include "runtime/util/error.h"
#include "runtime/util/strindex.h"
#include "runtime/util/xalloc.h"

static bool has_tag(const struct cnode *n, const char *tag) {
  return n && n->tag && strcmp(n->tag, tag) == 0;
}

static bool is_null(const struct cnode *n) {
  return n == NULL || n->kind == CNODE_NULL || (n->kind == CNODE_SCALAR && cnode_is_null(n));
}

static void clear_tag(struct cnode *n) {
  free(n->tag);
  n->tag = NULL;
}

/* Resolves the tags of a value that has nothing to merge with: `!reset`
 * entries disappear, `!override`/`!merge` mean nothing any more. */
static void strip(struct cnode *n) {
  if (n == NULL)
    return;
  if (has_tag(n, "!override") || has_tag(n, "!merge"))
    clear_tag(n);
  size_t w = 0;
  for (size_t i = 0; i < n->n; i++) {
    if (n->kind == CNODE_SEQ) {
      if (has_tag(n->items[i], "!reset")) {
        cnode_free(n->items[i]);
        continue;
      }
      strip(n->items[i]);
      n->items[w++] = n->items[i];
    } else if (n->kind == CNODE_MAP) {
      if (has_tag(n->pairs[i].value, "!reset")) {
        cnode_free(n->pairs[i].key);
        cnode_free(n->pairs[i].value);
        continue;
      }
      strip(n->pairs[i].value);
      n->pairs[w++] = n->pairs[i];
    } else {
      w++;
    }
  }
  if (n->kind == CNODE_SEQ || n->kind == CNODE_MAP)
    n->n = w;
}

static void replace(struct cnode **base, struct cnode *over) {
  strip(over);
  cnode_free(*base);
  *base = over;
}

static bool path_push(struct cpath *p, const char *seg) {
  if (p->depth >= CPATH_MAX_DEPTH)
    return false;
  p->segs[p->depth++] = seg;
  return true;
}

static int merge_node(struct cnode **base, struct cnode *over, struct cpath *p,
                      struct stack_error **err);

static void index_keys(struct strindex *idx, const struct cnode *map) {
  strindex_clear(idx);
  for (size_t i = 0; i < map->n; i++)
    strindex_put(idx, map->pairs[i].key->str, i);
}

static int merge_maps(struct cnode *base, struct cnode *over, struct cpath *p,
                      struct stack_error **err) {
  _cleanup_strindex_ struct strindex idx = STRINDEX_INIT;
  index_keys(&idx, base);
  int r = 0;
  for (size_t i = 0; i < over->n; i++) {
    struct cnode *k = steal_pointer(&over->pairs[i].key);
    struct cnode *v = steal_pointer(&over->pairs[i].value);
    if (r < 0) {
      cnode_free(k);
      cnode_free(v);
      continue;
    }
    size_t at = strindex_get(&idx, k->str);
    if (has_tag(v, "!reset")) {
      if (at != STRINDEX_NONE) {
        cnode_map_remove(base, k->str);
        index_keys(&idx, base); /* positions after it moved */
      }
      cnode_free(k);
      cnode_free(v);
      continue;
    }
    if (at == STRINDEX_NONE) {
      strip(v);
      base->pairs = xgrow(base->pairs, &base->cap, base->n + 1, sizeof(*base->pairs));
      base->pairs[base->n] = (struct cnode_pair){.key = k, .value = v};
      strindex_put(&idx, k->str, base->n);
      base->n++;
      continue;
    }
    bool pushed = path_push(p, k->str);
    r = merge_node(&base->pairs[at].value, v, p, err);
    if (pushed)
      p->depth--;
    cnode_free(k);
  }
  cnode_free(over);
  return r;
}

static void append_all(struct cnode *base, struct cnode *over) {
  strip(over);
  for (size_t i = 0; i < over->n; i++)
    cnode_seq_append(base, steal_pointer(&over->items[i]));
  cnode_free(over);
}

static bool scalar_eq(const struct cnode *a, const struct cnode *b) {
  return a->kind == CNODE_SCALAR && b->kind == CNODE_SCALAR && strcmp(a->str, b->str) == 0;
}

/* Orders "host=ip" entries by host, keeping the order of a host's
 * addresses: compose-go keeps extra_hosts as a host -> addresses map. */
static size_t host_len(const struct cnode *n) {
  if (n->kind != CNODE_SCALAR)
    return 0;
  const char *eq = strchr(n->str, '=');
  return eq ? (size_t)(eq - n->str) : strlen(n->str);
}

static int host_cmp(const struct cnode *a, const struct cnode *b) {
  size_t la = host_len(a), lb = host_len(b);
  int c = memcmp(a->str ? a->str : "", b->str ? b->str : "", la < lb ? la : lb);
  return c ? c : (la > lb) - (la < lb);
}

static void sort_hosts(struct cnode *seq) {
  for (size_t i = 1; i < seq->n; i++) {
    struct cnode *x = seq->items[i];
    size_t j = i;
    for (; j > 0 && host_cmp(seq->items[j - 1], x) > 0; j--)
      seq->items[j] = seq->items[j - 1];
    seq->items[j] = x;
  }
}

/* extra_hosts: append the entries the base does not have yet. */
static void append_missing(struct cnode *base, struct cnode *over) {
  strip(over);
  size_t nbase = base->n;
  for (size_t i = 0; i < over->n; i++) {
    bool dup = false;
    for (size_t j = 0; j < nbase && !dup; j++)
      dup = scalar_eq(base->items[j], over->items[i]);
    if (!dup)
      cnode_seq_append(base, steal_pointer(&over->items[i]));
  }
  cnode_free(over);
  sort_hosts(base);
}

/* `!merge`: element i of the override merges into element i of the base;
 * a null or empty element leaves the base one as it is. */
static int merge_positional(struct cnode *base, struct cnode *over, struct cpath *p,
                            struct stack_error **err) {
  clear_tag(over);
  int r = 0;
  for (size_t i = 0; i < over->n; i++) {
    struct cnode *o = steal_pointer(&over->items[i]);
    if (i >= base->n) {
      strip(o);
      cnode_seq_append(base, o);
    } else if (r < 0 || is_null(o) ||
               ((o->kind == CNODE_MAP || o->kind == CNODE_SEQ) && o->n == 0)) {
      cnode_free(o);
    } else {
      bool pushed = path_push(p, NULL);
      r = merge_node(&base->items[i], o, p, err);
      if (pushed)
        p->depth--;
    }
  }
  cnode_free(over);
  return r;
}

/* networks.*.ipam.config: entries with the same subnet merge, others are
 * appended. */
static int merge_ipam(struct cnode *base, struct cnode *over, struct cpath *p,
                      struct stack_error **err) {
  strip(over);
  int r = 0;
  for (size_t i = 0; i < over->n && r == 0; i++) {
    struct cnode *o = steal_pointer(&over->items[i]);
    const char *subnet = cnode_map_get_str(o, "subnet");
    struct cnode **match = NULL;
    for (size_t j = 0; subnet && j < base->n && !match; j++) {
      const char *bs = cnode_map_get_str(base->items[j], "subnet");
      if (bs && strcmp(bs, subnet) == 0)
        match = &base->items[j];
    }
    if (match == NULL) {
      cnode_seq_append(base, o);
      continue;
    }
    bool pushed = path_push(p, NULL);
    r = merge_node(match, o, p, err);
    if (pushed)
      p->depth--;
  }
  cnode_free(over);
  return r;
}

/* A sequence of names (service networks, models) as a mapping name -> null. */
static struct cnode *names_to_map(struct cnode *n) {
  if (n == NULL || n->kind != CNODE_SEQ)
    return n;
  struct cnode *m = cnode_new(CNODE_MAP, n->src, n->line, n->col);
  for (size_t i = 0; i < n->n; i++) {
    struct cnode *it = n->items[i];
    if (it->kind != CNODE_SCALAR)
      continue;
    cnode_map_set_node(m, cnode_scalar_at(it->str, true, it),
                       cnode_new(CNODE_NULL, it->src, it->line, it->col));
  }
  cnode_free(n);
  return m;
}

static int cannot_override(const struct cnode *at, const struct cpath *p,
                           struct stack_error **err) {
  _cleanup_free_ char *where = cnode_where(at);
  _cleanup_free_ char *path = cpath_string(p);
  return stack_error_set(err, -EINVAL,
                         "%s: cannot override %s: the files give it different types (a mapping "
                         "and a list or value); use the same form in both, or tag it !override",
                         where, path);
}

static int merge_node(struct cnode **base, struct cnode *over, struct cpath *p,
                      struct stack_error **err) {
  struct cnode *b = *base;
  if (has_tag(over, "!override") || b == NULL ||
      cpath_match("services.*.command|entrypoint", p) ||
      cpath_match("services.*.healthcheck.test", p) || cpath_match("services.*.ulimits.*", p) ||
      cpath_match("models.*.runtime_flags", p)) {
    replace(base, over);
    return 0;
  }
  if (cpath_match("services.*.logging", p) && b->kind == CNODE_MAP && over->kind == CNODE_MAP) {
    const char *d1 = cnode_map_get_str(b, "driver"), *d2 = cnode_map_get_str(over, "driver");
    if (d1 && d2 && strcmp(d1, d2) != 0) {
      replace(base, over);
      return 0;
    }
  }
  if (cpath_match("services.*.networks|models", p)) {
    b = *base = names_to_map(b);
    over = names_to_map(over);
  }
  if (has_tag(over, "!merge") && b->kind == CNODE_SEQ && over->kind == CNODE_SEQ)
    return merge_positional(b, over, p, err);
  if (is_null(over)) {
    cnode_free(over);
    return 0;
  }
  if (cpath_match("networks.*.ipam.config", p) && b->kind == CNODE_SEQ &&
      over->kind == CNODE_SEQ)
    return merge_ipam(b, over, p, err);
  if (cpath_match("services.*.extra_hosts", p) || cpath_match("services.*.build.extra_hosts", p)) {
    if (b->kind == CNODE_SEQ && over->kind == CNODE_SEQ) {
      append_missing(b, over);
      return 0;
    }
  }
  if (b->kind == CNODE_MAP) {
    if (over->kind != CNODE_MAP) {
      int r = cannot_override(over, p, err);
      cnode_free(over);
      return r;
    }
    return merge_maps(b, over, p, err);
  }
  if (b->kind == CNODE_SEQ) {
    if (over->kind != CNODE_SEQ) {
      int r = cannot_override(over, p, err);
      cnode_free(over);
      return r;
    }
    append_all(b, over);
    return 0;
  }
  replace(base, over);
  return 0;
}

/* ---- unicity --------------------------------------------------------- */

/* The identity of a sequence entry; NULL when the entry has none (kept). */
typedef char *(*indexer_fn)(const struct cnode *n);

static const char *str_of(const struct cnode *n) {
  return n && n->kind == CNODE_SCALAR && !cnode_is_null(n) ? n->str : NULL;
}

static char *idx_key_value(const struct cnode *n) {
  const char *s = str_of(n);
  if (s == NULL)
    return NULL;
  const char *eq = strchr(s, '=');
  return eq ? xstrndup(s, (size_t)(eq - s)) : xstrdup(s);
}

static char *idx_scalar(const struct cnode *n) {
  const char *s = str_of(n);
  return s ? xstrdup(s) : NULL;
}

static char *idx_field(const struct cnode *n, const char *field) {
  if (n->kind == CNODE_MAP) {
    const char *t = cnode_map_get_str(n, field);
    return t ? xstrdup(t) : NULL;
  }
  return idx_scalar(n);
}

static char *idx_target(const struct cnode *n) { return idx_field(n, "target"); }
static char *idx_path(const struct cnode *n) { return idx_field(n, "path"); }

static char *idx_port(const struct cnode *n) {
  if (n->kind != CNODE_MAP)
    return idx_scalar(n);
  const char *target = cnode_map_get_str(n, "target");
  if (target == NULL)
    return NULL;
  const char *host = cnode_map_get_str(n, "host_ip");
  const char *pub = cnode_map_get_str(n, "published");
  const char *proto = cnode_map_get_str(n, "protocol");
  return xasprintf("%s:%s:%s/%s", host ? host : "0.0.0.0", pub ? pub : "", target,
                   proto ? proto : "tcp");
}

static char *idx_mount(const struct cnode *n, const char *dir) {
  if (n->kind == CNODE_MAP) {
    const char *t = cnode_map_get_str(n, "target");
    if (t)
      return xstrdup(t);
    const char *s = cnode_map_get_str(n, "source");
    return xasprintf("%s/%s", dir, s ? s : "");
  }
  const char *s = str_of(n);
  return s ? xasprintf("%s/%s", dir, s) : NULL;
}

static char *idx_secret(const struct cnode *n) { return idx_mount(n, "/run/secrets"); }
static char *idx_config(const struct cnode *n) { return idx_mount(n, ""); }

static const struct {
  const char *pattern;
  indexer_fn fn;
} unique_rules[] = {
    {"networks.*.labels", idx_key_value},
    {"networks.*.ipam.options", idx_key_value},
    {"services.*.annotations|cap_add|cap_drop|dns|dns_opt|dns_search|environment|labels|links|"
     "profiles|sysctls|tmpfs",
     idx_key_value},
    {"services.*.build.args|additional_contexts|tags|labels|platform", idx_key_value},
    {"services.*.deploy.labels", idx_key_value},
    {"services.*.networks.*.aliases|link_local_ips", idx_key_value},
    {"services.*.devices", idx_target},
    {"services.*.volumes", idx_target},
    {"services.*.configs", idx_config},
    {"services.*.secrets", idx_secret},
    {"services.*.env_file", idx_path},
    {"services.*.expose", idx_scalar},
    {"services.*.ports", idx_port},
};

/* Later entries with the same identity replace earlier ones in place. */
static void dedupe(struct cnode *seq, indexer_fn fn) {
  char **ids = xcalloc(seq->n + 1, sizeof(*ids));
  _cleanup_strindex_ struct strindex seen = STRINDEX_INIT;
  size_t w = 0;
  for (size_t i = 0; i < seq->n; i++) {
    char *id = fn(seq->items[i]);
    size_t j = id ? strindex_get(&seen, id) : STRINDEX_NONE;
    if (j != STRINDEX_NONE) {
      cnode_free(seq->items[j]);
      seq->items[j] = seq->items[i];
      free(id);
      continue;
    }
    ids[w] = id;
    if (id)
      strindex_put(&seen, id, w);
    seq->items[w++] = seq->items[i];
  }
  for (size_t i = 0; i < w; i++)
    free(ids[i]);
  free(ids);
  seq->n = w;
}

static void unicity(struct cnode *n, struct cpath *p) {
  if (n->kind == CNODE_SEQ) {
    for (size_t i = 0; i < sizeof(unique_rules) / sizeof(unique_rules[0]); i++) {
      if (cpath_match(unique_rules[i].pattern, p)) {
        dedupe(n, unique_rules[i].fn);
        return;
      }
    }
    return;
  }
  if (n->kind != CNODE_MAP || p->depth >= 5) /* no unique list lies deeper */
    return;
  for (size_t i = 0; i < n->n; i++) {
    p->segs[p->depth++] = n->pairs[i].key->str;
    unicity(n->pairs[i].value, p);
    p->depth--;
  }
}

void compose_merge_unicity(struct cnode *tree) {
  struct cpath p = {.depth = 0};
  if (tree)
    unicity(tree, &p);
}

int compose_merge_at(struct cnode **base, struct cnode *over, const char *path,
                     struct stack_error **err) {
  struct cpath p = {.depth = 0};
  _cleanup_free_ char *copy = xstrdup(path ? path : "");
  for (char *s = copy, *tok; (tok = strsep(&s, ".")) != NULL;)
    if (*tok && p.depth < CPATH_MAX_DEPTH)
      p.segs[p.depth++] = tok;
  int r = merge_node(base, over, &p, err);
  if (r == 0 && *base)
    unicity(*base, &p);
  return r;
}

int compose_merge(struct cnode **base, struct cnode *over, struct stack_error **err) {
  if (over == NULL)
    return 0;
  if (*base == NULL) {
    if (over->kind != CNODE_MAP && !is_null(over)) {
      int r = stack_error_set(err, -EINVAL, "%s: a Compose file must be a mapping at the top",
                              over->src ? over->src->path : "<input>");
      cnode_free(over);
      return r;
    }
    *base = cnode_new(CNODE_MAP, over->src, 1, 1);
  }
  struct cpath p = {.depth = 0};
  int r = merge_node(base, over, &p, err);
  if (r == 0)
    unicity(*base, &p);
  return r;
}

/* ---- tags across canonicalisation ------------------------------------- */

struct saved_tag {
  char **keys; /* path of mapping keys from the root */
  size_t n;
  char *tag;
};

struct compose_tags {
  struct saved_tag *v;
  size_t n, cap;
};

static bool merge_tag(const char *t) {
  return t && (!strcmp(t, "!reset") || !strcmp(t, "!override") || !strcmp(t, "!merge"));
}

static void save_walk(const struct cnode *n, const char **keys, size_t depth,
                      struct compose_tags *t) {
  if (n == NULL || n->kind != CNODE_MAP || depth >= 16)
    return;
  for (size_t i = 0; i < n->n; i++) {
    const struct cnode *v = n->pairs[i].value;
    keys[depth] = n->pairs[i].key->str;
    if (v && merge_tag(v->tag)) {
      t->v = xgrow(t->v, &t->cap, t->n + 1, sizeof(*t->v));
      struct saved_tag *s = &t->v[t->n++];
      s->keys = xcalloc(depth + 1, sizeof(*s->keys));
      for (size_t j = 0; j <= depth; j++)
        s->keys[j] = xstrdup(keys[j]);
      s->n = depth + 1;
      s->tag = xstrdup(v->tag);
    }
    save_walk(v, keys, depth + 1, t);
  }
}

struct compose_tags *compose_tags_save(const struct cnode *tree) {
  struct compose_tags *t = xcalloc(1, sizeof(*t));
  const char *keys[16];
  save_walk(tree, keys, 0, t);
  return t;
}

void compose_tags_restore(struct cnode *tree, struct compose_tags *t) {
  if (t == NULL)
    return;
  for (size_t i = 0; i < t->n; i++) {
    struct saved_tag *s = &t->v[i];
    struct cnode *n = tree;
    for (size_t j = 0; j < s->n && n; j++)
      n = cnode_map_get(n, s->keys[j]);
    if (n && n->tag == NULL)
      n->tag = xstrdup(s->tag);
    for (size_t j = 0; j < s->n; j++)
      free(s->keys[j]);
    free(s->keys);
    free(s->tag);
  }
  free(t->v);
  free(t);
}
