// module: compose
/* The Compose loader on untrusted files: YAML (anchors, merge keys, tags),
 * interpolation, schema check, canonical form, same-file extends, merging,
 * profiles and the checks of names, targets and sizes.  The input is split at its first NUL byte into a base file
 * and an override file. */
#include <errno.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "orchestrator/compose/compose_env.h"
#include "orchestrator/compose/compose_extends.h"
#include "orchestrator/compose/compose_interp.h"
#include "orchestrator/compose/compose_merge.h"
#include "orchestrator/compose/compose_normalize.h"
#include "orchestrator/compose/compose_profiles.h"
#include "orchestrator/compose/compose_validate.h"
#include "orchestrator/compose/compose_yaml.h"
#include "runtime/util/error.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static int no_files(void *ud, const char *base_dir, const char *path, struct cnode **tree,
                    char **abs_path, struct stack_error **err) {
  return stack_error_set(err, -ENOENT, "%s: not available while fuzzing", path);
}

static void load_part(const char *buf, size_t len, const char *name, struct compose_env *env,
                      struct cnode **merged) {
  struct stack_error *err = NULL;
  struct cnode *docs = NULL;
  if (compose_yaml_parse_all(buf, len, name, &docs, &err) == 0) {
    for (size_t i = 0; i < docs->n; i++) {
      struct cnode *doc = docs->items[i];
      docs->items[i] = NULL;
      if (compose_interp_tree(doc, compose_env_lookup, NULL, env, &err) < 0 ||
          compose_validate_schema(doc, &err) < 0) {
        cnode_free(doc);
        continue;
      }
      struct compose_tags *tags = compose_tags_save(doc);
      int r = compose_canonical(doc, &err);
      compose_tags_restore(doc, tags);
      if (r == 0)
        r = compose_extends_apply(doc, name, "/nonexistent", no_files, NULL, &err);
      if (r < 0) {
        cnode_free(doc);
        continue;
      }
      compose_merge(merged, doc, &err);
    }
  }
  cnode_free(docs);
  stack_error_free(err);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  const char *buf = (const char *)data;
  const char *nul = memchr(buf, '\0', size);
  size_t len_a = nul ? (size_t)(nul - buf) : size;
  struct compose_env env = COMPOSE_ENV_INIT;
  compose_env_set(&env, "FOO", "first");
  compose_env_set(&env, "EMPTY", "");
  compose_env_set(&env, "PORT", "8080");
  struct cnode *merged = NULL;
  load_part(buf, len_a, "base.yaml", &env, &merged);
  if (nul)
    load_part(nul + 1, size - len_a - 1, "override.yaml", &env, &merged);
  char *profiles[] = {"debug", NULL};
  struct stack_error *err = NULL;
  if (merged && compose_profiles_apply(merged, profiles, NULL, false, &err) == 0) {
    /* names, targets and sizes, as the loader checks them */
    compose_validate_runnable(merged, &err);
  }
  stack_error_free(err);
  cnode_free(merged);
  compose_env_free(&env);
  return 0;
}
