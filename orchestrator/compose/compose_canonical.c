/* Short syntax -> long syntax, per file (compose-go's transform.Canonical),
 * then every scalar given the type compose-go's model gives it (see
 * compose_typing.c), so that files merge and print alike whichever syntax
 * they were written in. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "compose_canonical_util.h"
#include "compose_normalize.h"
#include "compose_scalar.h"
#include "runtime/util/cleanup.h"
#include "runtime/util/error.h"
#include "runtime/util/sbuf.h"
#include "runtime/util/xalloc.h"

/* ---- small builders ---------------------------------------------------- */

struct cnode *cn_str(const char *s, const struct cnode *at) { return cnode_scalar_at(s, true, at); }
struct cnode *cn_plain(const char *s, const struct cnode *at) {
  return cnode_scalar_at(s, false, at);
}
struct cnode *cn_container(enum cnode_kind kind, const struct cnode *at) {
  return at ? cnode_new(kind, at->src, at->line, at->col) : cnode_new(kind, NULL, 0, 0);
}

int cn_fail(struct stack_error **err, const struct cnode *at, const char *service, const char *fmt,
            ...) {
  va_list ap;
  va_start(ap, fmt);
  _cleanup_free_ char *msg = xvasprintf(fmt, ap);
  va_end(ap);
  _cleanup_free_ char *where = cnode_where(at);
  if (service)
    return stack_error_set(err, -EINVAL, "%s: service \"%s\": %s", where, service, msg);
  return stack_error_set(err, -EINVAL, "%s: %s", where, msg);
}

/* Replaces the value of pair in place. */
static void replace(struct cnode_pair *p, struct cnode *v) {
  cnode_free(p->value);
  p->value = v;
}

/* The text of a scalar whatever its type ("" for null). */
static const char *text(const struct cnode *n) {
  return n && n->kind == CNODE_SCALAR && !cnode_is_null(n) ? n->str : "";
}

/* ---- list <-> mapping ---------------------------------------------------- */

/* ["K=V", "K"] -> {K: "V", K: null}; a mapping stays.  Keys are kept as
 * written; a later duplicate wins, as in compose-go. */
static struct cnode *list_to_map(struct cnode *list) {
  if (list == NULL || list->kind != CNODE_SEQ)
    return list;
  struct cnode *m = cn_container(CNODE_MAP, list);
  for (size_t i = 0; i < list->n; i++) {
    const struct cnode *it = list->items[i];
    const char *s = text(it);
    const char *eq = strchr(s, '=');
    _cleanup_free_ char *k = eq ? xstrndup(s, eq - s) : xstrdup(s);
    struct cnode *key = cn_plain(k, it);
    key->quoted = true;
    cnode_map_set_node(m, key, eq ? cn_str(eq + 1, it) : cn_container(CNODE_NULL, it));
  }
  cnode_free(list);
  return m;
}

/* A scalar becomes a one-item list. */
static struct cnode *string_to_list(struct cnode *n) {
  if (n == NULL || n->kind != CNODE_SCALAR || cnode_is_null(n))
    return n;
  struct cnode *l = cn_container(CNODE_SEQ, n);
  cnode_seq_append(l, n);
  return l;
}

/* extra_hosts: mapping (value string or list) or list of "host:ip" /
 * "host=ip" -> list of "host=ip", as compose-go prints them. */
static struct cnode *hosts_list(struct cnode *n) {
  if (n == NULL)
    return n;
  struct cnode *l = cn_container(CNODE_SEQ, n);
  if (n->kind == CNODE_MAP) {
    for (size_t i = 0; i < n->n; i++) {
      const struct cnode *v = n->pairs[i].value;
      const char *host = n->pairs[i].key->str;
      if (v && v->kind == CNODE_SEQ) {
        for (size_t j = 0; j < v->n; j++) {
          _cleanup_free_ char *s = xasprintf("%s=%s", host, text(v->items[j]));
          cnode_seq_append(l, cn_str(s, v->items[j]));
        }
      } else {
        _cleanup_free_ char *s = xasprintf("%s=%s", host, text(v));
        cnode_seq_append(l, cn_str(s, v ? v : n->pairs[i].key));
      }
    }
  } else if (n->kind == CNODE_SEQ) {
    for (size_t i = 0; i < n->n; i++) {
      const char *s = text(n->items[i]);
      const char *sep = strchr(s, '=');
      if (sep == NULL)
        sep = strchr(s, ':');
      _cleanup_free_ char *e =
          sep ? xasprintf("%.*s=%s", (int)(sep - s), s, sep + 1) : xstrdup(s);
      cnode_seq_append(l, cn_str(e, n->items[i]));
    }
  } else {
    cnode_free(l);
    return n;
  }
  cnode_free(n);
  return l;
}

