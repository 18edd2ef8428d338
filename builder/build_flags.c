/* The small grammars inside instructions: --flags, RUN --mount, EXPOSE port
 * specs, STOPSIGNAL names, HEALTHCHECK durations, paths.  Each follows what
 * the reference frontend accepts (instructions/bflag.go,
 * commands_runmount.go, go-connections' nat.ParsePortSpec, moby's
 * signal.ParseSignal, time.ParseDuration, path.Clean). */
#include <ctype.h>
#include <errno.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "builder/build_internal.h"
#include "runtime/util/cleanup.h"
#include "runtime/util/sbuf.h"
#include "runtime/util/xalloc.h"

/* ---- string lists ---------------------------------------------------- */

size_t strv_len(char *const *v) {
  size_t n = 0;
  while (v && v[n])
    n++;
  return n;
}

void strv_push(char ***v, char *s) {
  size_t n = strv_len(*v);
  *v = xrealloc(*v, (n + 2) * sizeof(char *));
  (*v)[n] = s;
  (*v)[n + 1] = NULL;
}

char **strv_copy(char *const *v) {
  if (v == NULL)
    return NULL;
  size_t n = strv_len(v);
  char **c = xcalloc(n + 1, sizeof(char *));
  for (size_t i = 0; i < n; i++)
    c[i] = xstrdup(v[i]);
  return c;
}

const char *env_get(char *const *env, const char *key) {
  size_t kl = strlen(key);
  for (size_t i = 0; env && env[i]; i++)
    if (strncmp(env[i], key, kl) == 0 && env[i][kl] == '=')
      return env[i] + kl + 1;
  return NULL;
}

void env_set(char ***env, const char *key, const char *value) {
  size_t kl = strlen(key);
  char *kv = xasprintf("%s=%s", key, value);
  for (size_t i = 0; *env && (*env)[i]; i++) {
    if (strncmp((*env)[i], key, kl) == 0 && (*env)[i][kl] == '=') {
      free((*env)[i]);
      (*env)[i] = kv;
      return;
    }
  }
  strv_push(env, kv);
}

/* ---- flags ----------------------------------------------------------- */

struct bflag *bflag_get(struct bflag *defs, size_t ndefs, const char *name) {
  for (size_t i = 0; i < ndefs; i++)
    if (strcmp(defs[i].name, name) == 0)
      return &defs[i];
  return NULL;
}

void bflags_clear(struct bflag *defs, size_t ndefs) {
  for (size_t i = 0; i < ndefs; i++) {
    free(defs[i].value);
    strv_free(defs[i].values);
    defs[i].value = NULL;
    defs[i].values = NULL;
    defs[i].n_values = 0;
    defs[i].used = false;
  }
}

int bflags_parse(const struct df_node *n, struct bflag *defs, size_t ndefs, char **msg) {
  for (size_t i = 0; i < n->n_flags; i++) {
    const char *a = n->flags[i];
    if (strcmp(a, "--") == 0)
      return 0;
    if (strncmp(a, "--", 2) != 0) {
      *msg = xasprintf("arg should start with -- : %s", a);
      return -EINVAL;
    }
    const char *eq = strchr(a, '=');
    _cleanup_free_ char *fname = eq ? xstrndup(a, (size_t)(eq - a)) : xstrdup(a);
    const char *value = eq ? eq + 1 : NULL;
    struct bflag *f = bflag_get(defs, ndefs, fname + 2);
    if (f == NULL) {
      struct sbuf known = SBUF_INIT;
      for (size_t k = 0; k < ndefs; k++)
        sbuf_printf(&known, "%s--%s", k ? ", " : "", defs[k].name);
      *msg = ndefs ? xasprintf("unknown flag: %s (%s takes %s)", fname, df_cmd_name(n->cmd), known.data)
                   : xasprintf("unknown flag: %s (%s takes no flags)", fname, df_cmd_name(n->cmd));
      sbuf_free(&known);
      return -EINVAL;
    }
    if (f->used && f->type != BF_STRINGS) {
      *msg = xasprintf("duplicate flag specified: %s", fname);
      return -EINVAL;
    }
    f->used = true;
    switch (f->type) {
    case BF_BOOL:
      if (value && value[0] == '\0') {
        *msg = xasprintf("missing a value on flag: %s", fname);
        return -EINVAL;
      }
      if (value == NULL || strcasecmp(value, "true") == 0) {
        f->value = xstrdup("true");
      } else if (strcasecmp(value, "false") == 0) {
        f->value = xstrdup("false");
      } else {
        *msg = xasprintf("expecting boolean value for flag %s, not: %s", fname, value);
        return -EINVAL;
      }
      break;
    case BF_STRING:
      if (value == NULL) {
        *msg = xasprintf("missing a value on flag: %s", fname);
        return -EINVAL;
      }
      f->value = xstrdup(value);
      break;
    case BF_STRINGS:
      if (value == NULL) {
        *msg = xasprintf("missing a value on flag: %s", fname);
        return -EINVAL;
      }
      strv_push(&f->values, xstrdup(value));
      f->n_values++;
      break;
    }
  }
  return 0;
}

