#include "runtime/image/credentials.h"

#include <cjson/cJSON.h>
#include <errno.h>
#include <stdbool.h>
#include <libgen.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "runtime/image/auth.h"
#include "runtime/image/cred_helper.h"
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

/* The credentials of host in a config.json-style document's "auths":
 * 1 found, 0 none. */
static int lookup_auths(const cJSON *root, const char *path, const char *host, char **user,
                        char **pass, struct stack_error **err) {
  const cJSON *auths = cJSON_GetObjectItemCaseSensitive(root, "auths");
  const cJSON *e;
  cJSON_ArrayForEach(e, auths) {
    if (!e->string || !host_matches(e->string, host))
      continue;
    const cJSON *a = cJSON_GetObjectItemCaseSensitive(e, "auth");
    if (cJSON_IsString(a) && a->valuestring[0]) {
      int r = auth_decode_userpass(a->valuestring, user, pass, err);
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

/* Docker's config file: $DOCKER_CONFIG/config.json, else
 * ~/.docker/config.json; NULL without either variable. */
static char *docker_config_path(void) {
  const char *dc = getenv("DOCKER_CONFIG");
  const char *home = getenv("HOME");
  if (dc && *dc)
    return fs_path_join(dc, "config.json");
  if (home && *home)
    return xasprintf("%s/.docker/config.json", home);
  return NULL;
}

/* The credential helper Docker's config names for host, as docker does:
 * credHelpers' entry for the host, else credsStore ("" is none).  *key is
 * set to where it was found ("credsStore", "credHelpers.<host>"). */
static int docker_helper(const cJSON *root, const char *path, const char *host, char **helper,
                         char **key, struct stack_error **err) {
  *helper = *key = NULL;
  const cJSON *h = NULL, *e;
  const cJSON *helpers = cJSON_GetObjectItemCaseSensitive(root, "credHelpers");
  cJSON_ArrayForEach(e, helpers) {
    if (e->string && host_matches(e->string, host)) {
      h = e;
      break;
    }
  }
  _cleanup_free_ char *where = h ? xasprintf("credHelpers.%s", h->string) : xstrdup("credsStore");
  if (h == NULL)
    h = cJSON_GetObjectItemCaseSensitive(root, "credsStore");
  if (h == NULL || cJSON_IsNull(h) || (cJSON_IsString(h) && h->valuestring[0] == '\0'))
    return 0;
  if (!cJSON_IsString(h) || !cred_helper_name_ok(h->valuestring))
    return stack_error_set(err, -EINVAL,
                           "%s: %s: not the name of a credential helper (docker-credential-<name> "
                           "in PATH): fix it or remove it",
                           path, where);
  *helper = xstrdup(h->valuestring);
  *key = steal_pointer(&where);
  return 1;
}

/* An error of a helper named in path's key, with what to do when it is
 * not installed. */
static int helper_failed(int r, const char *path, const char *key, const char *helper,
                         struct stack_error **err) {
  if (err == NULL || *err == NULL)
    return r;
  if (r != -ENOENT)
    return stack_error_prefix(err, "%s: %s", path, key);
  _cleanup_free_ char *msg = xstrdup((*err)->msg);
  return stack_error_set(err, r,
                         "%s, but %s names it in \"%s\": install the credential helper "
                         "(a program docker-credential-%s in PATH), or remove \"%s\" from %s",
                         msg, path, key, helper, key, path);
}

/* The helper Docker's config names for host, with the file and key. */
static int helper_of(const char *host, char **helper, char **path, char **key,
                     struct stack_error **err) {
  *helper = *key = NULL;
  *path = docker_config_path();
  _cleanup_cjson_ cJSON *root = NULL;
  int r = *path ? load(*path, &root, err) : 0;
  if (r < 0 || root == NULL)
    return r;
  return docker_helper(root, *path, host, helper, key, err);
}

int credentials_helper(const char *host, char **helper, struct stack_error **err) {
  _cleanup_free_ char *path = NULL, *key = NULL;
  int r = helper_of(host, helper, &path, &key, err);
  return r < 0 ? r : 0;
}

int credentials_lookup(const char *host, char **user, char **pass, struct stack_error **err) {
  *user = *pass = NULL;
  _cleanup_free_ char *own = credentials_path();
  _cleanup_cjson_ cJSON *root = NULL;
  int r = load(own, &root, err);
  if (r == 0 && root)
    r = lookup_auths(root, own, host, user, pass, err);
  if (r != 0)
    return r < 0 ? r : 0;
  cJSON_Delete(steal_pointer(&root));
  _cleanup_free_ char *docker = docker_config_path();
  if (docker == NULL || (r = load(docker, &root, err)) < 0 || root == NULL)
    return r;
  _cleanup_free_ char *helper = NULL, *key = NULL;
  r = docker_helper(root, docker, host, &helper, &key, err);
  if (r < 0)
    return r;
  if (helper) {
    /* as docker: with a helper, the file's own "auths" hold no secrets */
    _cleanup_free_ char *url = cred_helper_server_url(host);
    r = cred_helper_get(helper, url, user, pass, err);
    return r < 0 ? helper_failed(r, docker, key, helper, err) : 0;
  }
  r = lookup_auths(root, docker, host, user, pass, err);
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

/* Removes host from stack's own store; 1 if it was there. */
static int erase_own(const char *host, struct stack_error **err) {
  _cleanup_free_ char *path = credentials_path();
  _cleanup_cjson_ cJSON *root = NULL;
  int r = load(path, &root, err);
  if (r < 0)
    return r;
  cJSON *auths = root ? cJSON_GetObjectItemCaseSensitive(root, "auths") : NULL;
  if (!cJSON_IsObject(auths) || !cJSON_HasObjectItem(auths, host))
    return 0;
  cJSON_DeleteItemFromObjectCaseSensitive(auths, host);
  r = save(path, root, err);
  return r < 0 ? r : 1;
}

int credentials_store(const char *host, const char *user, const char *pass,
                      struct stack_error **err) {
  _cleanup_free_ char *helper = NULL, *docker = NULL, *key = NULL;
  int r = helper_of(host, &helper, &docker, &key, err);
  if (r < 0)
    return r;
  if (helper) {
    /* where `docker login` would keep them; stack's own store must not
     * shadow them with older ones */
    _cleanup_free_ char *url = cred_helper_server_url(host);
    r = cred_helper_store(helper, url, user, pass, err);
    if (r < 0)
      return helper_failed(r, docker, key, helper, err);
    r = erase_own(host, err);
    return r < 0 ? r : 0;
  }
  _cleanup_free_ char *path = credentials_path();
  _cleanup_cjson_ cJSON *root = NULL;
  r = load(path, &root, err);
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
  _cleanup_free_ char *helper = NULL, *docker = NULL, *key = NULL;
  int r = helper_of(host, &helper, &docker, &key, err);
  if (r < 0)
    return r;
  int own = erase_own(host, err);
  if (own < 0)
    return own;
  if (helper) {
    _cleanup_free_ char *url = cred_helper_server_url(host);
    r = cred_helper_erase(helper, url, err);
    if (r < 0 && r != -ENOENT)
      return helper_failed(r, docker, key, helper, err);
    if (r == 0 || own)
      return 0;
  } else if (own) {
    return 0;
  }
  return stack_error_set(err, -ENOENT, "not logged in to %s", host);
}
