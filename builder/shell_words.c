/* A port of the reference lexer's behaviour (shell/lex.go): the same input
 * gives the same words and the same errors, which the envVarTest and
 * wordsTest tables of tests/conformance/dockerfile check case by case. */
#include "builder/shell_words.h"

#include <errno.h>
#include <string.h>

#include "builder/text.h"
#include "runtime/util/cleanup.h"
#include "runtime/util/sbuf.h"
#include "runtime/util/xalloc.h"

#define END (-1)
/* ${a:-${a:-...}} nests by recursion: bounded so that hostile input cannot
 * exhaust the stack. */
#define MAX_DEPTH 64

struct lex {
  const char *s;
  size_t n, pos;
  char esc;
  bool raw_quotes, raw_escapes, skip_quotes, skip_unset;
  char *const *env;
  int depth;
  char *msg; /* the error, once one happened */
};

struct words {
  struct sbuf word;
  bool in_word;
  char **v;
  size_t n, cap;
};

static int32_t peek(const struct lex *l) {
  if (l->pos >= l->n)
    return END;
  uint32_t cp;
  text_decode(l->s + l->pos, l->n - l->pos, &cp);
  if (cp == 0xFFFD && (unsigned char)l->s[l->pos] >= 0x80)
    return 0x10FFFF + 1; /* an invalid byte: special to nothing */
  return (int32_t)cp;
}

/* Consumes one character; at and len say where its bytes are. */
static int32_t next(struct lex *l, const char **at, size_t *len) {
  if (l->pos >= l->n) {
    *at = l->s + l->n;
    *len = 0;
    return END;
  }
  uint32_t cp;
  size_t w = text_decode(l->s + l->pos, l->n - l->pos, &cp);
  *at = l->s + l->pos;
  *len = w;
  l->pos += w;
  return (int32_t)cp;
}

static int fail(struct lex *l, const char *msg) {
  if (l->msg == NULL)
    l->msg = xstrdup(msg);
  return -1;
}

static void words_push(struct words *w) {
  w->v = xgrow(w->v, &w->cap, w->n + 2, sizeof(char *));
  w->v[w->n++] = w->word.data ? sbuf_steal(&w->word) : xstrdup("");
  w->v[w->n] = NULL;
  w->in_word = false;
}

static void words_add_raw(struct words *w, const char *p, size_t len) {
  if (w == NULL)
    return;
  sbuf_append(&w->word, p, len);
  w->in_word = true;
}

static void words_add_char(struct words *w, const char *p, size_t len) {
  if (w == NULL)
    return;
  uint32_t cp = 0xFFFD;
  if (len > 0)
    text_decode(p, len, &cp);
  bool space = len > 0 && text_is_space(cp);
  if (space && w->in_word) {
    if (w->word.len != 0)
      words_push(w);
  } else if (!space) {
    words_add_raw(w, p, len);
  }
}

static void words_add_string(struct words *w, const char *s, size_t n) {
  if (w == NULL)
    return;
  for (size_t i = 0; i < n;) {
    uint32_t cp;
    size_t l = text_decode(s + i, n - i, &cp);
    words_add_char(w, s + i, l);
    i += l;
  }
}

static void words_finish(struct words *w) {
  if (w->word.len > 0)
    words_push(w);
}

static void words_free(struct words *w) {
  sbuf_free(&w->word);
  strv_free(w->v);
}

const char *shell_env_get(char *const *env, const char *key, size_t keylen) {
  if (env == NULL)
    return NULL;
  const char *found = NULL;
  for (char *const *e = env; *e != NULL; e++) {
    const char *eq = strchr(*e, '=');
    size_t kl = eq ? (size_t)(eq - *e) : strlen(*e);
    if (kl == keylen && memcmp(*e, key, keylen) == 0)
      found = eq ? eq + 1 : "";
  }
  return found;
}

static int process_stop_on(struct lex *l, int32_t stop, bool raw_escapes, struct sbuf *out,
                           struct words *words);

static bool is_special_param(int32_t c) {
  return c == '@' || c == '*' || c == '#' || c == '?' || c == '-' || c == '$' || c == '!' ||
         c == '0';
}

static bool is_digit(int32_t c) { return c >= '0' && c <= '9'; }

static void process_name(struct lex *l, struct sbuf *name) {
  const char *at;
  size_t len;
  while (peek(l) != END) {
    int32_t c = peek(l);
    if (name->len == 0 && is_digit(c)) {
      while (is_digit(peek(l))) {
        next(l, &at, &len);
        sbuf_append(name, at, len);
      }
      return;
    }
    if (name->len == 0 && is_special_param(c)) {
      next(l, &at, &len);
      sbuf_append(name, at, len);
      return;
    }
    if (!(c >= 0 && text_is_letter((uint32_t)c)) && !is_digit(c) && c != '_')
      break;
    next(l, &at, &len);
    sbuf_append(name, at, len);
  }
}

