/* image_config_parse(): the parts of an OCI / Docker image config that running
 * a container needs.  The document comes from a registry, so every field is
 * optional and checked for its type; a wrong type is an error naming the
 * field rather than something silently ignored. */
#include <cjson/cJSON.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "image.h"
#include "runtime/util/cleanup.h"
#include "runtime/util/error.h"
#include "runtime/util/xalloc.h"

void image_config_clear(struct image_config *c) {
  strv_free(c->env);
  strv_free(c->entrypoint);
  strv_free(c->cmd);
  free(c->working_dir);
  free(c->user);
  free(c->stop_signal);
  strv_free(c->exposed_ports);
  strv_free(c->volumes);
  strv_free(c->labels);
  strv_free(c->health_test);
  free(c->os);
  free(c->architecture);
  free(c->variant);
  memset(c, 0, sizeof(*c));
}

static int get_string(const cJSON *obj, const char *key, char **out, struct stack_error **err) {
  const cJSON *v = cJSON_GetObjectItemCaseSensitive(obj, key);
  if (v == NULL || cJSON_IsNull(v))
    return 0;
  if (!cJSON_IsString(v))
    return stack_error_set(err, -EINVAL, "image config: \"%s\" must be a string", key);
  free(*out);
  *out = v->valuestring[0] ? xstrdup(v->valuestring) : NULL;
  return 0;
}

/* A JSON array of strings (null = absent).  Docker also writes a plain string
 * for Entrypoint/Cmd in hand-made configs; treat it as a one-element list. */
static int get_strv(const cJSON *obj, const char *key, char ***out, struct stack_error **err) {
  const cJSON *v = cJSON_GetObjectItemCaseSensitive(obj, key);
  if (v == NULL || cJSON_IsNull(v))
    return 0;
  char **list;
  if (cJSON_IsString(v)) {
    list = xcalloc(2, sizeof(char *));
    list[0] = xstrdup(v->valuestring);
  } else if (cJSON_IsArray(v)) {
    int n = cJSON_GetArraySize(v);
    list = xcalloc((size_t)n + 1, sizeof(char *));
    int i = 0;
    const cJSON *it;
    cJSON_ArrayForEach(it, v) {
      if (!cJSON_IsString(it)) {
        strv_free(list);
        return stack_error_set(err, -EINVAL, "image config: \"%s\" must be a list of strings", key);
      }
      list[i++] = xstrdup(it->valuestring);
    }
  } else {
    return stack_error_set(err, -EINVAL, "image config: \"%s\" must be a list of strings", key);
  }
  strv_free(*out);
  *out = list;
  return 0;
}

/* {"80/tcp": {}, ...} -> the keys; with_values gives "K=V" (Labels). */
static int get_keys(const cJSON *obj, const char *key, bool with_values, char ***out,
                    struct stack_error **err) {
  const cJSON *v = cJSON_GetObjectItemCaseSensitive(obj, key);
  if (v == NULL || cJSON_IsNull(v))
    return 0;
  if (!cJSON_IsObject(v))
    return stack_error_set(err, -EINVAL, "image config: \"%s\" must be an object", key);
  int n = cJSON_GetArraySize(v);
  char **list = xcalloc((size_t)n + 1, sizeof(char *));
  int i = 0;
  const cJSON *it;
  cJSON_ArrayForEach(it, v) {
    if (with_values) {
      if (!cJSON_IsString(it)) {
        strv_free(list);
        return stack_error_set(err, -EINVAL, "image config: %s \"%s\" must be a string", key,
                               it->string);
      }
      list[i++] = xasprintf("%s=%s", it->string, it->valuestring);
    } else {
      list[i++] = xstrdup(it->string);
    }
  }
  strv_free(*out);
  *out = list;
  return 0;
}

