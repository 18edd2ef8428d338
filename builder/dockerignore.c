/* moby/patternmatcher's matching, without regular expressions: each
 * pattern becomes a small token list matched by an NFA walk (linear in
 * pattern x path, whatever the stars), and the exact/prefix/suffix
 * shortcuts the reference takes are taken the same way because they do not
 * always agree with its regex ("**foo" matches "barfoo"). */
#include "builder/dockerignore.h"

#include <errno.h>
#include <string.h>

#include "builder/build_internal.h"
#include "builder/text.h"
#include "runtime/util/cleanup.h"
#include "runtime/util/xalloc.h"

enum tok_kind {
  T_LIT,      /* one code point */
  T_ANY1,     /* ? : any but '/' */
  T_STAR,     /* * : any run without '/' */
  T_DS_ENTRY, /* ** followed by more: (.* /)? -- entry */
  T_DS_INNER, /*                                 -- inside */
  T_DS_END,   /* ** at the end: .* */
  T_CLASS,    /* [...] */
};

struct tok {
  enum tok_kind kind;
  uint32_t cp;
  const char *cls; /* T_CLASS: the text after '[' (up to its ']') */
};

enum match_type { M_EXACT, M_PREFIX, M_SUFFIX, M_NFA };

struct pattern {
  char *text; /* cleaned, without '!' */
  bool exception;
  enum match_type type;
  struct tok *toks;
  size_t n_toks;
};

struct dockerignore {
  struct pattern *p;
  size_t n;
  bool exceptions;
  char **texts;
};

void dockerignore_free(struct dockerignore *di) {
  if (di == NULL)
    return;
  for (size_t i = 0; i < di->n; i++) {
    free(di->p[i].text);
    free(di->p[i].toks);
  }
  free(di->p);
  strv_free(di->texts);
  free(di);
}

bool dockerignore_has_exceptions(const struct dockerignore *di) { return di->exceptions; }
char *const *dockerignore_patterns(const struct dockerignore *di) { return di->texts; }

/* filepath.Match's syntax: classes closed, ranges in order, escapes
 * followed by something. */
static bool get_esc(const char **s, uint32_t *cp) {
  const char *p = *s;
  if (*p == '\0' || *p == '-' || *p == ']')
    return false;
  if (*p == '\\') {
    p++;
    if (*p == '\0')
      return false;
  }
  p += text_decode(p, strlen(p), cp);
  *s = p;
  return true;
}

static bool class_valid(const char **s) {
  const char *p = *s; /* after '[' */
  if (*p == '^')
    p++;
  bool first = true;
  for (;;) {
    if (*p == ']' && !first) {
      *s = p + 1;
      return true;
    }
    uint32_t lo, hi;
    if (!get_esc(&p, &lo))
      return false;
    if (*p == '-') {
      p++;
      if (!get_esc(&p, &hi) || hi < lo)
        return false;
    }
    first = false;
  }
}

static bool syntax_ok(const char *p) {
  while (*p) {
    if (*p == '\\') {
      if (p[1] == '\0')
        return false;
      p += 2;
    } else if (*p == '[') {
      p++;
      if (!class_valid(&p))
        return false;
    } else {
      p++;
    }
  }
  return true;
}

static bool class_match(const char *cls, uint32_t ch) {
  bool neg = *cls == '^';
  if (neg)
    cls++;
  bool in = false, first = true;
  while (!(*cls == ']' && !first)) {
    uint32_t lo, hi;
    if (!get_esc(&cls, &lo))
      return false;
    hi = lo;
    if (*cls == '-') {
      cls++;
      get_esc(&cls, &hi);
    }
    if (ch >= lo && ch <= hi)
      in = true;
    first = false;
  }
  return in != neg;
}

