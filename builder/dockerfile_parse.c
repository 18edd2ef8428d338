/* Lines to instructions, following the reference parser (parser.go,
 * line_parsers.go, split_command.go, directives.go) step by step so that
 * its test files give the same tree byte for byte. */
#include <ctype.h>
#include <errno.h>
#include <string.h>
#include <strings.h>

#include "builder/dockerfile.h"
#include "builder/shell_words.h"
#include "builder/text.h"
#include "runtime/util/cleanup.h"
#include "runtime/util/sbuf.h"
#include "runtime/util/xalloc.h"

static const struct {
  const char *name;
  enum df_cmd cmd;
} commands[] = {
    {"add", DF_ADD},         {"arg", DF_ARG},
    {"cmd", DF_CMD},         {"copy", DF_COPY},
    {"entrypoint", DF_ENTRYPOINT}, {"env", DF_ENV},
    {"expose", DF_EXPOSE},   {"from", DF_FROM},
    {"healthcheck", DF_HEALTHCHECK}, {"label", DF_LABEL},
    {"maintainer", DF_MAINTAINER}, {"onbuild", DF_ONBUILD},
    {"run", DF_RUN},         {"shell", DF_SHELL},
    {"stopsignal", DF_STOPSIGNAL}, {"user", DF_USER},
    {"volume", DF_VOLUME},   {"workdir", DF_WORKDIR},
};

const char *df_cmd_name(enum df_cmd cmd) {
  static const char *upper[] = {"?", "ADD", "ARG", "CMD", "COPY", "ENTRYPOINT", "ENV", "EXPOSE",
                                "FROM", "HEALTHCHECK", "LABEL", "MAINTAINER", "ONBUILD", "RUN",
                                "SHELL", "STOPSIGNAL", "USER", "VOLUME", "WORKDIR"};
  if ((int)cmd < 0 || (size_t)cmd >= sizeof(upper) / sizeof(upper[0]))
    return "?";
  return upper[cmd];
}

struct parser {
  const char *path;
  char escape;
  bool directives_done;
  bool seen_escape, seen_syntax, seen_check;
  char *syntax;
};

/* The error for the instruction at line: "<file>:<line>: <INSTR>: msg". */
static int node_error(struct stack_error **err, const struct parser *p, int line, const char *instr,
                      const char *fmt, ...) __attribute__((format(printf, 5, 6)));
static int node_error(struct stack_error **err, const struct parser *p, int line, const char *instr,
                      const char *fmt, ...) {
  va_list ap;
  va_start(ap, fmt);
  _cleanup_free_ char *msg = xvasprintf(fmt, ap);
  va_end(ap);
  if (instr)
    return stack_error_set(err, -EINVAL, "%s:%d: %s: %s", p->path, line, instr, msg);
  return stack_error_set(err, -EINVAL, "%s:%d: %s", p->path, line, msg);
}

static void df_node_clear(struct df_node *n) {
  free(n->name);
  strv_free(n->flags);
  df_words_free(n->args, n->n_args);
  if (n->sub) {
    df_node_clear(n->sub);
    free(n->sub);
  }
  for (size_t i = 0; i < n->n_heredocs; i++)
    df_heredoc_clear(&n->heredocs[i]);
  free(n->heredocs);
  free(n->original);
  memset(n, 0, sizeof(*n));
}

void df_heredoc_clear(struct df_heredoc *h) {
  free(h->name);
  free(h->content);
  memset(h, 0, sizeof(*h));
}

void dockerfile_free(struct dockerfile *df) {
  if (df == NULL)
    return;
  for (size_t i = 0; i < df->n_nodes; i++)
    df_node_clear(&df->nodes[i]);
  free(df->nodes);
  free(df->path);
  free(df->syntax);
  strv_free(df->warnings);
  free(df);
}

/* ---- words ---------------------------------------------------------- */

struct wordlist {
  struct df_word *v;
  size_t n, cap;
};

static void wl_add(struct wordlist *wl, const char *s, size_t len) {
  wl->v = xgrow(wl->v, &wl->cap, wl->n + 1, sizeof(*wl->v));
  wl->v[wl->n].s = xstrndup(s, len);
  wl->v[wl->n].len = len;
  wl->n++;
}

static bool byte_space(char c) { return text_is_space((unsigned char)c); }

