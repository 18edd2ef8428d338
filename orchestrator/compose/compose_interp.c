#include "compose_interp.h"

#include <errno.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include "runtime/util/cleanup.h"
#include "runtime/util/error.h"
#include "runtime/util/sbuf.h"
#include "runtime/util/xalloc.h"

static bool name_start(char c) {
  return c == '_' || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z');
}

static bool name_char(char c) { return name_start(c) || (c >= '0' && c <= '9'); }

static int invalid(const char *tmpl, struct stack_error **err) {
  return stack_error_set(err, -EINVAL,
                         "Invalid template: \"%s\" (write $$ for a literal $, and ${NAME} or "
                         "${NAME:-default} for a variable)",
                         tmpl);
}

/* How variables are found, and who hears of the unset ones. */
struct interp {
  compose_lookup_fn lookup;
  compose_unset_fn unset; /* may be NULL */
  void *ud;
};

/* $VAR or ${VAR}: "" when unset, which compose-go warns about. */
static void plain(const struct interp *in, const char *name, struct sbuf *out) {
  const char *v = in->lookup(name, in->ud);
  if (v == NULL && in->unset)
    in->unset(name, in->ud);
  sbuf_puts(out, v ? v : "");
}

static int subst(const char *s, size_t len, const char *whole, const struct interp *in,
                 unsigned depth, struct sbuf *out, struct stack_error **err);

/* Expands the braced form whose body is body[0..len) (between "${" and the
 * matching "}"). */
static int braced(const char *body, size_t len, const char *whole, const struct interp *in,
                  unsigned depth, struct sbuf *out, struct stack_error **err) {
  size_t n = 0;
  if (len == 0 || !name_start(body[0]))
    return invalid(whole, err);
  while (n < len && name_char(body[n]))
    n++;
  _cleanup_free_ char *name = xstrndup(body, n);
  if (n == len) {
    plain(in, name, out);
    return 0;
  }
  const char *value = in->lookup(name, in->ud);
  bool colon = body[n] == ':';
  size_t op = n + (colon ? 1 : 0);
  if (op >= len || (body[op] != '-' && body[op] != '+' && body[op] != '?'))
    return invalid(whole, err);
  const char *arg = body + op + 1;
  size_t arg_len = len - op - 1;
  /* With ':', an empty value counts as unset. */
  bool set = value != NULL && (!colon || value[0] != '\0');
  switch (body[op]) {
  case '-':
    if (set) {
      sbuf_puts(out, value);
      return 0;
    }
    return subst(arg, arg_len, whole, in, depth + 1, out, err);
  case '+':
    if (!set)
      return 0;
    return subst(arg, arg_len, whole, in, depth + 1, out, err);
  default: {
    if (set) {
      sbuf_puts(out, value);
      return 0;
    }
    _cleanup_sbuf_ struct sbuf msg = SBUF_INIT;
    int r = subst(arg, arg_len, whole, in, depth + 1, &msg, err);
    if (r < 0)
      return r;
    if (msg.len)
      return stack_error_set(err, -EINVAL, "required variable %s is missing a value: %s", name,
                             msg.data);
    return stack_error_set(err, -EINVAL, "required variable %s is missing a value", name);
  }
  }
}

static int subst(const char *s, size_t len, const char *whole, const struct interp *in,
                 unsigned depth, struct sbuf *out, struct stack_error **err) {
  if (depth > COMPOSE_INTERP_MAX_DEPTH)
    return stack_error_set(err, -EINVAL, "Invalid template: \"%s\" nests deeper than %d levels",
                           whole, COMPOSE_INTERP_MAX_DEPTH);
  size_t i = 0;
  while (i < len) {
    const char *dollar = memchr(s + i, '$', len - i);
    if (dollar == NULL) {
      sbuf_append(out, s + i, len - i);
      break;
    }
    size_t d = (size_t)(dollar - s);
    sbuf_append(out, s + i, d - i);
    i = d + 1;
    if (i < len && s[i] == '$') {
      sbuf_putc(out, '$');
      i++;
    } else if (i < len && s[i] == '{') {
      /* The body ends at the brace that balances this one. */
      size_t j = i + 1;
      int level = 1;
      for (; j < len; j++) {
        if (s[j] == '{')
          level++;
        else if (s[j] == '}' && --level == 0)
          break;
      }
      if (j >= len)
        return invalid(whole, err);
      int r = braced(s + i + 1, j - i - 1, whole, in, depth, out, err);
      if (r < 0)
        return r;
      i = j + 1;
    } else if (i < len && name_start(s[i])) {
      size_t j = i;
      while (j < len && name_char(s[j]))
        j++;
      _cleanup_free_ char *name = xstrndup(s + i, j - i);
      plain(in, name, out);
      i = j;
    } else {
      sbuf_putc(out, '$');
    }
  }
  return 0;
}

static int interp_string(const char *tmpl, const struct interp *in, char **out,
                         struct stack_error **err) {
  if (strchr(tmpl, '$') == NULL) {
    *out = xstrdup(tmpl);
    return 0;
  }
  _cleanup_sbuf_ struct sbuf b = SBUF_INIT;
  int r = subst(tmpl, strlen(tmpl), tmpl, in, 0, &b, err);
  if (r < 0)
    return r;
  *out = sbuf_steal(&b);
  return 0;
}

int compose_interp_string(const char *tmpl, compose_lookup_fn lookup, void *ud, char **out,
                          struct stack_error **err) {
  struct interp in = {lookup, NULL, ud};
  return interp_string(tmpl, &in, out, err);
}

/* Key path for messages, e.g. "services.web.image". */
struct kpath {
  const char *segs[256];
  size_t n;
};

static char *kpath_str(const struct kpath *p) {
  struct sbuf b = SBUF_INIT;
  for (size_t i = 0; i < p->n; i++) {
    if (i)
      sbuf_putc(&b, '.');
    sbuf_puts(&b, p->segs[i] ? p->segs[i] : "[]");
  }
  return sbuf_steal(&b);
}

static int walk(struct cnode *n, struct kpath *path, const struct interp *in,
                struct stack_error **err) {
  if (n->kind == CNODE_SCALAR) {
    if (strchr(n->str, '$') == NULL)
      return 0;
    char *v = NULL;
    int r = interp_string(n->str, in, &v, err);
    if (r < 0) {
      _cleanup_free_ char *where = cnode_where(n);
      _cleanup_free_ char *p = kpath_str(path);
      return stack_error_prefix(err, "%s: error while interpolating %s", where, p);
    }
    free(n->str);
    n->str = v;
    return 0;
  }
  bool push = path->n < sizeof(path->segs) / sizeof(path->segs[0]);
  for (size_t i = 0; i < n->n; i++) {
    struct cnode *child = n->kind == CNODE_SEQ ? n->items[i] : n->pairs[i].value;
    if (push)
      path->segs[path->n++] = n->kind == CNODE_SEQ ? NULL : n->pairs[i].key->str;
    int r = walk(child, path, in, err);
    if (push)
      path->n--;
    if (r < 0)
      return r;
  }
  return 0;
}

int compose_interp_tree(struct cnode *root, compose_lookup_fn lookup, compose_unset_fn unset,
                        void *ud, struct stack_error **err) {
  struct kpath path = {.n = 0};
  struct interp in = {lookup, unset, ud};
  return root ? walk(root, &path, &in, err) : 0;
}
