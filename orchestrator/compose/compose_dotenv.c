#include "compose_dotenv.h"

#include <errno.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include "runtime/util/cleanup.h"
#include "runtime/util/error.h"
#include "runtime/util/fsutil.h"
#include "runtime/util/sbuf.h"
#include "runtime/util/xalloc.h"

struct dparse {
  const char *buf, *end;
  const char *path;
  compose_lookup_fn lookup;
  void *ud;
  struct compose_env *out;
};

static unsigned line_of(const struct dparse *d, const char *p) {
  unsigned line = 1;
  for (const char *q = d->buf; q < p && q < d->end; q++)
    line += *q == '\n';
  return line;
}

/* Space that does not end a line (compose-go's isSpace). */
static bool inline_space(unsigned char c) {
  return c == '\t' || c == '\v' || c == '\f' || c == '\r' || c == ' ';
}

static bool any_space(unsigned char c) { return inline_space(c) || c == '\n'; }

static bool key_char(unsigned char c) {
  return c == '_' || c == '.' || c == '-' || c == '[' || c == ']' || (c >= 'a' && c <= 'z') ||
         (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c >= 0x80;
}

/* Lookups in values: the caller's environment first, then this file. */
static const char *value_lookup(const char *name, void *ud) {
  const struct dparse *d = ud;
  const char *v = d->lookup ? d->lookup(name, d->ud) : NULL;
  return v ? v : compose_env_get(d->out, name);
}

static int expand(struct dparse *d, const char *value, const char *at, char **out,
                  struct stack_error **err) {
  int r = compose_interp_string(value, value_lookup, d, out, err);
  if (r < 0)
    return stack_error_prefix(err, "%s:%u", d->path, line_of(d, at));
  return 0;
}

/* The escapes compose-go accepts in double quotes (\a \b \f \n \r \t \v
 * \\ \" \$ and octal \0NNN); anything else stays as written.  \$ becomes $$
 * so that interpolation leaves a literal $. */
static char *unescape(const char *s) {
  struct sbuf b = SBUF_INIT;
  for (const char *p = s; *p; p++) {
    if (*p != '\\' || p[1] == '\0') {
      sbuf_putc(&b, *p);
      continue;
    }
    char c = p[1], o;
    const char *simple = strchr("abfnrtv\\\"", c);
    if (c != '\0' && simple) {
      static const char map[] = "\a\b\f\n\r\t\v\\\"";
      sbuf_putc(&b, map[simple - "abfnrtv\\\""]);
      p++;
    } else if (c == '$') {
      sbuf_puts(&b, "$$");
      p++;
    } else if (c == '0') {
      /* Go reads \0NNN as the octal \NNN: exactly three digits after the 0. */
      const char *q = p + 2;
      int n = 0, v = 0;
      while (n < 3 && q[n] >= '0' && q[n] <= '7') {
        v = v * 8 + (q[n] - '0');
        n++;
      }
      if (n == 3 && v <= 255 && v != 0) {
        o = (char)v;
        sbuf_putc(&b, o);
        p = q + 2;
      } else {
        sbuf_putc(&b, *p);
      }
    } else {
      sbuf_putc(&b, *p);
    }
  }
  return sbuf_steal(&b);
}

/* Reads the value starting at *pp (leading spaces skipped); advances *pp. */
static int read_value(struct dparse *d, const char **pp, char **out, struct stack_error **err) {
  const char *p = *pp;
  if (p < d->end && (*p == '"' || *p == '\'')) {
    char quote = *p;
    struct sbuf chars = SBUF_INIT;
    bool esc = false;
    for (const char *q = p + 1; q < d->end; q++) {
      if (*q != quote) {
        if (!esc && *q == '\\') {
          esc = true;
          continue;
        }
        if (esc) {
          esc = false;
          sbuf_putc(&chars, '\\');
        }
        sbuf_putc(&chars, *q);
        continue;
      }
      if (esc) {
        esc = false;
        sbuf_putc(&chars, *q);
        continue;
      }
      _cleanup_free_ char *value = sbuf_steal(&chars);
      *pp = q + 1;
      if (quote == '\'') {
        *out = steal_pointer(&value);
        return 0;
      }
      _cleanup_free_ char *unesc = unescape(value);
      return expand(d, unesc, p, out, err);
    }
    sbuf_free(&chars);
    const char *nl = memchr(p, '\n', (size_t)(d->end - p));
    return stack_error_set(err, -EINVAL, "%s:%u: unterminated quoted value %.*s", d->path,
                           line_of(d, p), (int)((nl ? nl : d->end) - p), p);
  }
  const char *nl = memchr(p, '\n', (size_t)(d->end - p));
  const char *stop = nl ? nl : d->end;
  *pp = stop;
  /* " #" starts an inline comment. */
  for (const char *q = p; q + 1 < stop; q++) {
    if (q[0] == ' ' && q[1] == '#') {
      stop = q;
      break;
    }
  }
  while (stop > p && any_space((unsigned char)stop[-1]))
    stop--;
  _cleanup_free_ char *value = xstrndup(p, (size_t)(stop - p));
  return expand(d, value, p, out, err);
}

int compose_dotenv_parse(const char *buf, size_t len, const char *path, compose_lookup_fn lookup,
                         void *ud, struct compose_env *out, struct stack_error **err) {
  struct dparse d = {buf, buf + len, path, lookup, ud, out};
  if (memchr(buf, '\0', len))
    return stack_error_set(err, -EINVAL, "%s: not a text file (contains NUL bytes)", path);
  const char *p = buf;
  if (len >= 3 && memcmp(p, "\xEF\xBB\xBF", 3) == 0)
    p += 3;
  for (;;) {
    /* Start of the next statement: skip blank space and comment lines. */
    while (p < d.end && any_space((unsigned char)*p))
      p++;
    if (p >= d.end)
      break;
    if (*p == '#') {
      const char *nl = memchr(p, '\n', (size_t)(d.end - p));
      if (nl == NULL)
        break;
      p = nl;
      continue;
    }
    const char *stmt = p;
    if ((size_t)(d.end - p) > 6 && memcmp(p, "export", 6) == 0 && inline_space((unsigned char)p[6])) {
      p += 6;
      while (p < d.end && inline_space((unsigned char)*p))
        p++;
    }
    const char *kstart = p;
    bool inherited = true;
    for (; p < d.end; p++) {
      unsigned char c = (unsigned char)*p;
      if (inline_space(c) || key_char(c))
        continue;
      if (c == '=' || c == ':' || c == '\n') {
        inherited = c == '\n';
        break;
      }
      const char *nl = memchr(kstart, '\n', (size_t)(d.end - kstart));
      return stack_error_set(err, -EINVAL,
                             "%s:%u: unexpected character '%c' in variable name \"%.*s\" (names "
                             "may use letters, digits, _ . - [ ])",
                             path, line_of(&d, p), c, (int)((nl ? nl : d.end) - kstart), kstart);
    }
    const char *kend = p;
    while (kend > kstart && any_space((unsigned char)kend[-1]))
      kend--;
    _cleanup_free_ char *key = xstrndup(kstart, (size_t)(kend - kstart));
    if (strpbrk(key, " \t\v\f\r"))
      return stack_error_set(err, -EINVAL, "%s:%u: key \"%s\" cannot contain a space", path,
                             line_of(&d, stmt), key);
    if (key[0] == '\0')
      return stack_error_set(err, -EINVAL, "%s:%u: missing variable name before '='", path,
                             line_of(&d, stmt));
    if (p < d.end)
      p++; /* past '=', ':' or '\n' */
    if (inherited) {
      const char *v = lookup ? lookup(key, ud) : NULL;
      if (v)
        compose_env_set(out, key, v);
      continue;
    }
    while (p < d.end && inline_space((unsigned char)*p))
      p++;
    _cleanup_free_ char *value = NULL;
    int r = read_value(&d, &p, &value, err);
    if (r < 0)
      return r;
    compose_env_set(out, key, value);
  }
  return 0;
}

int compose_dotenv_read_file(const char *path, compose_lookup_fn lookup, void *ud,
                             struct compose_env *out, struct stack_error **err) {
  _cleanup_free_ char *buf = NULL;
  size_t len = 0;
  int r = fs_read_file(path, 16u << 20, &buf, &len, err);
  if (r < 0)
    return r;
  return compose_dotenv_parse(buf, len, path, lookup, ud, out, err);
}