static const char *get_env(struct lex *l, const struct sbuf *name) {
  return shell_env_get(l->env, name->data ? name->data : "", name->len);
}

/* Shell patterns of ${VAR#pat} and ${VAR/pat/repl} (replacement): '*' any string, '?' one
 * character, '\' quotes '*', '?' and '\' (and is dropped before '}' and
 * '/'); anything else is literal.  The pattern is checked first so that a bad
 * escape is an error whether or not anything would match. */
static int pattern_check(const char *p, size_t n, char **msg) {
  for (size_t i = 0; i < n; i++) {
    if (p[i] != '\\')
      continue;
    if (i + 1 < n && (p[i + 1] == '}' || p[i + 1] == '/'))
      continue;
    if (i + 1 >= n) {
      *msg = xasprintf("invalid pattern (%.*s) in substitution: invalid escape '\\'", (int)n, p);
      return -1;
    }
    char c = p[i + 1];
    if (c != '*' && c != '?' && c != '\\') {
      *msg = xasprintf("invalid pattern (%.*s) in substitution: invalid escape '\\%c'", (int)n, p, c);
      return -1;
    }
    i++;
  }
  return 0;
}

/* Does p[0..pn) match all of s[0..sn)?  Iterative with one backtrack point
 * per star, so linear-ish and never recursive. */
static bool pattern_match(const char *p, size_t pn, const char *s, size_t sn) {
  size_t pi = 0, si = 0, star_p = (size_t)-1, star_s = 0;
  while (si < sn || pi < pn) {
    if (pi < pn) {
      char c = p[pi];
      if (c == '*') {
        star_p = pi++;
        star_s = si;
        continue;
      }
      if (si < sn) {
        if (c == '?') {
          uint32_t cp;
          si += text_decode(s + si, sn - si, &cp);
          pi++;
          continue;
        }
        if (c == '\\' && pi + 1 < pn) {
          if (p[pi + 1] == '}' || p[pi + 1] == '/') {
            pi++;
            continue;
          }
          c = p[++pi];
        }
        if (s[si] == c) {
          pi++, si++;
          continue;
        }
      } else if (c == '\\' && pi + 1 < pn && (p[pi + 1] == '}' || p[pi + 1] == '/')) {
        pi++;
        continue;
      }
    }
    if (star_p != (size_t)-1 && star_s < sn) {
      pi = star_p + 1;
      star_s++;
      si = star_s;
      continue;
    }
    return false;
  }
  return true;
}

static int trim_affix(const char *value, const char *pat, size_t pn, bool suffix, bool greedy,
                      struct sbuf *out, char **msg) {
  if (pattern_check(pat, pn, msg) < 0)
    return -1;
  size_t vn = strlen(value);
  if (!suffix) {
    /* prefix of length k matches: keep value[k..] */
    for (size_t i = 0; i <= vn; i++) {
      size_t k = greedy ? vn - i : i;
      if (pattern_match(pat, pn, value, k)) {
        sbuf_puts(out, value + k);
        return 0;
      }
    }
  } else {
    for (size_t i = 0; i <= vn; i++) {
      size_t k = greedy ? i : vn - i; /* suffix starts at k */
      if (pattern_match(pat, pn, value + k, vn - k)) {
        sbuf_append(out, value, k);
        return 0;
      }
    }
  }
  sbuf_puts(out, value);
  return 0;
}

/* ${VAR/pat/repl}: leftmost match, the longest there (stars are greedy). */
static int replace(const char *value, const char *pat, size_t pn, const char *repl, bool all,
                   struct sbuf *out, char **msg) {
  if (pattern_check(pat, pn, msg) < 0)
    return -1;
  size_t vn = strlen(value), i = 0;
  bool done = false, last_empty_ok = true;
  while (i <= vn) {
    size_t end = (size_t)-1;
    if (!done) {
      for (size_t e = vn + 1; e-- > i;) {
        if (pattern_match(pat, pn, value + i, e - i)) {
          end = e;
          break;
        }
      }
    }
    if (end != (size_t)-1 && (end > i || last_empty_ok)) {
      sbuf_puts(out, repl);
      if (!all)
        done = true;
      if (end > i) {
        i = end;
        last_empty_ok = false;
        continue;
      }
    }
    last_empty_ok = true;
    if (i == vn)
      break;
    uint32_t cp;
    size_t w = text_decode(value + i, vn - i, &cp);
    sbuf_append(out, value + i, w);
    i += w;
  }
  return 0;
}