/* `[\t\v\f\r ]+`, the reference's reWhitespace. */
static bool re_ws(char c) { return c == '\t' || c == '\v' || c == '\f' || c == '\r' || c == ' '; }

/* parseWords: words split at white space, quotes kept (they are removed
 * when the words are expanded). */
static void parse_words(const char *rest, char esc, struct wordlist *wl) {
  enum { SPACES, WORD, QUOTE } phase = SPACES;
  size_t n = strlen(rest);
  uint32_t quote = 0;
  bool blank_ok = false;
  _cleanup_sbuf_ struct sbuf b = SBUF_INIT;
  uint32_t ch = 0;
  size_t w = 0;
  for (size_t pos = 0; pos <= n; pos += w) {
    if (pos != n)
      w = text_decode(rest + pos, n - pos, &ch);
    if (phase == SPACES) {
      if (pos == n)
        break;
      if (text_is_space(ch))
        continue;
      phase = WORD;
    }
    if (pos == n) {
      if (blank_ok || b.len > 0)
        wl_add(wl, b.data ? b.data : "", b.len);
      break;
    }
    if (phase == WORD) {
      if (text_is_space(ch)) {
        phase = SPACES;
        if (blank_ok || b.len > 0)
          wl_add(wl, b.data ? b.data : "", b.len);
        sbuf_reset(&b);
        blank_ok = false;
        continue;
      }
      if (ch == '\'' || ch == '"') {
        quote = ch;
        blank_ok = true;
        phase = QUOTE;
      }
      if (ch == (unsigned char)esc) {
        if (pos + w == n)
          continue;
        sbuf_append(&b, rest + pos, w);
        pos += w;
        w = text_decode(rest + pos, n - pos, &ch);
      }
      sbuf_append(&b, rest + pos, w);
      continue;
    }
    /* QUOTE */
    if (ch == quote)
      phase = WORD;
    if (ch == (unsigned char)esc && quote != '\'') {
      if (pos + w == n) {
        phase = WORD;
        continue;
      }
      sbuf_append(&b, rest + pos, w);
      pos += w;
      w = text_decode(rest + pos, n - pos, &ch);
    }
    sbuf_append(&b, rest + pos, w);
  }
}

/* parseStringsWhitespaceDelimited */
static void split_ws(const char *rest, struct wordlist *wl) {
  if (rest[0] == '\0')
    return;
  const char *p = rest;
  for (;;) {
    const char *e = p;
    while (*e && !re_ws(*e))
      e++;
    wl_add(wl, p, (size_t)(e - p));
    if (*e == '\0')
      break;
    while (re_ws(*e))
      e++;
    p = e;
  }
}

/* splitCommand + extractBuilderFlags: the instruction, its --flags, the
 * rest of the line.  Flag words are scanned byte by byte as the reference
 * does. */
static void split_command(const char *line, char esc, char **cmd, char ***flags, size_t *n_flags,
                          char **args) {
  size_t st, len;
  text_trim(line, strlen(line), &st, &len);
  const char *s = line + st, *end = s + len;
  const char *c = s;
  while (c < end && !re_ws(*c))
    c++;
  *cmd = xstrndup(s, (size_t)(c - s));
  *flags = NULL;
  *n_flags = 0;
  if (c == end) {
    *args = xstrdup("");
    return;
  }
  while (c < end && re_ws(*c))
    c++;
  _cleanup_free_ char *rest = xstrndup(c, (size_t)(end - c));
  size_t n = strlen(rest), cap = 0;
  enum { SPACES, WORD, QUOTE } phase = SPACES;
  _cleanup_sbuf_ struct sbuf b = SBUF_INIT;
  char quote = 0, ch = 0;
  bool blank_ok = false;
  const char *remaining = "";
  char **fl = NULL;
  size_t nf = 0;
#define PUSH_FLAG()                                                                                \
  do {                                                                                             \
    fl = xgrow(fl, &cap, nf + 2, sizeof(char *));                                                  \
    fl[nf++] = xstrndup(b.data ? b.data : "", b.len);                                              \
    fl[nf] = NULL;                                                                                 \
  } while (0)
  for (size_t pos = 0; pos <= n; pos++) {
    if (pos != n)
      ch = rest[pos];
    if (phase == SPACES) {
      if (pos == n)
        break;
      if (byte_space(ch))
        continue;
      if (ch != '-' || pos + 1 == n || rest[pos + 1] != '-') {
        remaining = rest + pos;
        goto done;
      }
      phase = WORD;
    }
    if (pos == n) {
      bool dashdash = b.len == 2 && memcmp(b.data, "--", 2) == 0;
      if (!dashdash && (blank_ok || b.len > 0))
        PUSH_FLAG();
      break;
    }
    if (phase == WORD) {
      if (byte_space(ch)) {
        phase = SPACES;
        if (b.len == 2 && memcmp(b.data, "--", 2) == 0) {
          remaining = rest + pos;
          goto done;
        }
        if (blank_ok || b.len > 0)
          PUSH_FLAG();
        sbuf_reset(&b);
        blank_ok = false;
        continue;
      }
      if (ch == '\'' || ch == '"') {
        quote = ch;
        blank_ok = true;
        phase = QUOTE;
        continue;
      }
      if (ch == esc) {
        if (pos + 1 == n)
          continue;
        ch = rest[++pos];
      }
      sbuf_putc(&b, ch);
      continue;
    }
    if (ch == quote) {
      phase = WORD;
      continue;
    }
    if (ch == esc) {
      if (pos + 1 == n) {
        phase = WORD;
        continue;
      }
      ch = rest[++pos];
    }
    sbuf_putc(&b, ch);
  }
#undef PUSH_FLAG
done:
  text_trim(remaining, strlen(remaining), &st, &len);
  *args = xstrndup(remaining + st, len);
  *flags = fl;
  *n_flags = nf;
}

