#include "runtime/image/credentials.h"

#include <cjson/cJSON.h>
#include <errno.h>
#include <stdbool.h>
#include <libgen.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "runtime/image/auth.h"
#include "runtime/util/cjson_cleanup.h"
#include "runtime/util/cleanup.h"
#include "runtime/util/error.h"
#include "runtime/util/fsutil.h"
#include "runtime/util/paths.h"
#include "runtime/util/xalloc.h"

#define CRED_FILE_MAX (1u << 20)

char *credentials_path(void) {
  _cleanup_free_ char *cfg = stack_config_path();
  return fs_path_join(dirname(cfg), "auth.json");
}

/* Loads a config.json-style file; a missing file gives *out = NULL. */
static int load(const char *path, cJSON **out, struct stack_error **err) {
  *out = NULL;
  _cleanup_free_ char *data = NULL;
  size_t len;
  if (!fs_exists(path))
    return 0;
  int r = fs_read_file(path, CRED_FILE_MAX, &data, &len, err);
  if (r < 0)
    return r;
  cJSON *j = cJSON_ParseWithLength(data, len);
  if (j == NULL || !cJSON_IsObject(j)) {
    cJSON_Delete(j);
    return stack_error_set(err, -EINVAL, "%s: not a JSON object; fix or remove the file", path);
  }
  *out = j;
  return 0;
}

static bool host_matches(const char *key, const char *host) {
  /* Keys may be "host", "https://host", "https://host/v1/". */
  const char *k = key;
  if (strncmp(k, "https://", 8) == 0)
    k += 8;
  else if (strncmp(k, "http://", 7) == 0)
    k += 7;
  size_t n = strcspn(k, "/");
  if (strlen(host) == n && strncasecmp(k, host, n) == 0)
    return true;
  if (strcmp(host, "docker.io") == 0)
    return (n == 15 && strncmp(k, "index.docker.io", 15) == 0) ||
           (n == 19 && strncmp(k, "registry-1.docker.io", 19) == 0);
  return false;
}

static int lookup_in(const char *path, const char *host, char **user, char **pass,
                     struct stack_error **err) {
  _cleanup_cjson_ cJSON *root = NULL;
  int r = load(path, &root, err);
  if (r < 0 || root == NULL)
    return r;
  const cJSON *auths = cJSON_GetObjectItemCaseSensitive(root, "auths");
  const cJSON *e;
  cJSON_ArrayForEach(e, auths) {
    if (!e->string || !host_matches(e->string, host))
      continue;
    const cJSON *a = cJSON_GetObjectItemCaseSensitive(e, "auth");
    if (cJSON_IsString(a) && a->valuestring[0]) {
      r = auth_decode_userpass(a->valuestring, user, pass, err);
      if (r < 0)
        return stack_error_prefix(err, "%s: auths.%s", path, e->string);
      return 1;
    }
    const cJSON *u = cJSON_GetObjectItemCaseSensitive(e, "username");
    const cJSON *p = cJSON_GetObjectItemCaseSensitive(e, "password");
    if (cJSON_IsString(u) && cJSON_IsString(p)) {
      *user = xstrdup(u->valuestring);
      *pass = xstrdup(p->valuestring);
      return 1;
    }
  }
  return 0;
}

int credentials_lookup(const char *host, char **user, char **pass, struct stack_error **err) {
  *user = *pass = NULL;
  _cleanup_free_ char *own = credentials_path();
  int r = lookup_in(own, host, user, pass, err);
  if (r != 0)
    return r < 0 ? r : 0;
  _cleanup_free_ char *docker = NULL;
  const char *dc = getenv("DOCKER_CONFIG");
  const char *home = getenv("HOME");
  if (dc && *dc)
    docker = fs_path_join(dc, "config.json");
  else if (home && *home)
    docker = xasprintf("%s/.docker/config.json", home);
  if (docker == NULL)
    return 0;
  r = lookup_in(docker, host, user, pass, err);
  return r < 0 ? r : 0;
}

static int save(const char *path, cJSON *root, struct stack_error **err) {
  _cleanup_free_ char *dir = xstrdup(path);
  int r = fs_mkdir_p(dirname(dir), 0700, err);
  if (r < 0)
    return r;
  _cleanup_free_ char *text = cJSON_Print(root);
  return fs_write_file_atomic(path, text, strlen(text), 0600, err);
}

int credentials_store(const char *host, const char *user, const char *pass,
                      struct stack_error **err) {
  _cleanup_free_ char *path = credentials_path();
  _cleanup_cjson_ cJSON *root = NULL;
  int r = load(path, &root, err);
  if (r < 0)
    return r;
  if (root == NULL)
    root = cJSON_CreateObject();
  cJSON *auths = cJSON_GetObjectItemCaseSensitive(root, "auths");
  if (!cJSON_IsObject(auths)) {
    cJSON_DeleteItemFromObjectCaseSensitive(root, "auths");
    auths = cJSON_AddObjectToObject(root, "auths");
  }
  cJSON_DeleteItemFromObjectCaseSensitive(auths, host);
  cJSON *e = cJSON_AddObjectToObject(auths, host);
  _cleanup_free_ char *b = auth_encode_userpass(user, pass);
  cJSON_AddStringToObject(e, "auth", b);
  return save(path, root, err);
}

int credentials_erase(const char *host, struct stack_error **err) {
  _cleanup_free_ char *path = credentials_path();
  _cleanup_cjson_ cJSON *root = NULL;
  int r = load(path, &root, err);
  if (r < 0)
    return r;
  cJSON *auths = root ? cJSON_GetObjectItemCaseSensitive(root, "auths") : NULL;
  if (!cJSON_IsObject(auths) || !cJSON_HasObjectItem(auths, host))
    return stack_error_set(err, -ENOENT, "not logged in to %s", host);
  cJSON_DeleteItemFromObjectCaseSensitive(auths, host);
  return save(path, root, err);
}