/* ---- paths ----------------------------------------------------------- */

char *path_clean(const char *p) {
  if (p[0] == '\0')
    return xstrdup(".");
  bool rooted = p[0] == '/';
  size_t n = strlen(p);
  char *out = xmalloc(n + 2);
  size_t w = 0, r = 0, dotdot = 0;
  if (rooted) {
    out[w++] = '/';
    r = 1;
    dotdot = 1;
  }
  while (r < n) {
    if (p[r] == '/') {
      r++;
    } else if (p[r] == '.' && (r + 1 == n || p[r + 1] == '/')) {
      r++;
    } else if (p[r] == '.' && p[r + 1] == '.' && (r + 2 == n || p[r + 2] == '/')) {
      r += 2;
      if (w > dotdot) {
        w--;
        while (w > dotdot && out[w] != '/')
          w--;
      } else if (!rooted) {
        if (w > 0)
          out[w++] = '/';
        out[w++] = '.';
        out[w++] = '.';
        dotdot = w;
      }
    } else {
      if ((rooted && w != 1) || (!rooted && w != 0))
        out[w++] = '/';
      while (r < n && p[r] != '/')
        out[w++] = p[r++];
    }
  }
  if (w == 0)
    out[w++] = '.';
  out[w] = '\0';
  return out;
}

char *path_join_abs(const char *dir, const char *p) {
  if (p[0] == '/')
    return path_clean(p);
  _cleanup_free_ char *j = xasprintf("/%s/%s", dir ? dir : "", p);
  return path_clean(j);
}

/* ---- durations ------------------------------------------------------- */

int build_parse_duration(const char *s, int64_t *ns, struct stack_error **err) {
  const char *orig = s;
  bool neg = false;
  if (*s == '-' || *s == '+')
    neg = *s++ == '-';
  if (strcmp(s, "0") == 0) {
    *ns = 0;
    return 0;
  }
  if (*s == '\0')
    goto bad;
  double total = 0;
  while (*s) {
    if (!(isdigit((unsigned char)*s) || *s == '.'))
      goto bad;
    double v = 0, scale = 1;
    bool digits = false;
    while (isdigit((unsigned char)*s)) {
      v = v * 10 + (*s++ - '0');
      digits = true;
    }
    if (*s == '.') {
      s++;
      while (isdigit((unsigned char)*s)) {
        scale /= 10;
        v += (*s++ - '0') * scale;
        digits = true;
      }
    }
    if (!digits)
      goto bad;
    double unit;
    if (strncmp(s, "ns", 2) == 0)
      unit = 1, s += 2;
    else if (strncmp(s, "us", 2) == 0)
      unit = 1e3, s += 2;
    else if (strncmp(s, "\xC2\xB5s", 3) == 0 || strncmp(s, "\xCE\xBCs", 3) == 0)
      unit = 1e3, s += 3;
    else if (strncmp(s, "ms", 2) == 0)
      unit = 1e6, s += 2;
    else if (*s == 's')
      unit = 1e9, s++;
    else if (*s == 'm')
      unit = 60e9, s++;
    else if (*s == 'h')
      unit = 3600e9, s++;
    else if (*s == '\0')
      return stack_error_set(err, -EINVAL, "time: missing unit in duration \"%s\"", orig);
    else
      return stack_error_set(err, -EINVAL, "time: unknown unit in duration \"%s\"", orig);
    total += v * unit;
    if (total > 9.2e18)
      return stack_error_set(err, -EINVAL, "time: invalid duration \"%s\"", orig);
  }
  *ns = (int64_t)(neg ? -total : total);
  return 0;
bad:
  return stack_error_set(err, -EINVAL, "time: invalid duration \"%s\"", orig);
}

/* ---- EXPOSE ---------------------------------------------------------- */

static int parse_port_num(const char *s, size_t n, unsigned *out) {
  if (n == 0 || n > 5)
    return -1;
  unsigned v = 0;
  for (size_t i = 0; i < n; i++) {
    if (!isdigit((unsigned char)s[i]))
      return -1;
    v = v * 10 + (unsigned)(s[i] - '0');
  }
  if (v > 65535)
    return -1;
  *out = v;
  return 0;
}