/* ---- the line parsers (line_parsers.go) ----------------------------- */

static int parse_line(struct parser *p, const char *line, int lineno, struct df_node *node,
                      struct stack_error **err);

static int parse_maybe_json(struct parser *p, const char *rest, struct df_node *n,
                            struct wordlist *wl, bool to_list, int lineno, struct stack_error **err) {
  if (rest[0] == '\0' && !to_list)
    return 0;
  bool is_json;
  struct df_word *w;
  size_t nw;
  _cleanup_error_ struct stack_error *e = NULL;
  if (df_parse_json_array(rest, &w, &nw, &is_json, &e) < 0)
    return node_error(err, p, lineno, df_cmd_name(n->cmd), "%s", e->msg);
  if (is_json) {
    for (size_t i = 0; i < nw; i++) {
      wl->v = xgrow(wl->v, &wl->cap, wl->n + 1, sizeof(*wl->v));
      wl->v[wl->n++] = w[i];
    }
    free(w);
    n->json = true;
    return 0;
  }
  if (to_list)
    split_ws(rest, wl);
  else
    wl_add(wl, rest, strlen(rest));
  return 0;
}

static int parse_name_val(struct parser *p, const char *rest, struct df_node *n,
                          struct wordlist *wl, int lineno, struct stack_error **err) {
  struct wordlist words = {0};
  parse_words(rest, p->escape, &words);
  int r = 0;
  if (words.n == 0)
    goto out;
  if (strchr(words.v[0].s, '=') == NULL) {
    const char *e = rest;
    while (*e && !re_ws(*e))
      e++;
    if (*e == '\0') {
      r = node_error(err, p, lineno, df_cmd_name(n->cmd), "%s must have two arguments",
                     df_cmd_name(n->cmd));
      goto out;
    }
    wl_add(wl, rest, (size_t)(e - rest));
    while (re_ws(*e))
      e++;
    wl_add(wl, e, strlen(e));
    wl_add(wl, "", 0);
    goto out;
  }
  for (size_t i = 0; i < words.n; i++) {
    const char *eq = strchr(words.v[i].s, '=');
    if (eq == NULL) {
      struct sbuf q = SBUF_INIT;
      text_quote(&q, words.v[i].s, words.v[i].len);
      r = node_error(err, p, lineno, df_cmd_name(n->cmd),
                     "Syntax error - can't find = in %s. Must be of the form: name=value", q.data);
      sbuf_free(&q);
      goto out;
    }
    wl_add(wl, words.v[i].s, (size_t)(eq - words.v[i].s));
    wl_add(wl, eq + 1, strlen(eq + 1));
    wl_add(wl, "=", 1);
  }
out:
  df_words_free(words.v, words.n);
  return r;
}

