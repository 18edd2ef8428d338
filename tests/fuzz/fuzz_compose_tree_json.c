// module: compose
/* A project handed to the supervisor as JSON (params.model of `up`) comes
 * from a client: any JSON must give a model or a clean error, and a model
 * must print (`stack config`) and hand on again. */
#include <cjson/cJSON.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "orchestrator/compose/compose_emit.h"
#include "orchestrator/compose/compose_model.h"
#include "orchestrator/compose/compose_tree_json.h"
#include "runtime/util/error.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  cJSON *j = cJSON_ParseWithLength((const char *)data, size);
  if (j == NULL)
    return 0;
  struct compose_project *p = NULL;
  struct stack_error *err = NULL;
  if (compose_project_from_json(j, "/fuzz", &p, &err) < 0) {
    if (err == NULL || p != NULL)
      abort(); /* an error says why, and leaves nothing */
    stack_error_free(err);
    cJSON_Delete(j);
    return 0;
  }
  char *text = NULL;
  if (compose_emit_string(&text, p->tree, COMPOSE_EMIT_JSON, false, &err) < 0)
    abort();
  cJSON *again = compose_emit_json_tree(p->tree, false);
  struct compose_project *q = NULL;
  if (compose_project_from_json(again, "/fuzz", &q, &err) < 0)
    abort(); /* what we hand on we must read */
  compose_project_free(q);
  cJSON_Delete(again);
  free(text);
  compose_project_free(p);
  cJSON_Delete(j);
  return 0;
}
