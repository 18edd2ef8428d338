#include "image_change.h"

#include <ctype.h>
#include <errno.h>
#include <stdbool.h>
#include <string.h>
#include <strings.h>

#include "runtime/util/cjson_cleanup.h"
#include "runtime/util/cleanup.h"
#include "runtime/util/error.h"
#include "runtime/util/xalloc.h"

/* ["a", "b"] (JSON form) or a shell command line (wrapped in /bin/sh -c). */
static cJSON *exec_form(const char *args, const char *change, struct stack_error **err) {
  if (args[0] == '[') {
    cJSON *a = cJSON_Parse(args);
    bool ok = cJSON_IsArray(a);
    const cJSON *it;
    cJSON_ArrayForEach(it, a) ok = ok && cJSON_IsString(it);
    if (!ok) {
      cJSON_Delete(a);
      stack_error_set(err, -EINVAL, "--change \"%s\": expected a JSON list of strings", change);
      return NULL;
    }
    return a;
  }
  cJSON *a = cJSON_CreateArray();
  cJSON_AddItemToArray(a, cJSON_CreateString("/bin/sh"));
  cJSON_AddItemToArray(a, cJSON_CreateString("-c"));
  cJSON_AddItemToArray(a, cJSON_CreateString(args));
  return a;
}

static cJSON *object_of(cJSON *config, const char *key) {
  cJSON *o = cJSON_GetObjectItemCaseSensitive(config, key);
  if (!cJSON_IsObject(o)) {
    cJSON_DeleteItemFromObjectCaseSensitive(config, key);
    o = cJSON_AddObjectToObject(config, key);
  }
  return o;
}

/* KEY=VALUE (or "KEY VALUE"): the key and value, newly allocated. */
static int split_pair(const char *args, const char *change, char **k, char **v,
                      struct stack_error **err) {
  size_t n = strcspn(args, "= ");
  if (n == 0)
    return stack_error_set(err, -EINVAL, "--change \"%s\": expected KEY=VALUE", change);
  *k = xstrndup(args, n);
  const char *val = args[n] ? args + n + 1 : "";
  size_t vl = strlen(val);
  if (vl >= 2 && val[0] == '"' && val[vl - 1] == '"')
    *v = xstrndup(val + 1, vl - 2);
  else
    *v = xstrdup(val);
  return 0;
}

static void set_env(cJSON *config, const char *k, const char *v) {
  cJSON *env = cJSON_GetObjectItemCaseSensitive(config, "Env");
  if (!cJSON_IsArray(env)) {
    cJSON_DeleteItemFromObjectCaseSensitive(config, "Env");
    env = cJSON_AddArrayToObject(config, "Env");
  }
  _cleanup_free_ char *kv = xasprintf("%s=%s", k, v);
  size_t kl = strlen(k);
  int i = 0;
  const cJSON *it;
  cJSON_ArrayForEach(it, env) {
    if (cJSON_IsString(it) && strncmp(it->valuestring, k, kl) == 0 && it->valuestring[kl] == '=') {
      cJSON_ReplaceItemInArray(env, i, cJSON_CreateString(kv));
      return;
    }
    i++;
  }
  cJSON_AddItemToArray(env, cJSON_CreateString(kv));
}

int image_change_apply(cJSON *config, const char *change, struct stack_error **err) {
  size_t n = strcspn(change, " \t");
  const char *args = change + n;
  while (isspace((unsigned char)*args))
    args++;
  _cleanup_free_ char *instr = xstrndup(change, n);
  if (*args == '\0')
    return stack_error_set(err, -EINVAL, "--change \"%s\": %s needs an argument", change, instr);
  if (strcasecmp(instr, "CMD") == 0 || strcasecmp(instr, "ENTRYPOINT") == 0) {
    cJSON *v = exec_form(args, change, err);
    if (v == NULL)
      return -EINVAL;
    const char *key = strcasecmp(instr, "CMD") == 0 ? "Cmd" : "Entrypoint";
    cJSON_DeleteItemFromObjectCaseSensitive(config, key);
    cJSON_AddItemToObject(config, key, v);
    return 0;
  }
  if (strcasecmp(instr, "ENV") == 0 || strcasecmp(instr, "LABEL") == 0) {
    _cleanup_free_ char *k = NULL, *v = NULL;
    int r = split_pair(args, change, &k, &v, err);
    if (r < 0)
      return r;
    if (strcasecmp(instr, "ENV") == 0) {
      set_env(config, k, v);
    } else {
      cJSON *labels = object_of(config, "Labels");
      cJSON_DeleteItemFromObjectCaseSensitive(labels, k);
      cJSON_AddStringToObject(labels, k, v);
    }
    return 0;
  }
  if (strcasecmp(instr, "EXPOSE") == 0 || strcasecmp(instr, "VOLUME") == 0) {
    bool expose = strcasecmp(instr, "EXPOSE") == 0;
    cJSON *set = object_of(config, expose ? "ExposedPorts" : "Volumes");
    for (const char *p = args; *p;) {
      size_t l = strcspn(p, " \t");
      _cleanup_free_ char *item = xstrndup(p, l);
      if (expose && strchr(item, '/') == NULL) {
        char *tcp = xasprintf("%s/tcp", item);
        free(item);
        item = tcp;
      }
      if (!cJSON_HasObjectItem(set, item))
        cJSON_AddObjectToObject(set, item);
      p += l;
      while (isspace((unsigned char)*p))
        p++;
    }
    return 0;
  }
  static const char *const plain[][2] = {
      {"WORKDIR", "WorkingDir"}, {"USER", "User"}, {"STOPSIGNAL", "StopSignal"}};
  for (size_t i = 0; i < sizeof(plain) / sizeof(plain[0]); i++) {
    if (strcasecmp(instr, plain[i][0]) == 0) {
      cJSON_DeleteItemFromObjectCaseSensitive(config, plain[i][1]);
      cJSON_AddStringToObject(config, plain[i][1], args);
      return 0;
    }
  }
  return stack_error_set(err, -EINVAL,
                         "--change \"%s\": unsupported instruction %s (supported: CMD, ENTRYPOINT, "
                         "ENV, EXPOSE, LABEL, STOPSIGNAL, USER, VOLUME, WORKDIR)",
                         change, instr);
}
