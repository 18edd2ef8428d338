/* Word expansion against the reference lexer's own tables
 * (tests/conformance/dockerfile/shell/envVarTest and wordsTest): every case
 * of platforms A and U gives the expected word(s) or fails. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "builder/shell_words.h"
#include "runtime/util/cleanup.h"
#include "runtime/util/sbuf.h"
#include "runtime/util/xalloc.h"
#include "test.h"

static char *trim(char *s) {
  while (*s == ' ' || *s == '\t')
    s++;
  size_t n = strlen(s);
  while (n > 0 && (s[n - 1] == ' ' || s[n - 1] == '\t' || s[n - 1] == '\r' || s[n - 1] == '\n'))
    s[--n] = '\0';
  return s;
}

static FILE *open_data(const char *name) {
  const char *dir = getenv("STACK_CONFORMANCE_DIR");
  CHECK(dir != NULL);
  _cleanup_free_ char *path = xasprintf("%s/dockerfile/shell/%s", dir ? dir : ".", name);
  FILE *f = fopen(path, "r");
  CHECK_MSG(f != NULL, "cannot open %s", path);
  return f;
}

static void env_var_test(void) {
  char *env[] = {"PWD=/home", "SHELL=bash", "KOREAN=한국어", "NULL=", NULL};
  _cleanup_fclose_ FILE *f = open_data("envVarTest");
  if (f == NULL)
    return;
  char *line = NULL;
  size_t cap = 0;
  int lineno = 0, cases = 0;
  while (getline(&line, &cap, f) > 0) {
    lineno++;
    if (line[0] == '#')
      continue;
    char *l = trim(line);
    if (*l == '\0')
      continue;
    char *p1 = strchr(l, '|');
    char *p2 = p1 ? strchr(p1 + 1, '|') : NULL;
    CHECK_MSG(p1 && p2, "envVarTest:%d: malformed", lineno);
    if (!p1 || !p2)
      continue;
    *p1 = *p2 = '\0';
    char *plat = trim(l), *src = trim(p1 + 1), *exp = trim(p2 + 1);
    if (strcmp(plat, "A") != 0 && strcmp(plat, "U") != 0)
      continue;
    cases++;
    char *out = NULL;
    struct stack_error *err = NULL;
    int r = shell_expand_word(src, env, NULL, &out, &err);
    if (strcmp(exp, "error") == 0) {
      CHECK_MSG(r < 0, "envVarTest:%d: %s gave \"%s\", expected an error", lineno, src, out);
      if (r < 0)
        CHECK_MSG(err && strstr(err->msg, "failed to process") != NULL, "envVarTest:%d", lineno);
    } else {
      CHECK_MSG(r == 0, "envVarTest:%d: %s: %s", lineno, src, err ? err->msg : "");
      if (r == 0)
        CHECK_MSG(strcmp(out, exp) == 0, "envVarTest:%d: %s gave \"%s\", expected \"%s\"", lineno,
                  src, out, exp);
    }
    free(out);
    stack_error_free(err);
  }
  free(line);
  CHECK(cases == 228);
}

static void words_test(void) {
  _cleanup_fclose_ FILE *f = open_data("wordsTest");
  if (f == NULL)
    return;
  char **env = xcalloc(1, sizeof(char *));
  size_t nenv = 0;
  char *line = NULL;
  size_t cap = 0;
  int lineno = 0, cases = 0;
  while (getline(&line, &cap, f) > 0) {
    lineno++;
    size_t n = strlen(line);
    if (n > 0 && line[n - 1] == '\n')
      line[--n] = '\0';
    if (line[0] == '#')
      continue;
    if (strncmp(line, "ENV ", 4) == 0) {
      char *v = line + 3;
      while (*v == ' ')
        v++;
      env = xrealloc(env, (nenv + 2) * sizeof(char *));
      env[nenv++] = xstrdup(v);
      env[nenv] = NULL;
      continue;
    }
    char *bar = strchr(line, '|');
    CHECK_MSG(bar && !strchr(bar + 1, '|'), "wordsTest:%d: malformed", lineno);
    if (!bar)
      continue;
    *bar = '\0';
    char *src = trim(line), *exp = bar + 1;
    while (*exp == ' ')
      exp++;
    cases++;
    char **words = NULL;
    struct stack_error *err = NULL;
    int r = shell_expand_words(src, env, NULL, &words, &err);
    struct sbuf got = SBUF_INIT;
    if (r < 0) {
      sbuf_puts(&got, "error");
    } else {
      for (size_t i = 0; words[i]; i++) {
        if (i)
          sbuf_putc(&got, ',');
        sbuf_puts(&got, words[i]);
      }
    }
    CHECK_MSG(strcmp(got.data ? got.data : "", exp) == 0, "wordsTest:%d: %s gave [%s], expected [%s]",
              lineno, src, got.data ? got.data : "", exp);
    sbuf_free(&got);
    strv_free(words);
    stack_error_free(err);
  }
  free(line);
  strv_free(env);
  CHECK(cases == 24);
}

/* What the tables do not cover: the other modifiers, the raw modes the
 * heredoc detection uses, a backtick escape. */