/* ---- shell words (go-shellwords, as compose-go splits command strings) -- */

int cn_shell_split(const struct cnode *at, const char *s, struct cnode **out,
                   struct stack_error **err) {
  struct cnode *l = cn_container(CNODE_SEQ, at);
  _cleanup_sbuf_ struct sbuf w = SBUF_INIT;
  bool in_word = false;
  char quote = 0;
  for (const char *p = s;; p++) {
    char ch = *p;
    if (ch == '\0') {
      if (quote) {
        cnode_free(l);
        return cn_fail(err, at, NULL, "unterminated %c quote in \"%s\"", quote, s);
      }
      if (in_word) {
        cnode_seq_append(l, cn_str(w.data ? w.data : "", at));
      }
      break;
    }
    if (quote == '\'') {
      if (ch == '\'')
        quote = 0;
      else
        sbuf_putc(&w, ch);
      continue;
    }
    if (ch == '\\' && p[1] != '\0') {
      /* go-shellwords: a backslash outside single quotes escapes any character */
      p++;
      sbuf_putc(&w, *p);
      in_word = true;
      continue;
    }
    if (quote == '"') {
      if (ch == '"')
        quote = 0;
      else
        sbuf_putc(&w, ch);
      continue;
    }
    if (ch == '"' || ch == '\'') {
      quote = ch;
      in_word = true;
      continue;
    }
    if (ch == ' ' || ch == '\t' || ch == '\n' || ch == '\r') {
      if (in_word) {
        cnode_seq_append(l, cn_str(w.data ? w.data : "", at));
        sbuf_reset(&w);
        in_word = false;
      }
      continue;
    }
    sbuf_putc(&w, ch);
    in_word = true;
  }
  *out = l;
  return 0;
}

/* ---- ports ------------------------------------------------------------- */

static bool parse_range(const char *s, unsigned long *lo, unsigned long *hi) {
  char *end;
  if (*s < '0' || *s > '9')
    return false;
  *lo = strtoul(s, &end, 10);
  *hi = *lo;
  if (*end == '-') {
    if (end[1] < '0' || end[1] > '9')
      return false;
    *hi = strtoul(end + 1, &end, 10);
  }
  return *end == '\0' && *lo <= 65535 && *hi <= 65535 && *lo <= *hi;
}

static struct cnode *port_entry(const struct cnode *at, const char *ip, unsigned long target,
                                const char *published, const char *proto) {
  struct cnode *m = cn_container(CNODE_MAP, at);
  cnode_map_set(m, "mode", cn_str("ingress", at));
  if (ip && *ip)
    cnode_map_set(m, "host_ip", cn_str(ip, at));
  char buf[32];
  snprintf(buf, sizeof(buf), "%lu", target);
  cnode_map_set(m, "target", cn_plain(buf, at));
  if (published && *published)
    cnode_map_set(m, "published", cn_str(published, at));
  cnode_map_set(m, "protocol", cn_str(proto, at));
  return m;
}

/* "[ip:][host[-host]:]container[-container][/proto]" -> one entry per
 * container port, as docker's nat.ParsePortSpec and compose-go do. */