int build_parse_ports(const char *spec, char ***ports, char **msg) {
  _cleanup_free_ char *s = xstrdup(spec);
  const char *proto = "tcp";
  char *slash = strrchr(s, '/');
  if (slash) {
    *slash = '\0';
    proto = slash + 1;
    for (char *c = slash + 1; *c; c++)
      *c = (char)tolower((unsigned char)*c);
    if (strcmp(proto, "tcp") != 0 && strcmp(proto, "udp") != 0 && strcmp(proto, "sctp") != 0) {
      *msg = xasprintf("invalid proto: %s", slash + 1);
      return -EINVAL;
    }
  }
  char *colon = strrchr(s, ':');
  const char *cport = colon ? colon + 1 : s;
  const char *dash = strchr(cport, '-');
  unsigned lo, hi;
  if (dash) {
    if (parse_port_num(cport, (size_t)(dash - cport), &lo) < 0 ||
        parse_port_num(dash + 1, strlen(dash + 1), &hi) < 0 || hi < lo) {
      *msg = xasprintf("invalid containerPort: %s", cport);
      return -EINVAL;
    }
  } else {
    if (parse_port_num(cport, strlen(cport), &lo) < 0) {
      *msg = xasprintf("invalid containerPort: %s", cport);
      return -EINVAL;
    }
    hi = lo;
  }
  for (unsigned p = lo; p <= hi; p++)
    strv_push(ports, xasprintf("%u/%s", p, proto));
  return 0;
}

/* ---- STOPSIGNAL ------------------------------------------------------ */

bool build_signal_valid(const char *s) {
  static const char *names[] = {"ABRT", "ALRM", "BUS",  "CHLD",   "CLD",  "CONT",  "FPE",  "HUP",
                                "ILL",  "INT",  "IO",   "IOT",    "KILL", "PIPE",  "POLL", "PROF",
                                "PWR",  "QUIT", "SEGV", "STKFLT", "STOP", "SYS",   "TERM", "TRAP",
                                "TSTP", "TTIN", "TTOU", "URG",    "USR1", "USR2",  "VTALRM",
                                "WINCH", "XCPU", "XFSZ", "RTMIN", "RTMAX"};
  if (*s == '\0')
    return false;
  char *end;
  errno = 0;
  unsigned long v = strtoul(s, &end, 10);
  if (isdigit((unsigned char)*s))
    return *end == '\0' && errno == 0 && v > 0 && v <= 255;
  const char *n = strncasecmp(s, "SIG", 3) == 0 ? s + 3 : s;
  for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++)
    if (strcasecmp(n, names[i]) == 0)
      return true;
  /* RTMIN+n, RTMAX-n */
  if ((strncasecmp(n, "RTMIN+", 6) == 0 || strncasecmp(n, "RTMAX-", 6) == 0) && n[6]) {
    v = strtoul(n + 6, &end, 10);
    return *end == '\0' && v >= 1 && v <= 15;
  }
  return false;
}

/* ---- RUN --mount ----------------------------------------------------- */

void build_mount_clear(struct build_mount *m) {
  free(m->target);
  free(m->source);
  free(m->from);
  free(m->id);
  free(m->env);
  memset(m, 0, sizeof(*m));
}

/* encoding/csv, one record: fields split at ',', "quoted" fields with ""
 * for a quote. */
static int csv_fields(const char *s, char ***out, char **msg) {
  char **v = NULL;
  const char *p = s;
  for (;;) {
    struct sbuf f = SBUF_INIT;
    if (*p == '"') {
      p++;
      for (;;) {
        if (*p == '\0') {
          sbuf_free(&f);
          strv_free(v);
          *msg = xasprintf("extraneous or missing \" in quoted-field: %s", s);
          return -EINVAL;
        }
        if (*p == '"') {
          if (p[1] == '"') {
            sbuf_putc(&f, '"');
            p += 2;
            continue;
          }
          p++;
          break;
        }
        sbuf_putc(&f, *p++);
      }
      if (*p != ',' && *p != '\0') {
        sbuf_free(&f);
        strv_free(v);
        *msg = xasprintf("extraneous or missing \" in quoted-field: %s", s);
        return -EINVAL;
      }
    } else {
      while (*p && *p != ',')
        sbuf_putc(&f, *p++);
    }
    strv_push(&v, sbuf_steal(&f));
    if (*p == '\0')
      break;
    p++;
  }
  *out = v;
  return 0;
}

