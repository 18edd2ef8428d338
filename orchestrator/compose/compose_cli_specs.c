#include "compose_cli_specs.h"

#include <cjson/cJSON.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "compose_model.h"
#include "node.h"
#include "compose_normalize.h"
#include "compose_validate.h"
#include "compose_yaml.h"
#include "runtime/util/cleanup.h"
#include "runtime/util/error.h"
#include "runtime/util/xalloc.h"

/* The messages of the file pipeline name a place in the generated file
 * ("-v:1:45: service "run": invalid volume ..."): the user wrote no such
 * file, so only what is wrong with the spec is kept, after the option's
 * name. */
static int plain_error(struct stack_error **err, int r, const char *option) {
  if (err == NULL || *err == NULL)
    return r;
  const char *why = strstr((*err)->msg, "\": ");
  const char *svc = strstr((*err)->msg, "service \"run\": ");
  const char *msg = svc ? svc + strlen("service \"run\": ") : why ? why + 3 : (*err)->msg;
  char *copy = strdup(msg);
  if (copy == NULL)
    return r;
  stack_error_free(*err);
  *err = NULL;
  stack_error_set(err, r, "%s: %s", option, copy);
  free(copy);
  return r;
}

/* specs as the `key` list of a one-service file (JSON is YAML, and cJSON
 * escapes what the specs hold), then the file's own pipeline */
static int one_service(const char *key, char *const *specs, size_t n, const char *base_dir,
                       const char *file, const char *option, struct compose_project **out,
                       struct stack_error **err) {
  *out = NULL;
  cJSON *doc = cJSON_CreateObject();
  _cleanup_free_ char *name = xasprintf("run-%s", key);
  cJSON_AddStringToObject(doc, "name", name);
  cJSON *svc = cJSON_AddObjectToObject(cJSON_AddObjectToObject(doc, "services"), "run");
  cJSON_AddStringToObject(svc, "image", "scratch");
  cJSON *list = cJSON_AddArrayToObject(svc, key);
  for (size_t i = 0; i < n; i++)
    cJSON_AddItemToArray(list, cJSON_CreateString(specs[i]));
  char *text = cJSON_PrintUnformatted(doc);
  cJSON_Delete(doc);
  if (text == NULL)
    return stack_error_set(err, -ENOMEM, "out of memory");
  struct cnode *tree = NULL;
  int r = compose_yaml_parse(text, strlen(text), file, &tree, err);
  cJSON_free(text);
  if (r == 0)
    r = compose_validate_schema(tree, err);
  if (r == 0)
    r = compose_canonical(tree, err);
  if (r == 0)
    r = compose_resolve_paths(tree, base_dir, err);
  if (r == 0) {
    r = compose_model_build(tree, base_dir, out, err);
    tree = NULL;
  }
  cnode_free(tree);
  return r < 0 ? plain_error(err, r, option) : 0;
}

int compose_mount_specs(char *const *specs, size_t n, const char *base_dir,
                        struct compose_project **out, struct stack_error **err) {
  return one_service("volumes", specs, n, base_dir, "-v", "-v/--volume", out, err);
}

int compose_port_specs(char *const *specs, size_t n, struct compose_project **out,
                       struct stack_error **err) {
  return one_service("ports", specs, n, "/", "-p", "-p/--publish", out, err);
}