static int expand_port(const struct cnode *at, const char *svc, struct cnode *out,
                       struct stack_error **err) {
  const char *spec = at->str;
  _cleanup_free_ char *raw = xstrdup(spec);
  const char *proto = "tcp";
  char *slash = strrchr(raw, '/');
  if (slash) {
    *slash = '\0';
    proto = slash + 1;
    if (!*proto)
      return cn_fail(err, at, svc, "invalid port \"%s\": empty protocol", spec);
  }
  /* split on ':' from the right: container, host, the rest is the IP */
  char *container = strrchr(raw, ':');
  char *host = NULL, *ip = NULL;
  if (container) {
    *container++ = '\0';
    host = strrchr(raw, ':');
    if (host) {
      *host++ = '\0';
      ip = raw;
    } else {
      host = raw;
    }
  } else {
    container = raw;
  }
  if (ip) {
    size_t n = strlen(ip);
    if (n >= 2 && ip[0] == '[' && ip[n - 1] == ']') {
      ip[n - 1] = '\0';
      ip++;
    }
  }
  unsigned long clo, chi, hlo = 0, hhi = 0;
  if (!parse_range(container, &clo, &chi) || clo == 0)
    return cn_fail(err, at, svc,
                   "invalid port \"%s\": expected [HOST_IP:][HOST_PORT:]CONTAINER_PORT[/PROTOCOL]",
                   spec);
  bool has_host = host && *host;
  if (has_host && !parse_range(host, &hlo, &hhi))
    return cn_fail(err, at, svc, "invalid port \"%s\": bad host port \"%s\"", spec, host);
  if (has_host && chi - clo != hhi - hlo && clo != chi)
    return cn_fail(err, at, svc,
                   "invalid port \"%s\": the host and container port ranges differ in length",
                   spec);
  for (unsigned long i = 0; i <= chi - clo; i++) {
    char pub[48] = "";
    if (has_host) {
      if (clo == chi && hlo != hhi)
        snprintf(pub, sizeof(pub), "%lu-%lu", hlo, hhi);
      else
        snprintf(pub, sizeof(pub), "%lu", hlo + i);
    }
    cnode_seq_append(out, port_entry(at, ip, clo + i, pub, proto));
  }
  return 0;
}

static int canon_ports(struct cnode_pair *p, const char *svc, struct stack_error **err) {
  struct cnode *ports = p->value;
  if (ports == NULL || ports->kind != CNODE_SEQ)
    return 0;
  struct cnode *out = cn_container(CNODE_SEQ, ports);
  for (size_t i = 0; i < ports->n; i++) {
    struct cnode *it = ports->items[i];
    if (it->kind == CNODE_MAP) {
      ports->items[i] = NULL;
      if (!cnode_map_get(it, "mode"))
        cnode_map_set(it, "mode", cn_str("ingress", it));
      if (!cnode_map_get(it, "protocol"))
        cnode_map_set(it, "protocol", cn_str("tcp", it));
      cnode_seq_append(out, it);
    } else if (it->kind == CNODE_SCALAR && !it->quoted && cscalar_type(it) == CSCALAR_INT) {
      int64_t v;
      cscalar_parse_int(it->str, &v);
      if (v <= 0 || v > 65535) {
        cnode_free(out);
        return cn_fail(err, it, svc, "invalid port %s: must be 1-65535", it->str);
      }
      cnode_seq_append(out, port_entry(it, NULL, (unsigned long)v, NULL, "tcp"));
    } else if (it->kind == CNODE_SCALAR) {
      int r = expand_port(it, svc, out, err);
      if (r < 0) {
        cnode_free(out);
        return r;
      }
    }
  }
  replace(p, out);
  return 0;
}

/* ---- volumes ----------------------------------------------------------- */

static bool is_file_path(const char *s) {
  return s[0] == '.' || s[0] == '/' || s[0] == '~' || (s[0] == '\\' && s[1] == '\\') ||
         (((s[0] >= 'a' && s[0] <= 'z') || (s[0] >= 'A' && s[0] <= 'Z')) && s[1] == ':');
}

static char *clean_path(const char *p);

