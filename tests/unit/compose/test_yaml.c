#include <string.h>
#include <time.h>

#include "orchestrator/compose/compose_yaml.h"
#include "runtime/util/cleanup.h"
#include "runtime/util/error.h"
#include "runtime/util/sbuf.h"
#include "test.h"

static struct cnode *parse(const char *s, struct stack_error **err) {
  struct cnode *n = NULL;
  if (compose_yaml_parse(s, strlen(s), "t.yaml", &n, err) < 0)
    return NULL;
  return n;
}

static void test_positions_and_tags(void) {
  _cleanup_error_ struct stack_error *err = NULL;
  _cleanup_cnode_ struct cnode *n = parse("services:\n"
                                          "  web:\n"
                                          "    image: 'nginx'\n"
                                          "    ports: !reset []\n"
                                          "    command: !override [a]\n"
                                          "    n: 1\n"
                                          "    s: !!str 1\n"
                                          "    e:\n",
                                          &err);
  CHECK_MSG(n != NULL, "%s", err ? err->msg : "");
  if (!n)
    return;
  struct cnode *web = cnode_map_get(cnode_map_get(n, "services"), "web");
  CHECK(web && web->kind == CNODE_MAP && web->line == 3 && web->col == 5);
  struct cnode *img = cnode_map_get(web, "image");
  CHECK(img && img->quoted && strcmp(img->str, "nginx") == 0 && img->line == 3 && img->col == 12);
  struct cnode *ports = cnode_map_get(web, "ports");
  CHECK(ports && ports->kind == CNODE_SEQ && ports->tag && strcmp(ports->tag, "!reset") == 0);
  struct cnode *cmd = cnode_map_get(web, "command");
  CHECK(cmd && cmd->tag && strcmp(cmd->tag, "!override") == 0 && cmd->n == 1);
  CHECK(!cnode_map_get(web, "n")->quoted);
  struct cnode *s = cnode_map_get(web, "s");
  CHECK(s->quoted && s->tag == NULL);
  CHECK(cnode_is_null(cnode_map_get(web, "e")));
}

static void test_anchors_and_merge(void) {
  _cleanup_error_ struct stack_error *err = NULL;
  _cleanup_cnode_ struct cnode *n = parse("x-a: &a {image: a, user: u1}\n"
                                          "x-b: &b {image: b, tty: true, user: u2}\n"
                                          "s1:\n"
                                          "  <<: *a\n"
                                          "  image: own\n"
                                          "s2:\n"
                                          "  <<: [*a, *b]\n"
                                          "l: &l [1, 2]\n"
                                          "m: *l\n",
                                          &err);
  CHECK_MSG(n != NULL, "%s", err ? err->msg : "");
  if (!n)
    return;
  struct cnode *s1 = cnode_map_get(n, "s1");
  CHECK_STREQ(cnode_map_get_str(s1, "image"), "own");
  CHECK_STREQ(cnode_map_get_str(s1, "user"), "u1");
  CHECK(cnode_map_get(s1, "<<") == NULL);
  CHECK_INTEQ(s1->n, 2);
  struct cnode *s2 = cnode_map_get(n, "s2");
  CHECK_STREQ(cnode_map_get_str(s2, "image"), "a");
  CHECK_STREQ(cnode_map_get_str(s2, "user"), "u1");
  CHECK_STREQ(cnode_map_get_str(s2, "tty"), "true");
  struct cnode *m = cnode_map_get(n, "m");
  CHECK(m && m->kind == CNODE_SEQ && m->n == 2);
}

static void expect_error(const char *yaml, const char *needle) {
  _cleanup_error_ struct stack_error *err = NULL;
  _cleanup_cnode_ struct cnode *n = parse(yaml, &err);
  CHECK_MSG(n == NULL && err != NULL, "no error for %s", yaml);
  if (err)
    CHECK_MSG(strstr(err->msg, needle) != NULL, "'%s' not in '%s'", needle, err->msg);
}

static void test_errors(void) {
  expect_error("a: 1\nb: 2\na: 3\n", "t.yaml:3:1: duplicate key \"a\" (already defined at line 1");
  expect_error("a: [1, 2\n", "t.yaml:");
  expect_error("a: *nope\n", "t.yaml:1:4: unknown anchor 'nope'");
  expect_error("a: &x [*x]\n", "unknown anchor 'x'");
  expect_error("? [a]\n: 1\n", "mapping keys must be strings");
  expect_error("a: {<<: 1}\n", "merge key");
  expect_error("a: 1\n---\nb: 2\n", "single YAML document");
  expect_error("a: \"x\\0y\"\n", "NUL");
  struct sbuf deep = SBUF_INIT;
  for (int i = 0; i < 1000; i++)
    sbuf_putc(&deep, '[');
  expect_error(deep.data, "nesting deeper than");
  sbuf_free(&deep);
}

static void test_multi_and_empty(void) {
  _cleanup_error_ struct stack_error *err = NULL;
  _cleanup_cnode_ struct cnode *docs = NULL;
  const char *s = "a: 1\n---\nb: 2\n";
  CHECK(compose_yaml_parse_all(s, strlen(s), "m.yaml", &docs, &err) == 0);
  CHECK(docs && docs->n == 2);
  _cleanup_cnode_ struct cnode *e = parse("", &err);
  CHECK(e && cnode_is_null(e));
}

/* Nine levels of ten aliases each would be 10^9 nodes: it must be refused
 * at once, with a message that says why. */
static void test_alias_bomb(void) {
  struct sbuf b = SBUF_INIT;
  sbuf_puts(&b, "a0: &a0 [\"lol\"]\n");
  for (int i = 1; i <= 9; i++) {
    sbuf_printf(&b, "a%d: &a%d [", i, i);
    for (int j = 0; j < 10; j++)
      sbuf_printf(&b, "%s*a%d", j ? ", " : "", i - 1);
    sbuf_puts(&b, "]\n");
  }
  struct timespec t0, t1;
  clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &t0);
  _cleanup_error_ struct stack_error *err = NULL;
  _cleanup_cnode_ struct cnode *n = parse(b.data, &err);
  clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &t1);
  double ms = (t1.tv_sec - t0.tv_sec) * 1e3 + (t1.tv_nsec - t0.tv_nsec) / 1e6;
  CHECK(n == NULL);
  CHECK(err && strstr(err->msg, "alias bomb"));
  CHECK_MSG(ms < 3000, "took %.1f ms of CPU", ms);
  printf("alias bomb rejected in %.2f ms: %s\n", ms, err ? err->msg : "");
  sbuf_free(&b);

  /* Ordinary anchor reuse stays fine. */
  struct sbuf ok = SBUF_INIT;
  sbuf_puts(&ok, "x-common: &c {image: busybox, environment: {A: 1, B: 2}, labels: [a, b, c]}\n"
                 "services:\n");
  for (int i = 0; i < 500; i++)
    sbuf_printf(&ok, "  s%d: {<<: *c, command: run}\n", i);
  _cleanup_error_ struct stack_error *err2 = NULL;
  _cleanup_cnode_ struct cnode *n2 = parse(ok.data, &err2);
  CHECK_MSG(n2 != NULL, "%s", err2 ? err2->msg : "");
  sbuf_free(&ok);
}

int main(void) {
  test_positions_and_tags();
  test_anchors_and_merge();
  test_errors();
  test_multi_and_empty();
  test_alias_bomb();
  TEST_DONE();
}
