/* The parser against the reference's own test files
 * (tests/conformance/dockerfile/parser): every positive case prints its
 * `result` tree byte for byte, every negative case is refused with the file
 * and line named.  Then what the files do not cover: heredocs, directives,
 * unknown instructions and frontends. */
#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "builder/dockerfile.h"
#include "runtime/util/cleanup.h"
#include "runtime/util/fsutil.h"
#include "runtime/util/xalloc.h"
#include "test.h"

static char *slurp(const char *path, size_t *len) {
  char *data = NULL;
  size_t n = 0;
  if (fs_read_file(path, 1 << 20, &data, &n, NULL) < 0)
    return NULL;
  if (len)
    *len = n;
  return data;
}

static int parse_str(const char *text, struct dockerfile **df, struct stack_error **err) {
  return dockerfile_parse("Dockerfile", text, strlen(text), df, err);
}

static void positive(const char *root) {
  _cleanup_free_ char *dir = xasprintf("%s/dockerfile/parser/testfiles", root);
  _cleanup_closedir_ DIR *d = opendir(dir);
  CHECK_MSG(d != NULL, "cannot open %s", dir);
  if (!d)
    return;
  int cases = 0;
  struct dirent *de;
  while ((de = readdir(d)) != NULL) {
    if (de->d_name[0] == '.')
      continue;
    _cleanup_free_ char *dpath = xasprintf("%s/%s/Dockerfile", dir, de->d_name);
    _cleanup_free_ char *rpath = xasprintf("%s/%s/result", dir, de->d_name);
    size_t len = 0;
    _cleanup_free_ char *text = slurp(dpath, &len);
    _cleanup_free_ char *want = slurp(rpath, NULL);
    CHECK_MSG(text && want, "%s: missing files", de->d_name);
    if (!text || !want)
      continue;
    cases++;
    struct dockerfile *df = NULL;
    _cleanup_error_ struct stack_error *err = NULL;
    int r = dockerfile_parse(dpath, text, len, &df, &err);
    CHECK_MSG(r == 0, "%s: %s", de->d_name, err ? err->msg : "");
    if (r == 0) {
      _cleanup_free_ char *got = dockerfile_dump(df);
      CHECK_MSG(strcmp(got, want) == 0, "%s:\n--- got\n%s--- expected\n%s", de->d_name, got, want);
    }
    dockerfile_free(df);
  }
  CHECK_INTEQ(cases, 33);
}

static void negative(const char *root) {
  _cleanup_free_ char *dir = xasprintf("%s/dockerfile/parser/testfiles-negative", root);
  _cleanup_closedir_ DIR *d = opendir(dir);
  CHECK_MSG(d != NULL, "cannot open %s", dir);
  if (!d)
    return;
  int cases = 0;
  struct dirent *de;
  while ((de = readdir(d)) != NULL) {
    if (de->d_name[0] == '.')
      continue;
    _cleanup_free_ char *dpath = xasprintf("%s/%s/Dockerfile", dir, de->d_name);
    size_t len = 0;
    _cleanup_free_ char *text = slurp(dpath, &len);
    CHECK_MSG(text != NULL, "%s", dpath);
    if (!text)
      continue;
    cases++;
    struct dockerfile *df = NULL;
    _cleanup_error_ struct stack_error *err = NULL;
    int r = dockerfile_parse(dpath, text, len, &df, &err);
    CHECK_MSG(r < 0, "%s parsed", de->d_name);
    if (r < 0) {
      _cleanup_free_ char *prefix = xasprintf("%s:", dpath);
      CHECK_MSG(err && strncmp(err->msg, prefix, strlen(prefix)) == 0 &&
                    strchr(err->msg + strlen(prefix), ':') != NULL,
                "%s: %s", de->d_name, err ? err->msg : "");
      printf("%s: %s\n", de->d_name, err ? err->msg : "");
    }
    dockerfile_free(df);
  }
  CHECK_INTEQ(cases, 4);
  /* the line of each */
  struct {
    const char *text, *msg;
  } cases2[] = {
      {"FROM busybox\n\nENV PATH\n", "Dockerfile:3: ENV: ENV must have two arguments"},
      {"CMD [ \"echo\", [ \"nested json\" ] ]\n",
       "Dockerfile:1: CMD: when using JSON array syntax, arrays must be comprised of strings only"},
      {"", "Dockerfile:1: file with no instructions"},
      {"# Hello\n# only comments\n\n", "Dockerfile:3: file with no instructions"},
      {"FROM a\nFROB x\n", "Dockerfile:2: unknown instruction: FROB"},
      {"# syntax=docker/dockerfile:1\n# syntax=docker/dockerfile:1\nFROM a\n",
       "Dockerfile:2: only one syntax parser directive can be used"},
      {"# syntax=example.com/frontend:2\nFROM a\n", "Dockerfile:1: # syntax=example.com/frontend:2 names"},
      {"# syntax=docker/dockerfile:2\nFROM a\n", "Dockerfile:1: # syntax=docker/dockerfile:2 names"},
      {"# escape=x\nFROM a\n", "Dockerfile:1: invalid escape token 'x'"},
      {"FROM a\nRUN <<EOF\necho hi\n", "Dockerfile:2: RUN: unterminated heredoc"},
      {"FROM a\nLABEL a=b c\n", "Dockerfile:2: LABEL: Syntax error - can't find = in \"c\""},
      {"FROM a\nRUN x\0y\n", "Dockerfile:2: the file holds a NUL byte"},
  };
  for (size_t i = 0; i < sizeof(cases2) / sizeof(cases2[0]); i++) {
    struct dockerfile *df = NULL;
    _cleanup_error_ struct stack_error *err = NULL;
    size_t len = strlen(cases2[i].text);
    if (strstr(cases2[i].msg, "NUL"))
      len = 14;
    CHECK(dockerfile_parse("Dockerfile", cases2[i].text, len, &df, &err) < 0);
    CHECK_MSG(err && strncmp(err->msg, cases2[i].msg, strlen(cases2[i].msg)) == 0, "got %s, expected %s",
              err ? err->msg : "(none)", cases2[i].msg);
    dockerfile_free(df);
  }
}