/* "[source:]target[:options]" (compose-go format.ParseVolume). */
static int parse_volume(const struct cnode *at, const char *svc, struct cnode **out,
                        struct stack_error **err) {
  const char *spec = at->str;
  size_t len = strlen(spec);
  if (len == 0)
    return cn_fail(err, at, svc, "invalid empty volume spec");
  char *parts[3] = {NULL, NULL, NULL};
  size_t np = 0;
  _cleanup_free_ char *buf = xstrdup(spec);
  if (len <= 2) {
    parts[np++] = buf;
  } else {
    char *start = buf;
    int depth = 0;
    for (char *q = buf;; q++) {
      if (*q == '$' && q[1] == '{') {
        depth++;
        continue;
      }
      if (*q == '}' && depth > 0) {
        depth--;
        continue;
      }
      /* a drive letter "C:" is not a separator */
      if (*q == ':' && q - start == 1 &&
          ((start[0] >= 'a' && start[0] <= 'z') || (start[0] >= 'A' && start[0] <= 'Z')))
        continue;
      if ((*q == ':' || *q == '\0') && depth == 0) {
        bool end = *q == '\0';
        *q = '\0';
        if (*start == '\0')
          return cn_fail(err, at, svc, "invalid volume \"%s\": empty section between colons",
                         spec);
        if (np == 3)
          return cn_fail(err, at, svc, "invalid volume \"%s\": too many colons", spec);
        parts[np++] = start;
        start = q + 1;
        if (end)
          break;
      }
    }
  }
  const char *source = np >= 2 ? parts[0] : "";
  const char *target = np >= 2 ? parts[1] : parts[0];
  const char *opts = np == 3 ? parts[2] : NULL;
  bool bind = is_file_path(source);
  struct cnode *m = cn_container(CNODE_MAP, at);
  cnode_map_set(m, "type", cn_str(bind ? "bind" : "volume", at));
  if (*source)
    cnode_map_set(m, "source", cn_str(source, at));
  _cleanup_free_ char *clean = clean_path(target);
  cnode_map_set(m, "target", cn_str(clean, at));
  struct cnode *sub = cn_container(CNODE_MAP, at);
  bool read_only = false;
  _cleanup_free_ char *o = opts ? xstrdup(opts) : NULL;
  for (char *save = NULL, *opt = o ? strtok_r(o, ",", &save) : NULL; opt;
       opt = strtok_r(NULL, ",", &save)) {
    if (!strcmp(opt, "ro"))
      read_only = true;
    else if (!strcmp(opt, "rw"))
      read_only = false;
    else if (!strcmp(opt, "nocopy") && !bind)
      cnode_map_set(sub, "nocopy", cn_plain("true", at));
    else if (bind && (!strcmp(opt, "z") || !strcmp(opt, "Z")))
      cnode_map_set(sub, "selinux", cn_str(opt, at));
    else if (bind && (!strcmp(opt, "rprivate") || !strcmp(opt, "private") ||
                      !strcmp(opt, "rshared") || !strcmp(opt, "shared") ||
                      !strcmp(opt, "rslave") || !strcmp(opt, "slave")))
      cnode_map_set(sub, "propagation", cn_str(opt, at));
    /* other options are ignored, as compose-go does */
  }
  if (read_only)
    cnode_map_set(m, "read_only", cn_plain("true", at));
  cnode_map_set(m, bind ? "bind" : "volume", sub);
  *out = m;
  return 0;
}

/* path.Clean for a container path. */
static char *clean_path(const char *p) {
  if (*p == '\0')
    return xstrdup("");
  bool abs = p[0] == '/';
  _cleanup_free_ char *copy = xstrdup(p);
  _cleanup_free_ char **segs = xcalloc(strlen(p) + 1, sizeof(char *));
  size_t n = 0;
  for (char *save = NULL, *s = strtok_r(copy, "/", &save); s; s = strtok_r(NULL, "/", &save)) {
    if (!strcmp(s, "."))
      continue;
    if (!strcmp(s, "..")) {
      if (n > 0 && strcmp(segs[n - 1], "..") != 0)
        n--;
      else if (!abs)
        segs[n++] = s;
      continue;
    }
    segs[n++] = s;
  }
  struct sbuf b = SBUF_INIT;
  if (abs)
    sbuf_putc(&b, '/');
  for (size_t i = 0; i < n; i++) {
    if (i)
      sbuf_putc(&b, '/');
    sbuf_puts(&b, segs[i]);
  }
  if (b.len == 0)
    sbuf_putc(&b, '.');
  return sbuf_steal(&b);
}

char *cn_clean_path(const char *p) { return clean_path(p); }

static int canon_volumes(struct cnode *vols, const char *svc, struct stack_error **err) {
  if (vols == NULL || vols->kind != CNODE_SEQ)
    return 0;
  for (size_t i = 0; i < vols->n; i++) {
    struct cnode *it = vols->items[i];
    if (it->kind != CNODE_SCALAR)
      continue;
    struct cnode *m = NULL;
    int r = parse_volume(it, svc, &m, err);
    if (r < 0)
      return r;
    cnode_free(it);
    vols->items[i] = m;
  }
  return 0;
}