int build_mount_from(const char *spec, char **from, char **msg) {
  _cleanup_strv_ char **fields = NULL;
  *from = NULL;
  if (csv_fields(spec, &fields, msg) < 0)
    return -EINVAL;
  for (size_t i = 0; fields[i]; i++) {
    if (strncasecmp(fields[i], "from=", 5) == 0) {
      free(*from);
      *from = xstrdup(fields[i] + 5);
    }
  }
  return 0;
}

static int parse_bool_value(const char *key, const char *v, bool *out, char **msg) {
  if (v == NULL || strcasecmp(v, "true") == 0 || strcmp(v, "1") == 0) {
    *out = true;
    return 0;
  }
  if (strcasecmp(v, "false") == 0 || strcmp(v, "0") == 0) {
    *out = false;
    return 0;
  }
  *msg = xasprintf("invalid value for %s: %s", key, v);
  return -EINVAL;
}

static int parse_size(const char *v, int64_t *out) {
  char *end;
  errno = 0;
  double d = strtod(v, &end);
  if (end == v || errno || d < 0)
    return -1;
  double mul = 1;
  switch (tolower((unsigned char)*end)) {
  case '\0': break;
  case 'b': mul = 1; break;
  case 'k': mul = 1024.0; break;
  case 'm': mul = 1024.0 * 1024; break;
  case 'g': mul = 1024.0 * 1024 * 1024; break;
  case 't': mul = 1024.0 * 1024 * 1024 * 1024; break;
  default: return -1;
  }
  if (*end) {
    end++;
    if (tolower((unsigned char)*end) == 'i')
      end++;
    if (tolower((unsigned char)*end) == 'b')
      end++;
    if (*end)
      return -1;
  }
  *out = (int64_t)(d * mul);
  return 0;
}