static void heredocs(void) {
  const char *text = "FROM busybox\n"
                     "RUN <<EOF\n"
                     "echo $HOME\n"
                     "EOF\n"
                     "COPY <<-'END' 3<<two /dst/\n"
                     "\tindented $X\n"
                     "\tEND\n"
                     "second\n"
                     "two\n"
                     "run echo after\n";
  struct dockerfile *df = NULL;
  _cleanup_error_ struct stack_error *err = NULL;
  CHECK(parse_str(text, &df, &err) == 0);
  if (!df)
    return;
  CHECK_INTEQ(df->n_nodes, 4);
  CHECK_INTEQ(df->nodes[1].n_heredocs, 1);
  CHECK_STREQ(df->nodes[1].heredocs[0].name, "EOF");
  CHECK_STREQ(df->nodes[1].heredocs[0].content, "echo $HOME\n");
  CHECK(df->nodes[1].heredocs[0].expand);
  CHECK_INTEQ(df->nodes[1].start_line, 2);
  CHECK_INTEQ(df->nodes[1].end_line, 4);
  CHECK_INTEQ(df->nodes[2].n_heredocs, 2);
  CHECK_STREQ(df->nodes[2].heredocs[0].name, "END");
  CHECK(!df->nodes[2].heredocs[0].expand);
  CHECK(df->nodes[2].heredocs[0].chomp);
  CHECK_STREQ(df->nodes[2].heredocs[0].content, "\tindented $X\n");
  CHECK_STREQ(df->nodes[2].heredocs[1].name, "two");
  CHECK_INTEQ(df->nodes[2].heredocs[1].fd, 3);
  CHECK_STREQ(df->nodes[2].heredocs[1].content, "second\n");
  CHECK_INTEQ(df->nodes[3].start_line, 10);
  _cleanup_free_ char *dump = dockerfile_dump(df);
  CHECK_STREQ(dump, "(from \"busybox\")\n(run \"<<EOF\")\n(copy \"<<-'END'\" \"3<<two\" \"/dst/\")\n"
                    "(run \"echo after\")\n");
  dockerfile_free(df);

  /* a JSON RUN has no heredoc; ONBUILD RUN has */
  df = NULL;
  CHECK(parse_str("FROM a\nRUN [\"cat\", \"<<EOF\"]\nONBUILD RUN <<X\nhi\nX\n", &df, &err) == 0);
  if (df) {
    CHECK_INTEQ(df->nodes[1].n_heredocs, 0);
    CHECK_INTEQ(df->nodes[2].n_heredocs, 1);
    CHECK(df->nodes[2].sub && df->nodes[2].sub->cmd == DF_RUN);
    dockerfile_free(df);
  }
}

static void directives(void) {
  struct dockerfile *df = NULL;
  _cleanup_error_ struct stack_error *err = NULL;
  CHECK(parse_str("\xEF\xBB\xBF# syntax = docker/dockerfile:1.7\n# escape=`\nFROM a\nRUN a `\n b\n", &df,
                  &err) == 0);
  if (df) {
    CHECK_STREQ(df->syntax, "docker/dockerfile:1.7");
    CHECK(df->escape == '`');
    _cleanup_free_ char *dump = dockerfile_dump(df);
    CHECK_STREQ(dump, "(from \"a\")\n(run \"a  b\")\n");
    dockerfile_free(df);
  }
  /* a directive after an instruction is a comment */
  df = NULL;
  CHECK(parse_str("FROM a\n# escape=`\nRUN a \\\n b\n", &df, &err) == 0);
  if (df) {
    CHECK(df->escape == '\\');
    dockerfile_free(df);
  }
  df = NULL;
  CHECK(parse_str("# syntax=docker.io/docker/dockerfile:1@sha256:abc\nfrom a AS b\n", &df, &err) == 0);
  if (df) {
    CHECK(df->nodes[0].cmd == DF_FROM);
    CHECK_INTEQ(df->nodes[0].n_args, 3);
    dockerfile_free(df);
  }
  /* an empty continuation line is a warning */
  df = NULL;
  CHECK(parse_str("FROM a\nRUN a \\\n\n b\n", &df, &err) == 0);
  if (df) {
    CHECK(df->warnings && df->warnings[0] && strstr(df->warnings[0], "empty continuation"));
    dockerfile_free(df);
  }
}

int main(void) {
  const char *root = getenv("STACK_CONFORMANCE_DIR");
  CHECK(root != NULL);
  if (root) {
    positive(root);
    negative(root);
  }
  heredocs();
  directives();
  TEST_DONE();
}