static enum df_cmd lookup(const char *cmd) {
  for (size_t i = 0; i < sizeof(commands) / sizeof(commands[0]); i++)
    if (strcasecmp(cmd, commands[i].name) == 0)
      return commands[i].cmd;
  return 0;
}

/* newNodeFromLine */
static int parse_line(struct parser *p, const char *line, int lineno, struct df_node *node,
                      struct stack_error **err) {
  _cleanup_free_ char *args = NULL;
  split_command(line, p->escape, &node->name, &node->flags, &node->n_flags, &args);
  node->original = xstrdup(line);
  node->start_line = lineno;
  node->cmd = lookup(node->name);
  if (node->cmd == 0)
    return node_error(err, p, lineno, NULL,
                      "unknown instruction: %s (a Dockerfile instruction is one of ADD, ARG, CMD, "
                      "COPY, ENTRYPOINT, ENV, EXPOSE, FROM, HEALTHCHECK, LABEL, MAINTAINER, "
                      "ONBUILD, RUN, SHELL, STOPSIGNAL, USER, VOLUME, WORKDIR)",
                      node->name);
  for (char *c = node->name; *c; c++)
    *c = (char)tolower((unsigned char)*c);
  struct wordlist wl = {0};
  int r = 0;
  switch (node->cmd) {
  case DF_ADD:
  case DF_COPY:
  case DF_VOLUME:
    r = parse_maybe_json(p, args, node, &wl, true, lineno, err);
    break;
  case DF_CMD:
  case DF_ENTRYPOINT:
  case DF_RUN:
  case DF_SHELL:
    r = parse_maybe_json(p, args, node, &wl, false, lineno, err);
    break;
  case DF_ARG:
    parse_words(args, p->escape, &wl);
    break;
  case DF_ENV:
  case DF_LABEL:
    r = parse_name_val(p, args, node, &wl, lineno, err);
    break;
  case DF_EXPOSE:
  case DF_FROM:
    split_ws(args, &wl);
    break;
  case DF_MAINTAINER:
  case DF_STOPSIGNAL:
  case DF_USER:
  case DF_WORKDIR:
    if (args[0])
      wl_add(&wl, args, strlen(args));
    break;
  case DF_HEALTHCHECK: {
    size_t sep = 0, nx;
    while (args[sep] && !byte_space(args[sep]))
      sep++;
    nx = sep;
    while (args[nx] && byte_space(args[nx]))
      nx++;
    if (sep == 0)
      break;
    wl_add(&wl, args, sep);
    r = parse_maybe_json(p, args + nx, node, &wl, false, lineno, err);
    break;
  }
  case DF_ONBUILD:
    if (args[0] == '\0')
      break;
    node->sub = xcalloc(1, sizeof(*node->sub));
    r = parse_line(p, args, lineno, node->sub, err);
    break;
  }
  node->args = wl.v;
  node->n_args = wl.n;
  return r;
}

/* ---- heredocs ------------------------------------------------------- */

int df_heredoc_parse(const char *word, struct df_heredoc *out, struct stack_error **err) {
  memset(out, 0, sizeof(*out));
  /* ^(\d*)<<(-?)\s*([^<]*)$ */
  const char *s = word;
  unsigned long fd = 0;
  while (*s >= '0' && *s <= '9') {
    if (fd < 1000000)
      fd = fd * 10 + (unsigned long)(*s - '0');
    s++;
  }
  if (strncmp(s, "<<", 2) != 0)
    return 0;
  s += 2;
  bool chomp = *s == '-';
  if (chomp)
    s++;
  while (*s == ' ' || *s == '\t' || *s == '\n' || *s == '\f' || *s == '\r')
    s++;
  if (strchr(s, '<') != NULL || *s == '\0')
    return 0;
  struct shell_words_opts o = {.skip_unset_env = true};
  _cleanup_strv_ char **words = NULL;
  if (shell_expand_words(s, NULL, &o, &words, err) < 0)
    return -EINVAL;
  if (words[0] == NULL || words[1] != NULL)
    return 0;
  o.raw_quotes = true;
  _cleanup_strv_ char **raw = NULL;
  if (shell_expand_words(s, NULL, &o, &raw, err) < 0)
    return -EINVAL;
  if (raw[0] == NULL || raw[1] != NULL)
    return stack_error_set(err, -EINVAL, "internal lexing of heredoc produced inconsistent results: %s", s);
  size_t q1 = 0, q2 = 0;
  for (const char *c = words[0]; *c; c++)
    q1 += *c == '\'' || *c == '"';
  for (const char *c = raw[0]; *c; c++)
    q2 += *c == '\'' || *c == '"';
  out->name = xstrdup(words[0]);
  out->fd = (unsigned)fd;
  out->chomp = chomp;
  out->expand = q1 == q2;
  return 1;
}

