// module: compose
/* The normalisation half of the loader on arbitrary YAML: schema check,
 * canonical form, paths, environment, defaults, project checks, the model,
 * the graph and both output formats.  Must never crash, hang or leak. */
#include <stdint.h>
#include <stdlib.h>

#include "orchestrator/compose/compose_emit.h"
#include "orchestrator/compose/compose_graph.h"
#include "orchestrator/compose/compose_model.h"
#include "orchestrator/compose/compose_normalize.h"
#include "orchestrator/compose/compose_validate.h"
#include "orchestrator/compose/compose_yaml.h"
#include "runtime/util/error.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  struct stack_error *err = NULL;
  struct cnode *t = NULL;
  static const char *const env[] = {"A=1", NULL};
  if (compose_yaml_parse((const char *)data, size, "fuzz.yaml", &t, &err) == 0 &&
      compose_validate_schema(t, &err) == 0 && compose_canonical(t, &err) == 0 &&
      compose_resolve_paths(t, "/nonexistent-fuzz-dir", &err) == 0 &&
      compose_finalize(t, env, &err) == 0) {
    if (t->kind == CNODE_MAP && !cnode_map_get(t, "name"))
      cnode_map_set(t, "name", cnode_scalar_at("fuzz", true, t));
    if (compose_normalize(t, &err) == 0 && compose_validate_project(t, &err) == 0) {
      char *text = NULL;
      if (compose_emit_string(&text, t, COMPOSE_EMIT_YAML, true, &err) == 0)
        free(text);
      text = NULL;
      if (compose_emit_string(&text, t, COMPOSE_EMIT_JSON, true, &err) == 0)
        free(text);
      struct compose_project *p = NULL;
      if (compose_model_build(t, "/w", &p, &err) == 0) {
        t = NULL; /* owned by p */
        struct compose_graph *g = NULL;
        if (compose_graph_build(p, &g, &err) == 0)
          compose_graph_free(g);
        compose_project_free(p);
      }
      t = NULL; /* compose_model_build takes the tree even when it fails */
    }
  }
  cnode_free(t);
  stack_error_free(err);
  return 0;
}