/* Pattern.compile, minus the regex. */
static void compile(struct pattern *pt) {
  const char *s = pt->text;
  size_t n = strlen(s);
  enum match_type type = M_EXACT;
  pt->toks = xcalloc(n + 2, sizeof(struct tok)); /* at most one token a byte, + DS_INNER */
  size_t nt = 0;
  for (size_t i = 0, idx = 0; i < n; idx++) {
    uint32_t cp;
    size_t w = text_decode(s + i, n - i, &cp);
    if (cp == '*') {
      i++;
      if (i < n && s[i] == '*') {
        i++;
        if (i < n && s[i] == '/')
          i++;
        if (i >= n) {
          if (type == M_EXACT)
            type = M_PREFIX;
          else
            type = M_NFA;
          pt->toks[nt++].kind = T_DS_END;
        } else {
          pt->toks[nt++].kind = T_DS_ENTRY;
          pt->toks[nt++].kind = T_DS_INNER;
          type = M_NFA;
        }
        if (idx == 0)
          type = M_SUFFIX;
      } else {
        pt->toks[nt++].kind = T_STAR;
        type = M_NFA;
      }
      continue;
    }
    if (cp == '?') {
      pt->toks[nt++].kind = T_ANY1;
      type = M_NFA;
      i++;
      continue;
    }
    if (cp == '\\') {
      i++;
      if (i < n) {
        w = text_decode(s + i, n - i, &cp);
        pt->toks[nt].kind = T_LIT;
        pt->toks[nt++].cp = cp;
        i += w;
        type = M_NFA;
      } else {
        pt->toks[nt].kind = T_LIT;
        pt->toks[nt++].cp = '\\';
      }
      continue;
    }
    if (cp == '[') {
      pt->toks[nt].kind = T_CLASS;
      pt->toks[nt++].cls = s + i + 1;
      const char *p = s + i + 1;
      class_valid(&p); /* checked already: moves past ']' */
      i = (size_t)(p - s);
      type = M_NFA;
      continue;
    }
    pt->toks[nt].kind = T_LIT;
    pt->toks[nt++].cp = cp;
    i += w;
  }
  pt->n_toks = nt;
  pt->type = type;
}

static void closure(const struct pattern *pt, bool *set) {
  for (size_t i = 0; i < pt->n_toks; i++) {
    if (!set[i])
      continue;
    enum tok_kind k = pt->toks[i].kind;
    if (k == T_STAR || k == T_DS_END)
      set[i + 1] = true;
    else if (k == T_DS_ENTRY)
      set[i + 1] = set[i + 2] = true;
  }
}

static bool nfa_match(const struct pattern *pt, const char *path) {
  size_t ns = pt->n_toks + 1;
  _cleanup_free_ bool *cur = xcalloc(ns + 1, sizeof(bool));
  _cleanup_free_ bool *nxt = xcalloc(ns + 1, sizeof(bool));
  cur[0] = true;
  closure(pt, cur);
  size_t len = strlen(path);
  for (size_t i = 0; i < len;) {
    uint32_t ch;
    i += text_decode(path + i, len - i, &ch);
    memset(nxt, 0, (ns + 1) * sizeof(bool));
    bool any = false;
    for (size_t s = 0; s < pt->n_toks; s++) {
      if (!cur[s])
        continue;
      const struct tok *t = &pt->toks[s];
      switch (t->kind) {
      case T_LIT:
        if (ch == t->cp)
          nxt[s + 1] = any = true;
        break;
      case T_ANY1:
        if (ch != '/')
          nxt[s + 1] = any = true;
        break;
      case T_CLASS:
        if (class_match(t->cls, ch))
          nxt[s + 1] = any = true;
        break;
      case T_STAR:
        if (ch != '/')
          nxt[s] = any = true;
        break;
      case T_DS_END:
        nxt[s] = any = true;
        break;
      case T_DS_INNER:
        nxt[s] = any = true;
        if (ch == '/')
          nxt[s + 1] = true;
        break;
      case T_DS_ENTRY:
        break;
      }
    }
    if (!any)
      return false;
    closure(pt, nxt);
    bool *t = cur;
    cur = nxt;
    nxt = t;
  }
  return cur[pt->n_toks];
}

static bool pattern_match(const struct pattern *pt, const char *path) {
  const char *p = pt->text;
  switch (pt->type) {
  case M_EXACT:
    return strcmp(path, p) == 0;
  case M_PREFIX:
    return strncmp(path, p, strlen(p) - 2) == 0;
  case M_SUFFIX: {
    const char *suffix = p + 2;
    size_t sl = strlen(suffix), pl = strlen(path);
    if (pl >= sl && strcmp(path + pl - sl, suffix) == 0)
      return true;
    return suffix[0] == '/' && strcmp(path, suffix + 1) == 0;
  }
  case M_NFA:
    return nfa_match(pt, path);
  }
  return false;
}