static bool can_contain_heredoc(const struct df_node *n) {
  if (n->cmd == DF_ONBUILD && n->sub)
    n = n->sub;
  return (n->cmd == DF_RUN || n->cmd == DF_COPY || n->cmd == DF_ADD) && !n->json;
}

/* ---- lines ---------------------------------------------------------- */

struct reader {
  const char *data;
  size_t len, pos;
};

/* The next line with its "\n" (scanLines). */
static bool next_line(struct reader *r, const char **line, size_t *n) {
  if (r->pos >= r->len)
    return false;
  const char *s = r->data + r->pos;
  const char *nl = memchr(s, '\n', r->len - r->pos);
  *n = nl ? (size_t)(nl - s) + 1 : r->len - r->pos;
  *line = s;
  r->pos += *n;
  return true;
}

static size_t trim_newline(const char *s, size_t n) {
  while (n > 0 && (s[n - 1] == '\n' || s[n - 1] == '\r'))
    n--;
  return n;
}

static bool is_comment(const char *s, size_t n) {
  size_t sp = text_space_len(s, n);
  return sp < n && s[sp] == '#';
}

/* The syntax directive may name the dockerfile frontend, version 1.x: that
 * is the language this parser implements.  Any other frontend is a
 * different language. */
static bool syntax_supported(const char *v) {
  char *sp = strchr(v, ' ');
  _cleanup_free_ char *ref = sp ? xstrndup(v, (size_t)(sp - v)) : xstrdup(v);
  char *at = strchr(ref, '@');
  if (at)
    *at = '\0';
  const char *r = ref;
  if (strncmp(r, "docker.io/", 10) == 0)
    r += 10;
  if (strncmp(r, "docker/dockerfile", 17) != 0)
    return false;
  r += 17;
  if (*r == '\0')
    return true;
  if (*r != ':')
    return false;
  r++;
  if (*r != '1')
    return false;
  r++;
  while (*r == '.' && isdigit((unsigned char)r[1])) {
    r++;
    while (isdigit((unsigned char)*r))
      r++;
  }
  return *r == '\0';
}

/* DirectiveParser.ParseLine: `# key=value` lines before anything else. */
static int directive(struct parser *p, const char *s, size_t n, int lineno, bool *was_directive,
                     struct stack_error **err) {
  *was_directive = false;
  if (p->directives_done)
    return 0;
  if (n == 0 || s[0] != '#') {
    p->directives_done = true;
    return 0;
  }
  s++, n--;
  size_t sp = text_space_len(s, n);
  s += sp, n -= sp;
  /* ^([a-zA-Z][a-zA-Z0-9]*)\s*=\s*(.+?)\s*$ */
  size_t k = 0;
  if (k < n && isalpha((unsigned char)s[k])) {
    k++;
    while (k < n && isalnum((unsigned char)s[k]))
      k++;
  }
  size_t i = k;
  while (i < n && (s[i] == ' ' || s[i] == '\t' || s[i] == '\f' || s[i] == '\r' || s[i] == '\n'))
    i++;
  if (k == 0 || i >= n || s[i] != '=') {
    p->directives_done = true;
    return 0;
  }
  i++;
  while (i < n && (s[i] == ' ' || s[i] == '\t' || s[i] == '\f' || s[i] == '\r' || s[i] == '\n'))
    i++;
  size_t e = n;
  while (e > i && (s[e - 1] == ' ' || s[e - 1] == '\t' || s[e - 1] == '\f' || s[e - 1] == '\r' ||
                   s[e - 1] == '\n'))
    e--;
  if (e == i) {
    p->directives_done = true;
    return 0;
  }
  _cleanup_free_ char *key = xstrndup(s, k);
  _cleanup_free_ char *val = xstrndup(s + i, e - i);
  for (char *c = key; *c; c++)
    *c = (char)tolower((unsigned char)*c);
  bool *seen;
  if (strcmp(key, "escape") == 0)
    seen = &p->seen_escape;
  else if (strcmp(key, "syntax") == 0)
    seen = &p->seen_syntax;
  else if (strcmp(key, "check") == 0)
    seen = &p->seen_check;
  else {
    p->directives_done = true;
    return 0;
  }
  if (*seen)
    return node_error(err, p, lineno, NULL, "only one %s parser directive can be used", key);
  *seen = true;
  *was_directive = true;
  if (strcmp(key, "escape") == 0) {
    if (strcmp(val, "`") != 0 && strcmp(val, "\\") != 0)
      return node_error(err, p, lineno, NULL, "invalid escape token '%s' does not match ` or \\", val);
    p->escape = val[0];
  } else if (strcmp(key, "syntax") == 0) {
    if (!syntax_supported(val))
      return node_error(err, p, lineno, NULL,
                        "# syntax=%s names a frontend stack cannot run: only docker/dockerfile:1.x "
                        "is supported (remove the directive or use docker/dockerfile:1)",
                        val);
    free(p->syntax);
    p->syntax = xstrdup(val);
  }
  return 0;
}