static int process_dollar(struct lex *l, struct sbuf *out) {
  const char *at;
  size_t len;
  next(l, &at, &len); /* '$' */
  _cleanup_sbuf_ struct sbuf name = SBUF_INIT;

  if (peek(l) != '{') {
    process_name(l, &name);
    if (name.len == 0) {
      sbuf_putc(out, '$');
      return 0;
    }
    const char *v = get_env(l, &name);
    if (v == NULL && l->skip_unset) {
      sbuf_putc(out, '$');
      sbuf_append(out, name.data, name.len);
      return 0;
    }
    sbuf_puts(out, v ? v : "");
    return 0;
  }

  next(l, &at, &len); /* '{' */
  int32_t c = peek(l);
  if (c == END)
    return fail(l, "syntax error: missing '}'");
  if (c == '{' || c == '}' || c == ':')
    return fail(l, "syntax error: bad substitution");
  process_name(l, &name);
  const char *name_s = name.data ? name.data : "";
  c = next(l, &at, &len);
  _cleanup_sbuf_ struct sbuf chs = SBUF_INIT;
  sbuf_append(&chs, at, len);
  bool null_is_unset = false;

  if (c == END)
    return fail(l, "syntax error: missing '}'");
  if (c == '}') {
    const char *v = get_env(l, &name);
    if (v == NULL && l->skip_unset) {
      sbuf_printf(out, "${%s}", name_s);
      return 0;
    }
    sbuf_puts(out, v ? v : "");
    return 0;
  }
  if (c == ':') {
    null_is_unset = true;
    c = next(l, &at, &len);
    sbuf_append(&chs, at, len);
  }
  if (c == ':' || c == '+' || c == '-' || c == '?' || c == '#' || c == '%' || null_is_unset) {
    bool raw = c == '#' || c == '%';
    _cleanup_sbuf_ struct sbuf word = SBUF_INIT;
    if (process_stop_on(l, '}', raw, &word, NULL) < 0) {
      if (peek(l) == END) {
        free(l->msg);
        l->msg = NULL;
        return fail(l, "syntax error: missing '}'");
      }
      return -1;
    }
    const char *w = word.data ? word.data : "";
    const char *v = get_env(l, &name);
    if (l->skip_unset && v == NULL) {
      sbuf_printf(out, "${%s%s%s}", name_s, chs.data ? chs.data : "", w);
      return 0;
    }
    bool empty = v == NULL || (null_is_unset && v[0] == '\0');
    switch (c) {
    case '-':
      sbuf_puts(out, empty ? w : v);
      return 0;
    case '+':
      if (!empty)
        sbuf_puts(out, w);
      return 0;
    case '?':
      if (v == NULL || (null_is_unset && v[0] == '\0')) {
        const char *m = w[0] ? w : v == NULL ? "is not allowed to be unset" : "is not allowed to be empty";
        l->msg = xasprintf("%s: %s", name_s, m);
        return -1;
      }
      sbuf_puts(out, v);
      return 0;
    case '%':
    case '#': {
      bool greedy = word.len > 0 && w[0] == (char)c;
      const char *pat = greedy ? w + 1 : w;
      size_t pn = greedy ? word.len - 1 : word.len;
      return trim_affix(v ? v : "", pat, pn, c == '%', greedy, out, &l->msg);
    }
    default:
      l->msg = xasprintf("unsupported modifier (%s) in substitution", chs.data ? chs.data : "");
      return -1;
    }
  }
  if (c == '/') {
    bool all = peek(l) == '/';
    if (all)
      next(l, &at, &len);
    _cleanup_sbuf_ struct sbuf pat = SBUF_INIT;
    _cleanup_sbuf_ struct sbuf repl = SBUF_INIT;
    if (process_stop_on(l, '/', true, &pat, NULL) < 0) {
      if (peek(l) == END) {
        free(l->msg);
        l->msg = NULL;
        return fail(l, "syntax error: missing '/' in ${}");
      }
      return -1;
    }
    if (process_stop_on(l, '}', true, &repl, NULL) < 0) {
      if (peek(l) == END) {
        free(l->msg);
        l->msg = NULL;
        return fail(l, "syntax error: missing '}'");
      }
      return -1;
    }
    const char *v = get_env(l, &name);
    if (l->skip_unset && v == NULL) {
      sbuf_printf(out, "${%s/%s/%s}", name_s, pat.data ? pat.data : "", repl.data ? repl.data : "");
      return 0;
    }
    return replace(v ? v : "", pat.data ? pat.data : "", pat.len, repl.data ? repl.data : "", all,
                   out, &l->msg);
  }
  l->msg = xasprintf("unsupported modifier (%s) in substitution", chs.data ? chs.data : "");
  return -1;
}