/* ---- the rest of a service --------------------------------------------- */

/* Scalar items of a list become {key: item}: secrets/configs (source),
 * env_file (path). */
static void items_to_maps(struct cnode *list, const char *key) {
  if (list == NULL || list->kind != CNODE_SEQ)
    return;
  for (size_t i = 0; i < list->n; i++) {
    struct cnode *it = list->items[i];
    if (it->kind == CNODE_SCALAR) {
      struct cnode *m = cn_container(CNODE_MAP, it);
      cnode_map_set(m, key, cn_str(it->str, it));
      cnode_free(it);
      list->items[i] = m;
    }
  }
}

static void canon_file_refs(struct cnode *list) { items_to_maps(list, "source"); }

static int canon_depends_on(struct cnode_pair *p, const char *svc, struct stack_error **err) {
  struct cnode *d = p->value;
  if (d && d->kind == CNODE_SEQ) {
    struct cnode *m = cn_container(CNODE_MAP, d);
    for (size_t i = 0; i < d->n; i++) {
      struct cnode *e = cn_container(CNODE_MAP, d->items[i]);
      cnode_map_set(e, "condition", cn_str("service_started", d->items[i]));
      cnode_map_set(e, "required", cn_plain("true", d->items[i]));
      struct cnode *key = cn_str(text(d->items[i]), d->items[i]);
      cnode_map_set_node(m, key, e);
    }
    replace(p, m);
    return 0;
  }
  if (d && d->kind == CNODE_MAP) {
    for (size_t i = 0; i < d->n; i++) {
      struct cnode *e = d->pairs[i].value;
      if (e == NULL || e->kind != CNODE_MAP)
        return cn_fail(err, e ? e : d->pairs[i].key, svc,
                       "depends_on.%s must be a mapping with a condition", d->pairs[i].key->str);
      if (!cnode_map_get(e, "condition"))
        cnode_map_set(e, "condition", cn_str("service_started", e));
      if (!cnode_map_get(e, "required"))
        cnode_map_set(e, "required", cn_plain("true", e));
    }
  }
  return 0;
}

static struct cnode *canon_env_file(struct cnode *n) {
  n = string_to_list(n);
  items_to_maps(n, "path");
  return n;
}

static int canon_devices(struct cnode *list) {
  if (list == NULL || list->kind != CNODE_SEQ)
    return 0;
  for (size_t i = 0; i < list->n; i++) {
    struct cnode *it = list->items[i];
    if (it->kind != CNODE_SCALAR)
      continue;
    _cleanup_free_ char *s = xstrdup(it->str);
    char *src = s, *dst = NULL, *perm = NULL;
    char *c1 = strchr(s, ':');
    if (c1) {
      *c1 = '\0';
      dst = c1 + 1;
      char *c2 = strchr(dst, ':');
      if (c2) {
        *c2 = '\0';
        perm = c2 + 1;
      }
    }
    struct cnode *m = cn_container(CNODE_MAP, it);
    cnode_map_set(m, "source", cn_str(src, it));
    cnode_map_set(m, "target", cn_str(dst && *dst ? dst : src, it));
    cnode_map_set(m, "permissions", cn_str(perm && *perm ? perm : "rwm", it));
    cnode_free(it);
    list->items[i] = m;
  }
  return 0;
}

static int canon_command(struct cnode_pair *p, const char *svc, struct stack_error **err) {
  struct cnode *v = p->value;
  if (v == NULL || v->kind != CNODE_SCALAR || cnode_is_null(v))
    return 0;
  struct cnode *l = NULL;
  int r = cn_shell_split(v, v->str, &l, err);
  if (r < 0)
    return stack_error_prefix(err, "service \"%s\": %s", svc, p->key->str);
  replace(p, l);
  return 0;
}

static void canon_healthcheck(struct cnode *h) {
  if (h == NULL || h->kind != CNODE_MAP)
    return;
  struct cnode_pair *t = cnode_map_get_pair(h, "test");
  if (t && t->value && t->value->kind == CNODE_SCALAR && !cnode_is_null(t->value)) {
    struct cnode *l = cn_container(CNODE_SEQ, t->value);
    cnode_seq_append(l, cn_str("CMD-SHELL", t->value));
    cnode_seq_append(l, cn_str(t->value->str, t->value));
    replace(t, l);
  }
}

