#include "net_state.h"

#include <cjson/cJSON.h>
#include <errno.h>
#include <libgen.h>
#include <stdlib.h>
#include <string.h>

#include "runtime/util/cjson_cleanup.h"
#include "runtime/util/cleanup.h"
#include "runtime/util/error.h"
#include "runtime/util/fsutil.h"
#include "runtime/util/paths.h"
#include "runtime/util/state_path.h"
#include "runtime/util/xalloc.h"

int net_state_default_path(const char *project, char **out, struct stack_error **err) {
  _cleanup_free_ char *root = stack_data_root();
  return state_path_join(root, (const char *const[]){"projects", project, "network.json", NULL},
                         out, err);
}

static size_t strv_len(char **v) {
  size_t n = 0;
  while (v && v[n])
    n++;
  return n;
}

void net_state_add(char ***list, const char *name) {
  size_t n = strv_len(*list);
  for (size_t i = 0; i < n; i++)
    if (strcmp((*list)[i], name) == 0)
      return;
  *list = xrealloc(*list, (n + 2) * sizeof(char *));
  (*list)[n] = xstrdup(name);
  (*list)[n + 1] = NULL;
}

void net_state_remove(char ***list, const char *name) {
  size_t n = strv_len(*list), j = 0;
  for (size_t i = 0; i < n; i++) {
    if (strcmp((*list)[i], name) == 0)
      free((*list)[i]);
    else
      (*list)[j++] = (*list)[i];
  }
  if (*list)
    (*list)[j] = NULL;
}

static char **map_find(char **map, const char *key) {
  size_t kl = strlen(key);
  for (size_t i = 0; map && map[i]; i++)
    if (strncmp(map[i], key, kl) == 0 && map[i][kl] == '=')
      return &map[i];
  return NULL;
}

void net_state_set(char ***map, const char *key, const char *value) {
  char **e = map_find(*map, key);
  if (e) {
    free(*e);
    *e = xasprintf("%s=%s", key, value);
    return;
  }
  size_t n = strv_len(*map);
  *map = xrealloc(*map, (n + 2) * sizeof(char *));
  (*map)[n] = xasprintf("%s=%s", key, value);
  (*map)[n + 1] = NULL;
}

const char *net_state_get(char **map, const char *key) {
  char **e = map_find(map, key);
  return e ? *e + strlen(key) + 1 : NULL;
}

void net_state_unset(char ***map, const char *key) {
  char **e = map_find(*map, key);
  if (e == NULL)
    return;
  free(*e);
  do /* close the gap, keeping the NULL terminator */
    e[0] = e[1];
  while (*e++ != NULL);
}

void net_state_free(struct net_state *st) {
  free(st->project);
  free(st->table);
  strv_free(st->bridges);
  strv_free(st->taps);
  strv_free(st->subnets);
  strv_free(st->addresses);
  memset(st, 0, sizeof(*st));
}

static int read_list(const cJSON *root, const char *key, char ***out, const char *path,
                     struct stack_error **err) {
  const cJSON *arr = cJSON_GetObjectItemCaseSensitive(root, key);
  if (arr == NULL)
    return 0;
  if (!cJSON_IsArray(arr))
    return stack_error_set(err, -EINVAL, "%s: \"%s\" is not an array", path, key);
  const cJSON *it;
  cJSON_ArrayForEach(it, arr) {
    if (!cJSON_IsString(it) || strlen(it->valuestring) == 0 || strlen(it->valuestring) > 15 ||
        strncmp(it->valuestring, "stk", 3) != 0)
      return stack_error_set(err, -EINVAL,
                             "%s: \"%s\" holds something that is not a stack interface name",
                             path, key);
    net_state_add(out, it->valuestring);
  }
  return 0;
}