static int get_i64(const cJSON *obj, const char *key, int64_t *out, struct stack_error **err) {
  const cJSON *v = cJSON_GetObjectItemCaseSensitive(obj, key);
  if (v == NULL || cJSON_IsNull(v))
    return 0;
  /* Beyond 2^53 doubles are not exact, and beyond 2^63 the cast is undefined. */
  if (!cJSON_IsNumber(v) || v->valuedouble < 0 || v->valuedouble > 9.0e15)
    return stack_error_set(err, -EINVAL, "image config: \"%s\" must be a non-negative number", key);
  *out = (int64_t)v->valuedouble;
  return 0;
}

static int parse_health(const cJSON *h, struct image_config *c, struct stack_error **err) {
  if (h == NULL || cJSON_IsNull(h))
    return 0;
  if (!cJSON_IsObject(h))
    return stack_error_set(err, -EINVAL, "image config: \"Healthcheck\" must be an object");
  int r;
  int64_t retries = 0;
  if ((r = get_strv(h, "Test", &c->health_test, err)) < 0 ||
      (r = get_i64(h, "Interval", &c->health_interval_ns, err)) < 0 ||
      (r = get_i64(h, "Timeout", &c->health_timeout_ns, err)) < 0 ||
      (r = get_i64(h, "StartPeriod", &c->health_start_period_ns, err)) < 0 ||
      (r = get_i64(h, "StartInterval", &c->health_start_interval_ns, err)) < 0 ||
      (r = get_i64(h, "Retries", &retries, err)) < 0)
    return r;
  if (retries > 1000000)
    return stack_error_set(err, -EINVAL, "image config: Healthcheck \"Retries\" is too large");
  c->health_retries = (int)retries;
  /* ["NONE"] disables a healthcheck inherited from a base image. */
  if (c->health_test && c->health_test[0] && strcmp(c->health_test[0], "NONE") == 0) {
    strv_free(c->health_test);
    c->health_test = NULL;
  }
  return 0;
}

int image_config_parse(const char *json, size_t len, struct image_config *out,
                       struct stack_error **err) {
  memset(out, 0, sizeof(*out));
  cJSON *root = cJSON_ParseWithLength(json, len);
  if (root == NULL)
    return stack_error_set(err, -EINVAL, "image config is not valid JSON");
  int r = 0;
  if (!cJSON_IsObject(root)) {
    r = stack_error_set(err, -EINVAL, "image config must be a JSON object");
    goto out;
  }
  if ((r = get_string(root, "os", &out->os, err)) < 0 ||
      (r = get_string(root, "architecture", &out->architecture, err)) < 0 ||
      (r = get_string(root, "variant", &out->variant, err)) < 0)
    goto out;
  const cJSON *cfg = cJSON_GetObjectItemCaseSensitive(root, "config");
  if (cfg == NULL || cJSON_IsNull(cfg))
    goto out;
  if (!cJSON_IsObject(cfg)) {
    r = stack_error_set(err, -EINVAL, "image config: \"config\" must be an object");
    goto out;
  }
  if ((r = get_strv(cfg, "Env", &out->env, err)) < 0 ||
      (r = get_strv(cfg, "Entrypoint", &out->entrypoint, err)) < 0 ||
      (r = get_strv(cfg, "Cmd", &out->cmd, err)) < 0 ||
      (r = get_string(cfg, "WorkingDir", &out->working_dir, err)) < 0 ||
      (r = get_string(cfg, "User", &out->user, err)) < 0 ||
      (r = get_string(cfg, "StopSignal", &out->stop_signal, err)) < 0 ||
      (r = get_keys(cfg, "ExposedPorts", false, &out->exposed_ports, err)) < 0 ||
      (r = get_keys(cfg, "Volumes", false, &out->volumes, err)) < 0 ||
      (r = get_keys(cfg, "Labels", true, &out->labels, err)) < 0 ||
      (r = parse_health(cJSON_GetObjectItemCaseSensitive(cfg, "Healthcheck"), out, err)) < 0)
    goto out;
out:
  cJSON_Delete(root);
  if (r < 0)
    image_config_clear(out);
  return r;
}