/* processLine: newline (and, for a first line, leading space) trimmed,
 * directives noted; NULL-length for a comment. */
static int process_line(struct parser *p, const char *s, size_t n, bool strip_left, int lineno,
                        const char **out, size_t *out_n, struct stack_error **err) {
  n = trim_newline(s, n);
  if (strip_left) {
    size_t sp = text_space_len(s, n);
    s += sp, n -= sp;
  }
  bool was;
  if (directive(p, s, n, lineno, &was, err) < 0)
    return -EINVAL;
  if (is_comment(s, n))
    n = 0;
  *out = s;
  *out_n = n;
  return 0;
}

/* trimContinuationCharacter: true if the line ends in the escape character
 * (not itself escaped), which is then removed with the blanks after it. */
static bool trim_continuation(const struct parser *p, const char *s, size_t *n) {
  size_t e = *n;
  while (e > 0 && (s[e - 1] == ' ' || s[e - 1] == '\t'))
    e--;
  if (e == 0 || s[e - 1] != p->escape)
    return false;
  if (e >= 2 && s[e - 2] == p->escape)
    return false;
  *n = e - 1;
  return true;
}

int dockerfile_parse(const char *path, const char *data, size_t len, struct dockerfile **out,
                     struct stack_error **err) {
  struct parser p = {.path = path, .escape = '\\'};
  struct reader rd = {.data = data, .len = len};
  struct dockerfile *df = xcalloc(1, sizeof(*df));
  df->path = xstrdup(path);
  size_t cap = 0, wcap = 0, nwarn = 0;
  int line_no = 0, r = 0;
  const char *raw;
  size_t raw_n;
  _cleanup_sbuf_ struct sbuf buf = SBUF_INIT;

  if (memchr(data, '\0', len) != NULL) {
    const char *z = memchr(data, '\0', len);
    int l = 1;
    for (const char *c = data; c < z; c++)
      l += *c == '\n';
    r = node_error(err, &p, l, NULL, "the file holds a NUL byte: a Dockerfile is text");
    goto fail;
  }

  while (next_line(&rd, &raw, &raw_n)) {
    if (line_no == 0 && raw_n >= 3 && memcmp(raw, "\xEF\xBB\xBF", 3) == 0)
      raw += 3, raw_n -= 3;
    const char *s;
    size_t n;
    if ((r = process_line(&p, raw, raw_n, true, line_no + 1, &s, &n, err)) < 0)
      goto fail;
    line_no++;
    int start = line_no;
    bool cont = trim_continuation(&p, s, &n);
    if (!cont && n == 0)
      continue;
    sbuf_reset(&buf);
    sbuf_append(&buf, s, n);
    bool empty_cont = false;
    while (cont && next_line(&rd, &raw, &raw_n)) {
      if ((r = process_line(&p, raw, raw_n, false, line_no + 1, &s, &n, err)) < 0)
        goto fail;
      line_no++;
      if (is_comment(raw, raw_n))
        continue;
      if (text_space_len(s, n) == n) {
        empty_cont = true;
        continue;
      }
      cont = trim_continuation(&p, s, &n);
      sbuf_append(&buf, s, n);
    }
    const char *line = buf.data ? buf.data : "";
    if (empty_cont) {
      df->warnings = xgrow(df->warnings, &wcap, nwarn + 2, sizeof(char *));
      df->warnings[nwarn++] = xasprintf("%s:%d: empty continuation line in: %s", path, line_no, line);
      df->warnings[nwarn] = NULL;
    }
    df->nodes = xgrow(df->nodes, &cap, df->n_nodes + 1, sizeof(*df->nodes));
    struct df_node *node = &df->nodes[df->n_nodes++];
    memset(node, 0, sizeof(*node));
    if ((r = parse_line(&p, line, start, node, err)) < 0)
      goto fail;

    if (can_contain_heredoc(node) && strstr(line, "<<") != NULL) {
      struct shell_words_opts o = {.raw_quotes = true, .raw_escapes = true, .skip_unset_env = true};
      _cleanup_strv_ char **words = NULL;
      if (shell_expand_words(line, NULL, &o, &words, NULL) < 0)
        words = NULL;
      size_t hcap = 0;
      for (size_t i = 0; words && words[i]; i++) {
        struct df_heredoc h;
        _cleanup_error_ struct stack_error *e = NULL;
        int hr = df_heredoc_parse(words[i], &h, &e);
        if (hr < 0) {
          r = node_error(err, &p, start, df_cmd_name(node->cmd), "%s", e->msg);
          goto fail;
        }
        if (hr == 0)
          continue;
        bool terminated = false;
        struct sbuf content = SBUF_INIT;
        while (next_line(&rd, &raw, &raw_n)) {
          line_no++;
          size_t tn = trim_newline(raw, raw_n);
          const char *t = raw;
          if (h.chomp)
            while (tn > 0 && *t == '\t')
              t++, tn--;
          if (tn == strlen(h.name) && memcmp(t, h.name, tn) == 0) {
            terminated = true;
            break;
          }
          sbuf_append(&content, raw, raw_n);
        }
        if (!terminated) {
          sbuf_free(&content);
          r = node_error(err, &p, start, df_cmd_name(node->cmd),
                         "unterminated heredoc: no line \"%s\" ends it", h.name);
          df_heredoc_clear(&h);
          goto fail;
        }
        h.content = sbuf_steal(&content);
        node->heredocs = xgrow(node->heredocs, &hcap, node->n_heredocs + 1, sizeof(h));
        node->heredocs[node->n_heredocs++] = h;
      }
    }
    node->end_line = line_no;
    if (node->sub) {
      node->sub->start_line = start;
      node->sub->end_line = line_no;
    }
  }
  if (df->n_nodes == 0) {
    r = stack_error_set(err, -EINVAL,
                        "%s:%d: file with no instructions: a Dockerfile needs at least a FROM",
                        path, line_no > 0 ? line_no : 1);
    goto fail;
  }
  df->escape = p.escape;
  df->syntax = steal_pointer(&p.syntax);
  *out = df;
  return 0;
fail:
  free(p.syntax);
  dockerfile_free(df);
  return r < 0 ? r : -EINVAL;
}