static int read_map(const cJSON *root, const char *key, char ***out, const char *path,
                    struct stack_error **err) {
  const cJSON *obj = cJSON_GetObjectItemCaseSensitive(root, key);
  if (obj == NULL)
    return 0;
  if (!cJSON_IsObject(obj))
    return stack_error_set(err, -EINVAL, "%s: \"%s\" is not an object", path, key);
  const cJSON *it;
  cJSON_ArrayForEach(it, obj) {
    if (!cJSON_IsString(it) || it->string == NULL || strchr(it->string, '=') ||
        strlen(it->valuestring) > 64)
      return stack_error_set(err, -EINVAL, "%s: \"%s\" has an invalid entry", path, key);
    net_state_set(out, it->string, it->valuestring);
  }
  return 0;
}

int net_state_load(const char *path, struct net_state *st, bool *exists,
                   struct stack_error **err) {
  memset(st, 0, sizeof(*st));
  *exists = false;
  if (!fs_exists(path))
    return 0;
  _cleanup_free_ char *text = NULL;
  int r = fs_read_file(path, 1 << 22, &text, NULL, err);
  if (r < 0)
    return r;
  _cleanup_cjson_ cJSON *root = cJSON_Parse(text);
  if (root == NULL || !cJSON_IsObject(root))
    return stack_error_set(err, -EINVAL,
                           "%s is not valid network state JSON: remove leftover interfaces by "
                           "hand (ip link show | grep stk) and delete the file",
                           path);
  const cJSON *p = cJSON_GetObjectItemCaseSensitive(root, "project");
  const cJSON *t = cJSON_GetObjectItemCaseSensitive(root, "table");
  if (cJSON_IsString(p))
    st->project = xstrdup(p->valuestring);
  if (cJSON_IsString(t)) {
    if (strncmp(t->valuestring, "stack_", 6) != 0 || strlen(t->valuestring) > 31) {
      net_state_free(st);
      return stack_error_set(err, -EINVAL, "%s: \"table\" is not a stack nftables table", path);
    }
    st->table = xstrdup(t->valuestring);
  }
  if ((r = read_list(root, "bridges", &st->bridges, path, err)) < 0 ||
      (r = read_list(root, "taps", &st->taps, path, err)) < 0 ||
      (r = read_map(root, "subnets", &st->subnets, path, err)) < 0 ||
      (r = read_map(root, "addresses", &st->addresses, path, err)) < 0) {
    net_state_free(st);
    return r;
  }
  *exists = true;
  return 0;
}

int net_state_save(const char *path, const struct net_state *st, struct stack_error **err) {
  _cleanup_cjson_ cJSON *root = cJSON_CreateObject();
  if (st->project)
    cJSON_AddStringToObject(root, "project", st->project);
  if (st->table)
    cJSON_AddStringToObject(root, "table", st->table);
  cJSON *b = cJSON_AddArrayToObject(root, "bridges");
  for (size_t i = 0; st->bridges && st->bridges[i]; i++)
    cJSON_AddItemToArray(b, cJSON_CreateString(st->bridges[i]));
  cJSON *t = cJSON_AddArrayToObject(root, "taps");
  for (size_t i = 0; st->taps && st->taps[i]; i++)
    cJSON_AddItemToArray(t, cJSON_CreateString(st->taps[i]));
  cJSON *maps[2] = {cJSON_AddObjectToObject(root, "subnets"),
                    cJSON_AddObjectToObject(root, "addresses")};
  char **lists[2] = {st->subnets, st->addresses};
  for (int m = 0; m < 2; m++) {
    for (size_t i = 0; lists[m] && lists[m][i]; i++) {
      const char *eq = strchr(lists[m][i], '=');
      _cleanup_free_ char *k = xstrndup(lists[m][i], (size_t)(eq - lists[m][i]));
      cJSON_AddStringToObject(maps[m], k, eq + 1);
    }
  }
  _cleanup_free_ char *text = cJSON_Print(root);
  _cleanup_free_ char *dir = xstrdup(path);
  int r = fs_mkdir_p(dirname(dir), 0755, err);
  if (r < 0)
    return r;
  return fs_write_file_atomic(path, text, strlen(text), 0644, err);
}
