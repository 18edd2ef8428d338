#include <dirent.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "orchestrator/compose/compose_emit.h"
#include "orchestrator/compose/compose_merge.h"
#include "orchestrator/compose/compose_normalize.h"
#include "orchestrator/compose/compose_scalar.h"
#include "orchestrator/compose/compose_yaml.h"
#include "runtime/util/cleanup.h"
#include "runtime/util/error.h"
#include "runtime/util/sbuf.h"
#include "runtime/util/xalloc.h"
#include "test.h"

static struct cnode *canon(const char *yaml, const char *name) {
  _cleanup_error_ struct stack_error *err = NULL;
  struct cnode *n = NULL;
  struct compose_tags *tags = NULL;
  if (compose_yaml_parse(yaml, strlen(yaml), name, &n, &err) < 0 ||
      (tags = compose_tags_save(n), compose_canonical(n, &err) < 0)) {
    compose_tags_restore(n, tags);
    fprintf(stderr, "%s: %s\n", name, err ? err->msg : "?");
    cnode_free(n);
    return NULL;
  }
  compose_tags_restore(n, tags);
  return n;
}

static struct cnode *merged(const char *base, const char *over, struct stack_error **err) {
  struct cnode *m = NULL;
  struct cnode *b = canon(base, "base.yaml"), *o = canon(over, "override.yaml");
  if (compose_merge(&m, b, err) < 0 || compose_merge(&m, o, err) < 0) {
    cnode_free(m);
    return NULL;
  }
  return m;
}

static void expect(const char *base, const char *over, const char *want) {
  _cleanup_error_ struct stack_error *err = NULL;
  _cleanup_cnode_ struct cnode *m = merged(base, over, &err);
  _cleanup_cnode_ struct cnode *w = canon(want, "want.yaml");
  CHECK_MSG(m && w && cnode_equal(m, w), "merge of\n%s+\n%s!= \n%s%s", base, over, want,
            err ? err->msg : "");
}

static void test_rules(void) {
  const char *b = "services:\n  s:\n    image: a\n    command: [x, y]\n    ports: ['80:80']\n"
                  "    environment: {A: 1, B: 2}\n    dns: [1.1.1.1]\n";
  expect(b, "services:\n  s:\n    command: [z]\n",
         "services:\n  s:\n    image: a\n    command: [z]\n    ports: ['80:80']\n"
         "    environment: {A: 1, B: 2}\n    dns: [1.1.1.1]\n");
  expect(b, "services:\n  s:\n    ports: !reset []\n    environment: [B=3, C]\n",
         "services:\n  s:\n    image: a\n    command: [x, y]\n"
         "    environment: {A: 1, B: 3, C: null}\n    dns: [1.1.1.1]\n");
  expect(b, "services:\n  s:\n    ports: !override ['81:80']\n    dns: [1.1.1.1, 8.8.8.8]\n",
         "services:\n  s:\n    image: a\n    command: [x, y]\n    ports: ['81:80']\n"
         "    environment: {A: 1, B: 2}\n    dns: [1.1.1.1, 8.8.8.8]\n");
  /* same port again: one entry; a new one: appended */
  expect(b, "services:\n  s:\n    ports: ['80:80', '443:443']\n",
         "services:\n  s:\n    image: a\n    command: [x, y]\n    ports: ['80:80', '443:443']\n"
         "    environment: {A: 1, B: 2}\n    dns: [1.1.1.1]\n");
  expect("services:\n  s:\n    image: a\n    volumes: ['./a:/data', 'v:/v']\n",
         "services:\n  s:\n    volumes: ['./b:/data']\n",
         "services:\n  s:\n    image: a\n    volumes: ['./b:/data', 'v:/v']\n");
  expect("services:\n  s:\n    image: a\n    logging: {driver: json-file, options: {a: 1}}\n",
         "services:\n  s:\n    logging: {driver: syslog, options: {b: 2}}\n",
         "services:\n  s:\n    image: a\n    logging: {driver: syslog, options: {b: 2}}\n");
  expect("services:\n  s:\n    image: a\n    logging: {driver: syslog, options: {a: 1}}\n",
         "services:\n  s:\n    logging: {options: {b: 2}}\n",
         "services:\n  s:\n    image: a\n    logging: {driver: syslog, options: {a: 1, b: 2}}\n");
  expect("services:\n  s:\n    image: a\n    x: !reset 1\n", "services:\n  t:\n    image: b\n",
         "services:\n  s:\n    image: a\n  t:\n    image: b\n");
  expect("services:\n  s:\n    image: a\n    networks: [n1]\n",
         "services:\n  s:\n    networks: {n2: {aliases: [x]}}\n",
         "services:\n  s:\n    image: a\n    networks: {n1: null, n2: {aliases: [x]}}\n");
  expect("services:\n  s:\n    image: a\n    labels: [a, b]\n",
         "services:\n  s:\n    labels: !merge [c]\n",
         "services:\n  s:\n    image: a\n    labels: {a: null, b: null, c: null}\n");

  _cleanup_error_ struct stack_error *err = NULL;
  _cleanup_cnode_ struct cnode *m =
      merged("services:\n  s:\n    image: a\n    build: {context: .}\n",
             "services:\n  s:\n    build: [x]\n", &err);
  CHECK(m == NULL && err && strstr(err->msg, "override.yaml:3:12: cannot override services.s.build"));
}