static int add_pattern(struct dockerignore *di, const char *raw, const char *where, struct stack_error **err) {
  size_t st, len;
  text_trim(raw, strlen(raw), &st, &len);
  if (len == 0)
    return 0;
  _cleanup_free_ char *t = xstrndup(raw + st, len);
  _cleanup_free_ char *c = path_clean(t);
  bool exc = false;
  const char *body = c;
  if (c[0] == '!') {
    if (c[1] == '\0')
      return stack_error_set(err, -EINVAL, "%sillegal exclusion pattern: \"!\"", where);
    exc = true;
    body = c + 1;
  }
  if (!syntax_ok(body))
    return stack_error_set(err, -EINVAL, "%ssyntax error in pattern \"%s\": an unclosed [, a bad range or a trailing \\",
                           where, body);
  di->p = xrealloc(di->p, (di->n + 1) * sizeof(*di->p));
  struct pattern *pt = &di->p[di->n++];
  memset(pt, 0, sizeof(*pt));
  pt->text = xstrdup(body);
  pt->exception = exc;
  di->exceptions |= exc;
  compile(pt);
  strv_push(&di->texts, xstrdup(c));
  return 0;
}

int dockerignore_new(char *const *patterns, struct dockerignore **out, struct stack_error **err) {
  struct dockerignore *di = xcalloc(1, sizeof(*di));
  di->texts = xcalloc(1, sizeof(char *));
  for (size_t i = 0; patterns && patterns[i]; i++) {
    if (add_pattern(di, patterns[i], "", err) < 0) {
      dockerignore_free(di);
      return -EINVAL;
    }
  }
  *out = di;
  return 0;
}

/* ignorefile.ReadAll: comments, BOM, '!' with spaces after it, a leading
 * '/' dropped (patterns are relative to the context root). */
int dockerignore_parse(const char *path, const char *data, size_t len, struct dockerignore **out,
                       struct stack_error **err) {
  struct dockerignore *di = xcalloc(1, sizeof(*di));
  di->texts = xcalloc(1, sizeof(char *));
  size_t pos = 0;
  int lineno = 0;
  if (len >= 3 && memcmp(data, "\xEF\xBB\xBF", 3) == 0)
    pos = 3;
  while (pos < len) {
    const char *s = data + pos;
    const char *nl = memchr(s, '\n', len - pos);
    size_t n = nl ? (size_t)(nl - s) : len - pos;
    pos += n + (nl ? 1 : 0);
    lineno++;
    _cleanup_free_ char *line = xstrndup(s, n);
    if (strlen(line) != n) {
      dockerignore_free(di);
      return stack_error_set(err, -EINVAL, "%s:%d: a NUL byte: .dockerignore is text", path, lineno);
    }
    if (line[0] == '#')
      continue;
    size_t st, tl;
    text_trim(line, n, &st, &tl);
    if (tl == 0)
      continue;
    _cleanup_free_ char *pat = xstrndup(line + st, tl);
    bool invert = pat[0] == '!';
    const char *body = pat + (invert ? 1 : 0);
    text_trim(body, strlen(body), &st, &tl);
    _cleanup_free_ char *b = xstrndup(body + st, tl);
    _cleanup_free_ char *clean = tl ? path_clean(b) : xstrdup("");
    const char *c = clean;
    if (strlen(c) > 1 && c[0] == '/')
      c++;
    _cleanup_free_ char *full = xasprintf("%s%s", invert ? "!" : "", c);
    _cleanup_free_ char *where = xasprintf("%s:%d: ", path, lineno);
    if (add_pattern(di, full, where, err) < 0) {
      dockerignore_free(di);
      return -EINVAL;
    }
  }
  *out = di;
  return 0;
}

/* MatchesOrParentMatches */
bool dockerignore_excludes(const struct dockerignore *di, const char *path) {
  _cleanup_free_ char *file = path_clean(path);
  if (strcmp(file, ".") == 0)
    return false;
  const char *f = file;
  if (f[0] == '/' && f[1])
    f++;
  const char *slash = strrchr(f, '/');
  bool matched = false;
  for (size_t i = 0; i < di->n; i++) {
    const struct pattern *pt = &di->p[i];
    if (pt->exception != matched)
      continue;
    bool m = pattern_match(pt, f);
    if (!m && slash) {
      /* one of the parent directories, shortest first */
      _cleanup_free_ char *parent = xstrdup(f);
      for (char *c = parent; !m && c && *c;) {
        char *next = strchr(c, '/');
        if (next == NULL || next > parent + (slash - f))
          break;
        *next = '\0';
        m = pattern_match(pt, parent);
        *next = '/';
        c = next + 1;
      }
    }
    if (m)
      matched = !pt->exception;
  }
  return matched;
}