static void canon_build(struct cnode_pair *p) {
  struct cnode *b = p->value;
  if (b && b->kind == CNODE_SCALAR) {
    struct cnode *m = cn_container(CNODE_MAP, b);
    cnode_map_set(m, "context", cn_str(b->str, b));
    replace(p, m);
    return;
  }
  if (b == NULL || b->kind != CNODE_MAP)
    return;
  for (size_t i = 0; i < b->n; i++) {
    struct cnode_pair *q = &b->pairs[i];
    const char *k = q->key->str;
    if (!strcmp(k, "args") || !strcmp(k, "labels") || !strcmp(k, "additional_contexts"))
      q->value = list_to_map(q->value);
    else if (!strcmp(k, "secrets"))
      canon_file_refs(q->value);
    else if (!strcmp(k, "extra_hosts"))
      q->value = hosts_list(q->value);
    else if (!strcmp(k, "ssh") && q->value && q->value->kind == CNODE_MAP) {
      /* {id: path} -> ["id=path"], the form compose-go prints */
      struct cnode *l = cn_container(CNODE_SEQ, q->value);
      for (size_t j = 0; j < q->value->n; j++) {
        const struct cnode *v = q->value->pairs[j].value;
        _cleanup_free_ char *s = cnode_is_null(v)
                                     ? xstrdup(q->value->pairs[j].key->str)
                                     : xasprintf("%s=%s", q->value->pairs[j].key->str, text(v));
        cnode_seq_append(l, cn_str(s, q->value->pairs[j].key));
      }
      replace(q, l);
    } else if (!strcmp(k, "ssh"))
      q->value = string_to_list(q->value);
  }
}

static int canon_service(struct cnode_pair *sp, struct stack_error **err) {
  struct cnode *s = sp->value;
  const char *svc = sp->key->str;
  if (s == NULL || s->kind != CNODE_MAP)
    return 0;
  for (size_t i = 0; i < s->n; i++) {
    struct cnode_pair *p = &s->pairs[i];
    const char *k = p->key->str;
    int r = 0;
    if (!strcmp(k, "build"))
      canon_build(p);
    else if (!strcmp(k, "command") || !strcmp(k, "entrypoint"))
      r = canon_command(p, svc, err);
    else if (!strcmp(k, "configs") || !strcmp(k, "secrets"))
      canon_file_refs(p->value);
    else if (!strcmp(k, "depends_on"))
      r = canon_depends_on(p, svc, err);
    else if (!strcmp(k, "devices"))
      r = canon_devices(p->value);
    else if (!strcmp(k, "dns") || !strcmp(k, "dns_search") || !strcmp(k, "dns_opt") ||
             !strcmp(k, "tmpfs") || !strcmp(k, "label_file"))
      p->value = string_to_list(p->value);
    else if (!strcmp(k, "env_file"))
      p->value = canon_env_file(p->value);
    else if (!strcmp(k, "environment") || !strcmp(k, "labels") || !strcmp(k, "annotations") ||
             !strcmp(k, "sysctls"))
      p->value = list_to_map(p->value);
    else if (!strcmp(k, "extra_hosts"))
      p->value = hosts_list(p->value);
    else if (!strcmp(k, "healthcheck"))
      canon_healthcheck(p->value);
    else if ((!strcmp(k, "networks") || !strcmp(k, "models")) && p->value &&
             p->value->kind == CNODE_SEQ) {
      struct cnode *m = cn_container(CNODE_MAP, p->value);
      for (size_t j = 0; j < p->value->n; j++)
        cnode_map_set_node(m, cn_str(text(p->value->items[j]), p->value->items[j]),
                           cn_container(CNODE_NULL, p->value->items[j]));
      replace(p, m);
    } else if (!strcmp(k, "ports"))
      r = canon_ports(p, svc, err);
    else if (!strcmp(k, "volumes"))
      r = canon_volumes(p->value, svc, err);
    else if (!strcmp(k, "extends") && p->value && p->value->kind == CNODE_SCALAR) {
      struct cnode *m = cn_container(CNODE_MAP, p->value);
      cnode_map_set(m, "service", cn_str(p->value->str, p->value));
      replace(p, m);
    } else if (!strcmp(k, "deploy") && p->value && p->value->kind == CNODE_MAP) {
      struct cnode_pair *l = cnode_map_get_pair(p->value, "labels");
      if (l)
        l->value = list_to_map(l->value);
    } else if (!strcmp(k, "logging") && p->value && p->value->kind == CNODE_MAP) {
      /* nothing: options are typed as strings below */
    }
    if (r < 0)
      return r;
  }
  return 0;
}

