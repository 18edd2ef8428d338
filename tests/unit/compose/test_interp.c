#include <cjson/cJSON.h>
#include <stdlib.h>
#include <string.h>

#include "orchestrator/compose/compose_env.h"
#include "orchestrator/compose/compose_interp.h"
#include "orchestrator/compose/compose_yaml.h"
#include "runtime/util/cleanup.h"
#include "runtime/util/error.h"
#include "runtime/util/fsutil.h"
#include "runtime/util/xalloc.h"
#include "test.h"

/* All 56 cases of compose-go's template tests must pass. */
static void test_conformance(void) {
  const char *dir = getenv("STACK_CONFORMANCE_DIR");
  if (dir == NULL)
    TEST_SKIP("STACK_CONFORMANCE_DIR is not set (run through ctest)");
  _cleanup_free_ char *path = xasprintf("%s/compose-go/interpolation/template_cases.json", dir);
  _cleanup_free_ char *text = NULL;
  _cleanup_error_ struct stack_error *err = NULL;
  CHECK_MSG(fs_read_file(path, 0, &text, NULL, &err) == 0, "%s", err ? err->msg : "");
  if (text == NULL)
    return;
  cJSON *doc = cJSON_Parse(text);
  CHECK(doc != NULL);
  _cleanup_compose_env_ struct compose_env env = COMPOSE_ENV_INIT;
  cJSON *e;
  cJSON_ArrayForEach(e, cJSON_GetObjectItem(doc, "env")) compose_env_set(&env, e->string,
                                                                          e->valuestring);
  int n = 0, passed = 0;
  cJSON *c;
  cJSON_ArrayForEach(c, cJSON_GetObjectItem(doc, "cases")) {
    const char *tmpl = cJSON_GetObjectItem(c, "template")->valuestring;
    cJSON *exp = cJSON_GetObjectItem(c, "expected");
    cJSON *errc = cJSON_GetObjectItem(c, "error_contains");
    _cleanup_free_ char *out = NULL;
    _cleanup_error_ struct stack_error *ierr = NULL;
    int r = compose_interp_string(tmpl, compose_env_lookup, &env, &out, &ierr);
    bool ok;
    if (exp)
      ok = r == 0 && strcmp(out, exp->valuestring) == 0;
    else
      ok = r < 0 && ierr && strstr(ierr->msg, errc->valuestring) != NULL;
    CHECK_MSG(ok, "template '%s': got %s '%s'", tmpl, r == 0 ? "value" : "error",
              r == 0 ? out : (ierr ? ierr->msg : "?"));
    n++;
    passed += ok;
  }
  printf("interpolation conformance: %d/%d\n", passed, n);
  CHECK_INTEQ(n, 56);
  cJSON_Delete(doc);
}

static void test_tree(void) {
  _cleanup_compose_env_ struct compose_env env = COMPOSE_ENV_INIT;
  compose_env_set(&env, "TAG", "1.2");
  compose_env_set(&env, "PORT", "8080");
  const char *y = "services:\n"
                  "  ${TAG}:\n"
                  "    image: \"nginx:${TAG}\"\n"
                  "    ports: [$PORT]\n"
                  "    command: echo $$HOME\n";
  _cleanup_error_ struct stack_error *err = NULL;
  _cleanup_cnode_ struct cnode *n = NULL;
  CHECK(compose_yaml_parse(y, strlen(y), "i.yaml", &n, &err) == 0);
  CHECK(compose_interp_tree(n, compose_env_lookup, NULL, &env, &err) == 0);
  struct cnode *svc = cnode_map_get(cnode_map_get(n, "services"), "${TAG}");
  CHECK(svc != NULL); /* keys are not interpolated */
  CHECK_STREQ(cnode_map_get_str(svc, "image"), "nginx:1.2");
  struct cnode *ports = cnode_map_get(svc, "ports");
  CHECK(ports && ports->n == 1 && strcmp(ports->items[0]->str, "8080") == 0 &&
        !ports->items[0]->quoted);
  CHECK_STREQ(cnode_map_get_str(svc, "command"), "echo $HOME");

  const char *bad = "services:\n  web:\n    image: ${NOPE:?set NOPE}\n";
  _cleanup_cnode_ struct cnode *b = NULL;
  CHECK(compose_yaml_parse(bad, strlen(bad), "i.yaml", &b, &err) == 0);
  stack_error_freep(&err);
  CHECK(compose_interp_tree(b, compose_env_lookup, NULL, &env, &err) < 0);
  CHECK(err && strstr(err->msg, "i.yaml:3:12: error while interpolating services.web.image: "
                                "required variable NOPE is missing a value: set NOPE"));
}

static void test_edges(void) {
  _cleanup_compose_env_ struct compose_env env = COMPOSE_ENV_INIT;
  const char *bad[] = {"${}", "${ A}", "${A B}", "${A:x}", "${A", "${A:}", "${1A}"};
  for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
    _cleanup_free_ char *out = NULL;
    _cleanup_error_ struct stack_error *err = NULL;
    CHECK_MSG(compose_interp_string(bad[i], compose_env_lookup, &env, &out, &err) < 0, "%s",
              bad[i]);
  }
  char deep[2000];
  size_t k = 0;
  for (int i = 0; i < 300; i++) {
    memcpy(deep + k, "${A:-", 5);
    k += 5;
  }
  memset(deep + k, '}', 300);
  deep[k + 300] = '\0';
  _cleanup_free_ char *out = NULL;
  _cleanup_error_ struct stack_error *err = NULL;
  CHECK(compose_interp_string(deep, compose_env_lookup, &env, &out, &err) < 0);
  CHECK(err && strstr(err->msg, "deeper"));
}

int main(void) {
  test_tree();
  test_edges();
  test_conformance();
  TEST_DONE();
}