static int process_single_quote(struct lex *l, struct sbuf *out) {
  const char *at;
  size_t len;
  next(l, &at, &len);
  if (l->raw_quotes)
    sbuf_append(out, at, len);
  for (;;) {
    int32_t c = next(l, &at, &len);
    if (c == END)
      return fail(l, "unexpected end of statement while looking for matching single-quote");
    if (c == '\'') {
      if (l->raw_quotes)
        sbuf_append(out, at, len);
      return 0;
    }
    sbuf_append(out, at, len);
  }
}

static int process_double_quote(struct lex *l, struct sbuf *out) {
  const char *at;
  size_t len;
  next(l, &at, &len);
  if (l->raw_quotes)
    sbuf_append(out, at, len);
  for (;;) {
    int32_t c = peek(l);
    if (c == END)
      return fail(l, "unexpected end of statement while looking for matching double-quote");
    if (c == '"') {
      next(l, &at, &len);
      if (l->raw_quotes)
        sbuf_append(out, at, len);
      return 0;
    }
    if (c == '$') {
      if (process_dollar(l, out) < 0)
        return -1;
      continue;
    }
    c = next(l, &at, &len);
    if (c == l->esc) {
      if (l->raw_escapes)
        sbuf_append(out, at, len);
      int32_t p = peek(l);
      if (p == END)
        continue;
      if (p == '"' || p == '$' || p == l->esc)
        next(l, &at, &len);
    }
    sbuf_append(out, at, len);
  }
}

static int process_stop_on(struct lex *l, int32_t stop, bool raw_escapes, struct sbuf *out,
                           struct words *words) {
  if (++l->depth > MAX_DEPTH) {
    l->depth--;
    return fail(l, "substitutions nested too deeply");
  }
  bool saved = l->raw_escapes;
  l->raw_escapes = raw_escapes;
  int r = -1;
  const char *at;
  size_t len;

  while (peek(l) != END) {
    int32_t c = peek(l);
    if (stop != END && c == stop) {
      next(l, &at, &len);
      r = 0;
      goto out;
    }
    if (c == '$') {
      size_t before = out->len;
      if (process_dollar(l, out) < 0)
        goto out;
      words_add_string(words, out->data + before, out->len - before);
      continue;
    }
    if (!l->skip_quotes && (c == '\'' || c == '"')) {
      size_t before = out->len;
      if ((c == '\'' ? process_single_quote(l, out) : process_double_quote(l, out)) < 0)
        goto out;
      words_add_raw(words, out->data + before, out->len - before);
      continue;
    }
    c = next(l, &at, &len);
    if (c == l->esc) {
      if (l->raw_escapes) {
        words_add_raw(words, at, len);
        sbuf_append(out, at, len);
      }
      c = next(l, &at, &len);
      if (c == END)
        break;
      words_add_raw(words, at, len);
    } else {
      words_add_char(words, at, len);
    }
    sbuf_append(out, at, len);
  }
  if (stop != END) {
    l->msg = l->msg ? l->msg
                    : xasprintf("unexpected end of statement while looking for matching %c", (char)stop);
    goto out;
  }
  r = 0;
out:
  l->raw_escapes = saved;
  l->depth--;
  return r;
}

static int process(const char *word, char *const *env, const struct shell_words_opts *opts,
                   char **out, char ***out_words, struct stack_error **err) {
  struct shell_words_opts none = {0};
  if (opts == NULL)
    opts = &none;
  struct lex l = {
      .s = word,
      .n = strlen(word),
      .esc = opts->escape ? opts->escape : '\\',
      .raw_quotes = opts->raw_quotes,
      .raw_escapes = opts->raw_escapes,
      .skip_quotes = opts->skip_process_quotes,
      .skip_unset = opts->skip_unset_env,
      .env = env,
  };
  _cleanup_sbuf_ struct sbuf result = SBUF_INIT;
  struct words words = {.word = SBUF_INIT};
  if (process_stop_on(&l, END, l.raw_escapes, &result, out_words ? &words : NULL) < 0) {
    stack_error_set(err, -EINVAL, "failed to process \"%s\": %s", word, l.msg ? l.msg : "syntax error");
    free(l.msg);
    words_free(&words);
    return -EINVAL;
  }
  if (out)
    *out = sbuf_steal(&result);
  if (out_words) {
    words_finish(&words);
    if (words.v == NULL)
      words.v = xcalloc(1, sizeof(char *));
    *out_words = steal_pointer(&words.v);
  }
  words_free(&words);
  return 0;
}

int shell_expand_word(const char *word, char *const *env, const struct shell_words_opts *opts,
                      char **out, struct stack_error **err) {
  return process(word, env, opts, out, NULL, err);
}

int shell_expand_words(const char *word, char *const *env, const struct shell_words_opts *opts,
                       char ***out, struct stack_error **err) {
  return process(word, env, opts, NULL, out, err);
}