int build_parse_mount(const char *spec, const struct mount_expand *ex, const char *workdir,
                      struct build_mount *m, char **msg) {
  memset(m, 0, sizeof(*m));
  m->from_stage = -1;
  m->uid = m->gid = -1;
  _cleanup_strv_ char **fields = NULL;
  if (csv_fields(spec, &fields, msg) < 0)
    return -EINVAL;
  bool ro_set = false, ro = false;
  int r = -EINVAL;
  /* type first: it decides the defaults */
  for (size_t i = 0; fields[i]; i++) {
    if (strncasecmp(fields[i], "type=", 5) != 0)
      continue;
    const char *t = fields[i] + 5;
    if (strcasecmp(t, "bind") == 0)
      m->type = BUILD_MOUNT_BIND;
    else if (strcasecmp(t, "cache") == 0)
      m->type = BUILD_MOUNT_CACHE;
    else if (strcasecmp(t, "tmpfs") == 0)
      m->type = BUILD_MOUNT_TMPFS;
    else if (strcasecmp(t, "secret") == 0)
      m->type = BUILD_MOUNT_SECRET;
    else if (strcasecmp(t, "ssh") == 0)
      m->type = BUILD_MOUNT_SSH;
    else {
      *msg = xasprintf("unsupported mount type \"%s\" (bind, cache, tmpfs, secret or ssh)", t);
      goto fail;
    }
  }
  for (size_t i = 0; fields[i]; i++) {
    char *f = fields[i];
    char *eq = strchr(f, '=');
    _cleanup_free_ char *key = eq ? xstrndup(f, (size_t)(eq - f)) : xstrdup(f);
    for (char *c = key; *c; c++)
      *c = (char)tolower((unsigned char)*c);
    _cleanup_free_ char *val = NULL;
    if (eq) {
      if (ex && ex->fn) {
        if (ex->fn(ex->ctx, eq + 1, &val, msg) < 0)
          goto fail;
      } else {
        val = xstrdup(eq + 1);
      }
    }
    bool b;
    if (strcmp(key, "type") == 0) {
      continue;
    } else if (strcmp(key, "readonly") == 0 || strcmp(key, "ro") == 0) {
      if (parse_bool_value(key, val, &b, msg) < 0)
        goto fail;
      ro_set = true, ro = b;
      continue;
    } else if (strcmp(key, "readwrite") == 0 || strcmp(key, "rw") == 0) {
      if (parse_bool_value(key, val, &b, msg) < 0)
        goto fail;
      ro_set = true, ro = !b;
      continue;
    } else if (strcmp(key, "required") == 0) {
      if (parse_bool_value(key, val, &b, msg) < 0)
        goto fail;
      m->required = b;
      continue;
    }
    if (val == NULL) {
      *msg = xasprintf("invalid field '%s' must be a key=value pair", f);
      goto fail;
    }
    if (strcmp(key, "target") == 0 || strcmp(key, "dst") == 0 || strcmp(key, "destination") == 0) {
      free(m->target);
      m->target = steal_pointer(&val);
    } else if (strcmp(key, "source") == 0 || strcmp(key, "src") == 0) {
      free(m->source);
      m->source = steal_pointer(&val);
    } else if (strcmp(key, "from") == 0) {
      free(m->from);
      m->from = steal_pointer(&val);
    } else if (strcmp(key, "id") == 0) {
      free(m->id);
      m->id = steal_pointer(&val);
    } else if (strcmp(key, "env") == 0) {
      free(m->env);
      m->env = steal_pointer(&val);
    } else if (strcmp(key, "sharing") == 0) {
      if (strcasecmp(val, "shared") == 0)
        m->sharing = BUILD_SHARING_SHARED;
      else if (strcasecmp(val, "private") == 0)
        m->sharing = BUILD_SHARING_PRIVATE;
      else if (strcasecmp(val, "locked") == 0)
        m->sharing = BUILD_SHARING_LOCKED;
      else {
        *msg = xasprintf("unsupported sharing value \"%s\" (shared, private or locked)", val);
        goto fail;
      }
    } else if (strcmp(key, "mode") == 0) {
      char *end;
      errno = 0;
      unsigned long v = strtoul(val, &end, 8);
      if (*val == '\0' || *end || errno || v > 07777) {
        *msg = xasprintf("invalid mode \"%s\": an octal mode like 0755", val);
        goto fail;
      }
      m->mode = (uint32_t)v;
      m->mode_set = true;
    } else if (strcmp(key, "uid") == 0 || strcmp(key, "gid") == 0) {
      char *end;
      errno = 0;
      unsigned long v = strtoul(val, &end, 10);
      if (*val == '\0' || !isdigit((unsigned char)*val) || *end || errno || v > UINT32_MAX) {
        *msg = xasprintf("invalid %s \"%s\": a number", key, val);
        goto fail;
      }
      if (key[0] == 'u')
        m->uid = (long)v;
      else
        m->gid = (long)v;
    } else if (strcmp(key, "size") == 0) {
      if (parse_size(val, &m->size) < 0) {
        *msg = xasprintf("invalid size \"%s\"", val);
        goto fail;
      }
    } else {
      *msg = xasprintf("unexpected key '%s' in '%s'", key, f);
      goto fail;
    }
  }

  if (m->from && (m->type == BUILD_MOUNT_TMPFS || m->type == BUILD_MOUNT_SECRET || m->type == BUILD_MOUNT_SSH)) {
    *msg = xasprintf("'from' is not supported for this mount type");
    goto fail;
  }
  if (m->type == BUILD_MOUNT_SECRET || m->type == BUILD_MOUNT_SSH) {
    if (m->id == NULL && m->target == NULL && m->type == BUILD_MOUNT_SECRET) {
      *msg = xasprintf("a secret mount needs an id or a target");
      goto fail;
    }
    if (m->type == BUILD_MOUNT_SSH && m->id == NULL)
      m->id = xstrdup("default");
    if (m->id == NULL) {
      const char *base = strrchr(m->target, '/');
      m->id = xstrdup(base ? base + 1 : m->target);
    }
    if (m->target == NULL && m->env == NULL)
      m->target = m->type == BUILD_MOUNT_SECRET ? xasprintf("/run/secrets/%s", m->id)
                                                 : xstrdup("/run/buildkit/ssh_agent.0");
    if (!m->mode_set)
      m->mode = m->type == BUILD_MOUNT_SECRET ? 0400 : 0600;
  } else if (m->target == NULL || m->target[0] == '\0') {
    *msg = xasprintf("mount '%s' needs a target", spec);
    goto fail;
  }
  if (m->target && m->target[0] != '/') {
    char *abs = path_join_abs(workdir ? workdir : "/", m->target);
    free(m->target);
    m->target = abs;
  }
  if (m->type == BUILD_MOUNT_BIND)
    m->readonly = ro_set ? ro : true;
  else if (m->type == BUILD_MOUNT_CACHE) {
    m->readonly = ro_set ? ro : false;
    if (m->id == NULL)
      m->id = xstrdup(m->target);
    if (!m->mode_set)
      m->mode = 0755;
  } else {
    m->readonly = ro_set ? ro : m->type != BUILD_MOUNT_TMPFS;
  }
  return 0;
fail:
  build_mount_clear(m);
  return r;
}