/* Big mappings (50 000 labels in each of two files) must not make parsing
 * or merging quadratic: a bound far above linear time, far below n^2. */
static void test_large_maps(void) {
  struct sbuf a = SBUF_INIT, b = SBUF_INIT;
  sbuf_puts(&a, "services:\n  s:\n    image: x\n    labels:\n");
  sbuf_puts(&b, "services:\n  s:\n    labels:\n");
  for (int i = 0; i < 50000; i++) {
    sbuf_printf(&a, "      l%d: a\n", i);
    sbuf_printf(&b, "      l%d: b\n", i + 25000);
  }
  struct timespec t0, t1;
  clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &t0);
  _cleanup_error_ struct stack_error *err = NULL;
  _cleanup_cnode_ struct cnode *m = merged(a.data, b.data, &err);
  clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &t1);
  double s = (double)(t1.tv_sec - t0.tv_sec) + (t1.tv_nsec - t0.tv_nsec) / 1e9;
  struct cnode *labels = cnode_map_get(cnode_map_get(cnode_map_get(m, "services"), "s"), "labels");
  CHECK(labels && labels->n == 75000);
  CHECK_STREQ(cnode_map_get_str(labels, "l30000"), "b");
  CHECK_MSG(s < 10, "merging two 50000-key maps took %.1f s of CPU", s);
  sbuf_free(&a);
  sbuf_free(&b);
}

/* The 60 triples of compose-go's merge tests, at the tree level (the
 * conformance test through `stack config` lives in test_config_merge). */
static void test_conformance(const char *dir) {
  _cleanup_free_ char *root = xasprintf("%s/compose-go/merge", dir);
  DIR *d = opendir(root);
  CHECK(d != NULL);
  if (d == NULL)
    return;
  int n = 0, ok = 0;
  for (struct dirent *e; (e = readdir(d)) != NULL;) {
    if (e->d_name[0] == '.')
      continue;
    char *files[3] = {0};
    const char *names[3] = {"base.yaml", "override.yaml", "expected.yaml"};
    for (int i = 0; i < 3; i++) {
      _cleanup_free_ char *p = xasprintf("%s/%s/%s", root, e->d_name, names[i]);
      _cleanup_error_ struct stack_error *err = NULL;
      extern int fs_read_file(const char *, size_t, char **, size_t *, struct stack_error **);
      fs_read_file(p, 0, &files[i], NULL, &err);
    }
    n++;
    _cleanup_error_ struct stack_error *err = NULL;
    _cleanup_cnode_ struct cnode *m = files[0] && files[1] ? merged(files[0], files[1], &err) : NULL;
    _cleanup_cnode_ struct cnode *w = files[2] ? canon(files[2], "expected.yaml") : NULL;
    if (m && w && cnode_equal(m, w))
      ok++;
    else {
      printf("merge differs: %s %s\n", e->d_name, err ? err->msg : "");
      if (getenv("MERGE_DEBUG") && m && w) {
        char *a = NULL, *b = NULL;
        compose_emit_string(&a, m, COMPOSE_EMIT_YAML, false, NULL);
        compose_emit_string(&b, w, COMPOSE_EMIT_YAML, false, NULL);
        printf("--- got\n%s--- want\n%s", a ? a : "", b ? b : "");
        free(a);
        free(b);
      }
    }
    for (int i = 0; i < 3; i++)
      free(files[i]);
  }
  closedir(d);
  printf("merge (tree level): %d/%d\n", ok, n);
  CHECK_INTEQ(n, 60);
  CHECK_MSG(ok >= 57, "only %d of %d", ok, n);
}

int main(void) {
  test_rules();
  test_large_maps();
  const char *dir = getenv("STACK_CONFORMANCE_DIR");
  if (dir)
    test_conformance(dir);
  TEST_DONE();
}
