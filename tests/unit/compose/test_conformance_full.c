/* compose-go's "full example" (tests/conformance/compose-go/full-example):
 * the file, taken through interpolation, schema check, canonical form, path
 * resolution and environment resolution (compose-go's loader with
 * normalisation skipped, as that test runs it), printed as YAML, must read
 * back as the same document as expected.yaml, up to mapping key order.
 * Scalars compare by YAML type and value, so "3000" and 3000 differ. */
#include <limits.h>
#include <stdlib.h>
#include <string.h>

#include "orchestrator/compose/compose_emit.h"
#include "orchestrator/compose/compose_env.h"
#include "orchestrator/compose/compose_interp.h"
#include "orchestrator/compose/compose_normalize.h"
#include "orchestrator/compose/compose_scalar.h"
#include "orchestrator/compose/compose_validate.h"
#include "orchestrator/compose/compose_yaml.h"
#include "runtime/util/cleanup.h"
#include "runtime/util/error.h"
#include "runtime/util/fsutil.h"
#include "runtime/util/sbuf.h"
#include "helper_tree_compare.h"
#include "test.h"

int main(void) {
  const char *conf = getenv("STACK_CONFORMANCE_DIR");
  _cleanup_free_ char *dir = conf ? fs_path_join(conf, "compose-go/full-example") : NULL;
  if (dir == NULL || !fs_exists(dir))
    TEST_SKIP("STACK_CONFORMANCE_DIR/compose-go/full-example not found");
  char real[PATH_MAX];
  CHECK(realpath(dir, real) != NULL);
  _cleanup_free_ char *file = fs_path_join(real, "full-example.yml");
  _cleanup_free_ char *expected_file = fs_path_join(real, "expected.yaml");

  /* the environment compose-go's test gives the loader */
  _cleanup_compose_env_ struct compose_env env = COMPOSE_ENV_INIT;
  const char *home = getenv("HOME") ? getenv("HOME") : "/root";
  compose_env_set(&env, "HOME", home);
  compose_env_set(&env, "QUX", "qux_from_environment");
  compose_env_set(&env, "COMPOSE_PROJECT_NAME", "full_example_project_name");
  _cleanup_strv_ char **environ_list = compose_env_to_environ(&env);

  _cleanup_error_ struct stack_error *err = NULL;
  _cleanup_cnode_ struct cnode *docs = NULL;
  CHECK(compose_yaml_read_file(file, &docs, &err) == 0);
  if (docs == NULL || docs->n != 1) {
    fprintf(stderr, "%s\n", err ? err->msg : "no document");
    TEST_DONE();
  }
  struct cnode *t = docs->items[0];
  int r = compose_interp_tree(t, compose_env_lookup, NULL, &env, &err);
  if (r == 0)
    r = compose_validate_schema(t, &err);
  if (r == 0)
    r = compose_canonical(t, &err);
  if (r == 0)
    r = compose_resolve_paths(t, real, &err);
  if (r == 0)
    r = compose_finalize(t, (const char *const *)environ_list, &err);
  CHECK_MSG(r == 0, "%s", err ? err->msg : "");
  if (r < 0)
    TEST_DONE();

  _cleanup_free_ char *yaml = NULL;
  CHECK(compose_emit_string(&yaml, t, COMPOSE_EMIT_YAML, true, &err) == 0);
  _cleanup_cnode_ struct cnode *ours = NULL;
  CHECK(compose_yaml_parse(yaml, strlen(yaml), "output", &ours, &err) == 0);

  _cleanup_free_ char *text = NULL;
  size_t len;
  CHECK(fs_read_file(expected_file, 0, &text, &len, &err) == 0);
  _cleanup_free_ char *t1 = tree_replace_all(text, "${WORKDIR}", real);
  _cleanup_free_ char *t2 = tree_replace_all(t1, "${HOME}", home);
  _cleanup_cnode_ struct cnode *expected = NULL;
  CHECK(compose_yaml_parse(t2, strlen(t2), "expected.yaml", &expected, &err) == 0);
  int diffs = tree_compare(ours, expected, "", 0);
  CHECK_MSG(diffs == 0, "%d differences from expected.yaml; our output:\n%s", diffs, yaml);
  TEST_DONE();
}