/* Top-level networks/volumes/secrets/configs: null -> {}, `external:
 * {name: x}` -> `name: x, external: true`, labels list -> mapping. */
static int canon_resource(struct cnode_pair *rp, struct stack_error **err) {
  if (rp->value == NULL || cnode_is_null(rp->value)) {
    replace(rp, cn_container(CNODE_MAP, rp->value ? rp->value : rp->key));
    return 0;
  }
  struct cnode *r = rp->value;
  if (r->kind != CNODE_MAP)
    return 0;
  struct cnode_pair *ext = cnode_map_get_pair(r, "external");
  if (ext && ext->value && ext->value->kind == CNODE_MAP) {
    const char *extname = cnode_map_get_str(ext->value, "name");
    const char *name = cnode_map_get_str(r, "name");
    if (extname && name && strcmp(extname, name) != 0)
      return cn_fail(err, ext->value, NULL,
                     "%s: name and external.name conflict; only use name", rp->key->str);
    _cleanup_free_ char *en = extname ? xstrdup(extname) : NULL;
    const struct cnode *at = ext->value;
    struct cnode *t = cn_plain("true", at);
    replace(ext, t);
    if (en && !name) {
      cnode_map_set(r, "name", cn_str(en, t));
      /* compose-go prints name before external */
      struct cnode *e = cnode_map_take(r, "external");
      cnode_map_set(r, "external", e);
    }
  }
  struct cnode_pair *l = cnode_map_get_pair(r, "labels");
  if (l)
    l->value = list_to_map(l->value);
  return 0;
}

static void canon_include(struct cnode *inc) {
  if (inc == NULL || inc->kind != CNODE_SEQ)
    return;
  for (size_t i = 0; i < inc->n; i++) {
    struct cnode *it = inc->items[i];
    if (it->kind == CNODE_SCALAR) {
      struct cnode *m = cn_container(CNODE_MAP, it);
      struct cnode *l = cn_container(CNODE_SEQ, it);
      cnode_seq_append(l, cn_str(it->str, it));
      cnode_map_set(m, "path", l);
      cnode_free(it);
      inc->items[i] = m;
    } else if (it->kind == CNODE_MAP) {
      struct cnode_pair *p = cnode_map_get_pair(it, "path");
      if (p)
        p->value = string_to_list(p->value);
      p = cnode_map_get_pair(it, "env_file");
      if (p)
        p->value = string_to_list(p->value);
    }
  }
}

int compose_canonical(struct cnode *file_tree, struct stack_error **err) {
  if (file_tree == NULL || file_tree->kind != CNODE_MAP)
    return 0;
  cnode_map_remove(file_tree, "version"); /* obsolete; compose-go drops it */
  for (size_t i = 0; i < file_tree->n; i++) {
    struct cnode_pair *p = &file_tree->pairs[i];
    const char *k = p->key->str;
    struct cnode *v = p->value;
    int r = 0;
    if (!strcmp(k, "services") && v && v->kind == CNODE_MAP) {
      for (size_t j = 0; j < v->n && r == 0; j++)
        r = canon_service(&v->pairs[j], err);
    } else if ((!strcmp(k, "networks") || !strcmp(k, "volumes") || !strcmp(k, "secrets") ||
                !strcmp(k, "configs")) &&
               v && v->kind == CNODE_MAP) {
      for (size_t j = 0; j < v->n && r == 0; j++)
        r = canon_resource(&v->pairs[j], err);
    } else if (!strcmp(k, "include")) {
      canon_include(v);
    }
    if (r < 0)
      return r;
  }
  return compose_apply_types(file_tree, err);
}