/* ---- the dump (Node.Dump) ------------------------------------------- */

static void dump_node(struct sbuf *b, const struct df_node *n) {
  sbuf_puts(b, n->name);
  if (n->n_flags > 0) {
    sbuf_puts(b, " [");
    for (size_t i = 0; i < n->n_flags; i++) {
      if (i)
        sbuf_putc(b, ' ');
      text_quote(b, n->flags[i], strlen(n->flags[i]));
    }
    sbuf_putc(b, ']');
  }
  if (n->sub) {
    sbuf_puts(b, " (");
    dump_node(b, n->sub);
    sbuf_putc(b, ')');
  }
  for (size_t i = 0; i < n->n_args; i++) {
    sbuf_putc(b, ' ');
    text_quote(b, n->args[i].s, n->args[i].len);
  }
}

char *df_node_dump(const struct df_node *n) {
  struct sbuf b = SBUF_INIT;
  dump_node(&b, n);
  return sbuf_steal(&b);
}

char *dockerfile_dump(const struct dockerfile *df) {
  struct sbuf b = SBUF_INIT;
  for (size_t i = 0; i < df->n_nodes; i++) {
    sbuf_putc(&b, '(');
    dump_node(&b, &df->nodes[i]);
    sbuf_puts(&b, ")\n");
  }
  return sbuf_steal(&b);
}