static void extras(void) {
  char *env[] = {"P=/usr/local/bin/tool.tar.gz", "E=", "X=a b", NULL};
  struct {
    const char *in, *out;
  } cases[] = {
      {"${P#*/}", "usr/local/bin/tool.tar.gz"},
      {"${P##*/}", "tool.tar.gz"},
      {"${P%.*}", "/usr/local/bin/tool.tar"},
      {"${P%%.*}", "/usr/local/bin/tool"},
      {"${P/local/opt}", "/usr/opt/bin/tool.tar.gz"},
      {"${P//o/0}", "/usr/l0cal/bin/t00l.tar.gz"},
      {"${P/#\\/usr/x}", "/usr/local/bin/tool.tar.gz"},
      {"${E-dflt}", ""},
      {"${E:-dflt}", "dflt"},
      {"${U-dflt}", "dflt"},
      {"${E+set}", "set"},
      {"${E:+set}", ""},
  };
  for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
    _cleanup_free_ char *out = NULL;
    _cleanup_error_ struct stack_error *err = NULL;
    int r = shell_expand_word(cases[i].in, env, NULL, &out, &err);
    CHECK_MSG(r == 0, "%s: %s", cases[i].in, err ? err->msg : "");
    if (r == 0)
      CHECK_MSG(strcmp(out, cases[i].out) == 0, "%s gave %s", cases[i].in, out);
  }
  _cleanup_error_ struct stack_error *err = NULL;
  _cleanup_free_ char *out = NULL;
  CHECK(shell_expand_word("${U:?must be set}", env, NULL, &out, &err) < 0);
  CHECK(err && strstr(err->msg, "U: must be set") != NULL);

  struct shell_words_opts raw = {.raw_quotes = true, .skip_unset_env = true};
  _cleanup_free_ char *o2 = NULL;
  CHECK(shell_expand_word("'$A' \"${B:-x}\" $X $U", env, &raw, &o2, NULL) == 0);
  CHECK_STREQ(o2, "'$A' \"${B:-x}\" a b $U");

  struct shell_words_opts tick = {.escape = '`'};
  _cleanup_free_ char *o3 = NULL;
  CHECK(shell_expand_word("C:\\dir `$X", env, &tick, &o3, NULL) == 0);
  CHECK_STREQ(o3, "C:\\dir $X");

  _cleanup_strv_ char **w = NULL;
  CHECK(shell_expand_words("8080/tcp  $X \"c d\"", env, NULL, &w, NULL) == 0);
  CHECK(w && w[0] && w[1] && w[2] && w[3] && !w[4]);
  if (w && w[0] && w[1] && w[2] && w[3]) {
    CHECK_STREQ(w[0], "8080/tcp");
    CHECK_STREQ(w[1], "a");
    CHECK_STREQ(w[2], "b");
    CHECK_STREQ(w[3], "c d");
  }
}

int main(void) {
  env_var_test();
  words_test();
  extras();
  TEST_DONE();
}
