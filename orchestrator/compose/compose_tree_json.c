#include "compose_tree_json.h"

#include <cjson/cJSON.h>
#include <errno.h>
#include <stdlib.h>

#include "compose_model.h"
#include "compose_normalize.h"
#include "compose_validate.h"
#include "runtime/util/cleanup.h"
#include "runtime/util/error.h"

#define MAX_DEPTH 64

static struct cnode *from_json(const cJSON *j, struct cnode_src *src, int depth) {
  if (depth > MAX_DEPTH)
    return NULL;
  if (cJSON_IsObject(j) || cJSON_IsArray(j)) {
    bool map = cJSON_IsObject(j);
    struct cnode *n = cnode_new(map ? CNODE_MAP : CNODE_SEQ, src, 0, 0);
    const cJSON *c;
    cJSON_ArrayForEach(c, j) {
      struct cnode *v = from_json(c, src, depth + 1);
      if (v == NULL || (map && c->string == NULL)) {
        cnode_free(v);
        cnode_free(n);
        return NULL;
      }
      if (map)
        cnode_map_set(n, c->string, v); /* a repeated key: the last wins */
      else
        cnode_seq_append(n, v);
    }
    return n;
  }
  if (cJSON_IsString(j))
    return cnode_new_scalar(j->valuestring, true, src, 0, 0);
  if (cJSON_IsBool(j))
    return cnode_new_scalar(cJSON_IsTrue(j) ? "true" : "false", false, src, 0, 0);
  if (cJSON_IsRaw(j)) /* an exact integer from compose_emit_json_tree() */
    return cnode_new_scalar(j->valuestring, false, src, 0, 0);
  if (cJSON_IsNumber(j)) {
    /* cJSON's own shortest text that reads back as the same number */
    _cleanup_free_ char *text = cJSON_PrintUnformatted(j);
    return text ? cnode_new_scalar(text, false, src, 0, 0) : NULL;
  }
  return cnode_new_scalar("null", false, src, 0, 0);
}

struct cnode *compose_tree_from_json(const cJSON *j) {
  struct cnode_src *src = cnode_src_new("<project>");
  struct cnode *n = from_json(j, src, 0);
  cnode_src_unref(src);
  return n;
}

int compose_project_from_json(const cJSON *j, const char *working_dir,
                              struct compose_project **out, struct stack_error **err) {
  *out = NULL;
  if (!cJSON_IsObject(j) || working_dir == NULL)
    return stack_error_set(err, -EINVAL, "the project must be an object with its directory");
  struct cnode *tree = compose_tree_from_json(j);
  if (tree == NULL)
    return stack_error_set(err, -EINVAL, "the project is nested too deeply");
  int r = compose_validate_schema(tree, err);
  if (r == 0)
    r = compose_validate_project(tree, err);
  if (r < 0) {
    cnode_free(tree);
    return r;
  }
  return compose_model_build(tree, working_dir, out, err);
}
