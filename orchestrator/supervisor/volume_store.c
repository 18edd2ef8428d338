#include "volume_store.h"

#include <cjson/cJSON.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "project_state.h"
#include "runtime/util/cjson_cleanup.h"
#include "runtime/util/cleanup.h"
#include "runtime/util/error.h"
#include "runtime/util/fsutil.h"
#include "runtime/util/paths.h"
#include "runtime/util/state_path.h"
#include "runtime/util/xalloc.h"
#include "sup_paths.h"

/* volume.json and the project mark are small; anything larger is not ours */
#define META_MAX (64u << 10)

void volume_info_clear(struct volume_info *v) {
  free(v->name);
  free(v->mountpoint);
  free(v->project);
  strv_free(v->labels);
  *v = (struct volume_info){0};
}

static char *volumes_dir(void) {
  _cleanup_free_ char *root = stack_data_root();
  return fs_path_join(root, "volumes");
}

int volume_store_check_name(const char *name, struct stack_error **err) {
  bool ok = name[0] && name[1] && strlen(name) <= 255 && name[0] != '.' && name[0] != '_' &&
            name[0] != '-';
  for (const char *c = name; ok && *c; c++)
    ok = (*c >= 'a' && *c <= 'z') || (*c >= 'A' && *c <= 'Z') || (*c >= '0' && *c <= '9') ||
         *c == '_' || *c == '.' || *c == '-';
  if (!ok)
    return stack_error_set(err, -EINVAL,
                           "create %s: \"%s\" includes invalid characters for a local volume "
                           "name, only \"[a-zA-Z0-9][a-zA-Z0-9_.-]\" are allowed",
                           name, name);
  return 0;
}

static int cmp_str(const void *a, const void *b) {
  return strcmp(*(char *const *)a, *(char *const *)b);
}

static void strv_add(char ***v, size_t *n, char *owned) {
  *v = xrealloc(*v, (*n + 2) * sizeof(char *));
  (*v)[(*n)++] = owned;
  (*v)[*n] = NULL;
}

/* A small file of the volume's directory (NULL when missing or too big). */
static char *read_meta(int vfd, const char *file) {
  _cleanup_close_ int fd = openat(vfd, file, O_RDONLY | O_NOFOLLOW | O_CLOEXEC);
  char *text = NULL;
  if (fd < 0 || fs_read_fd(fd, file, META_MAX, &text, NULL, NULL) < 0)
    return NULL;
  return text;
}

static int64_t parse_time(const char *s) {
  struct tm tm = {0};
  const char *end = s ? strptime(s, "%Y-%m-%dT%H:%M:%S", &tm) : NULL;
  return end ? (int64_t)timegm(&tm) : 0;
}

/* Fills v from the volume's directory (open as vfd). */
static void load_info(int vfd, const char *vols, const char *name, struct volume_info *v) {
  *v = (struct volume_info){.name = xstrdup(name)};
  v->mountpoint = xasprintf("%s/%s/_data", vols, name);
  v->project = read_meta(vfd, "project");
  size_t n = 0;
  _cleanup_free_ char *meta = read_meta(vfd, "volume.json");
  _cleanup_cjson_ cJSON *j = meta ? cJSON_Parse(meta) : NULL;
  const cJSON *labels = cJSON_GetObjectItemCaseSensitive(j, "Labels");
  const cJSON *l;
  if (cJSON_IsObject(labels)) {
    cJSON_ArrayForEach(l, labels) {
      if (cJSON_IsString(l) && l->string)
        strv_add(&v->labels, &n, xasprintf("%s=%s", l->string, l->valuestring));
    }
  } else if (v->project) {
    /* made by an older stack: what Compose would have labelled it */
    strv_add(&v->labels, &n, xasprintf(VOLUME_LABEL_PROJECT "=%s", v->project));
  }
  if (n > 1)
    qsort(v->labels, n, sizeof(char *), cmp_str);
  v->created = parse_time(cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(j, "CreatedAt")));
  struct stat st;
  if (v->created == 0 && fstat(vfd, &st) == 0)
    v->created = (int64_t)st.st_mtime;
}

static int cmp_info(const void *a, const void *b) {
  return strcmp(((const struct volume_info *)a)->name, ((const struct volume_info *)b)->name);
}

int volume_store_list(struct volume_info **out, size_t *n, struct stack_error **err) {
  *out = NULL;
  *n = 0;
  _cleanup_free_ char *vols = volumes_dir();
  DIR *d = opendir(vols);
  if (d == NULL && errno == ENOENT)
    return 0;
  if (d == NULL)
    return stack_error_errno(err, -errno, "cannot read %s", vols);
  size_t cap = 0;
  struct dirent *de;
  while ((de = readdir(d)) != NULL) {
    if (de->d_name[0] == '.' || state_component_check("volume name", de->d_name, NULL) < 0)
      continue;
    _cleanup_close_ int vfd =
        state_open(vols, (const char *const[]){de->d_name, NULL}, O_PATH | O_DIRECTORY, 0, NULL);
    struct stat st;
    /* a directory without _data is not a volume (a removal cut short) */
    if (vfd < 0 || fstatat(vfd, "_data", &st, AT_SYMLINK_NOFOLLOW) < 0 || !S_ISDIR(st.st_mode))
      continue;
    *out = xgrow(*out, &cap, *n + 1, sizeof(**out));
    load_info(vfd, vols, de->d_name, &(*out)[(*n)++]);
  }
  closedir(d);
  if (*n > 1)
    qsort(*out, *n, sizeof(**out), cmp_info);
  return 0;
}

int volume_store_get(const char *name, struct volume_info *out, struct stack_error **err) {
  _cleanup_free_ char *vols = volumes_dir();
  _cleanup_close_ int vfd = -1;
  struct stat st;
  if (state_component_check("volume name", name, NULL) == 0)
    vfd = state_open(vols, (const char *const[]){name, NULL}, O_PATH | O_DIRECTORY, 0, NULL);
  if (vfd < 0 || fstatat(vfd, "_data", &st, AT_SYMLINK_NOFOLLOW) < 0 || !S_ISDIR(st.st_mode))
    return stack_error_set(err, -ENOENT, "get %s: no such volume", name);
  load_info(vfd, vols, name, out);
  return 0;
}

int volume_store_create(const char *name, const char *project, char *const *labels,
                        bool *created, char **data_dir, struct stack_error **err) {
  _cleanup_free_ char *vols = volumes_dir();
  _cleanup_free_ char *data = NULL, *meta = NULL, *mark = NULL;
  int r;
  if (created)
    *created = false;
  if ((r = state_path_join(vols, (const char *const[]){name, "_data", NULL}, &data, err)) < 0 ||
      (r = state_path_join(vols, (const char *const[]){name, "volume.json", NULL}, &meta, err)) <
          0 ||
      (r = state_path_join(vols, (const char *const[]){name, "project", NULL}, &mark, err)) < 0)
    return stack_error_prefix(err, "volume \"%s\"", name);
  _cleanup_error_ struct stack_error *e = NULL;
  _cleanup_close_ int fd =
      state_open(vols, (const char *const[]){name, "_data", NULL}, O_PATH | O_DIRECTORY, 0, &e);
  if (fd >= 0) {
    if (data_dir)
      *data_dir = steal_pointer(&data);
    return 0;
  }
  if (fd != -ENOENT)
    return fd == -ENOTDIR
               ? stack_error_set(err, fd, "volume \"%s\": %s is not a directory", name, data)
               : stack_error_set(err, fd, "volume \"%s\": %s", name, e->msg);
  /* the labels first: a volume is listed once its _data exists */
  if ((r = state_mkdir(vols, (const char *const[]){name, NULL}, 0755, err)) < 0)
    return r;
  _cleanup_cjson_ cJSON *j = cJSON_CreateObject();
  char when[32];
  time_t now = time(NULL);
  struct tm tm;
  gmtime_r(&now, &tm);
  strftime(when, sizeof(when), "%Y-%m-%dT%H:%M:%SZ", &tm);
  cJSON_AddStringToObject(j, "CreatedAt", when);
  cJSON *lj = cJSON_AddObjectToObject(j, "Labels");
  for (char *const *l = labels; l && *l; l++) {
    const char *eq = strchr(*l, '=');
    _cleanup_free_ char *key = eq ? xstrndup(*l, (size_t)(eq - *l)) : xstrdup(*l);
    cJSON_DeleteItemFromObjectCaseSensitive(lj, key);
    cJSON_AddStringToObject(lj, key, eq ? eq + 1 : "");
  }
  _cleanup_free_ char *text = cJSON_Print(j);
  if ((r = fs_write_file_atomic(meta, text, strlen(text), 0644, err)) < 0 ||
      (project && (r = fs_write_file_atomic(mark, project, strlen(project), 0644, err)) < 0) ||
      (r = state_mkdir(vols, (const char *const[]){name, "_data", NULL}, 0755, err)) < 0)
    return r;
  if (created)
    *created = true;
  if (data_dir)
    *data_dir = steal_pointer(&data);
  return 0;
}

void volume_store_add_user(const char *name, const char *project, const char *ctr) {
  _cleanup_free_ char *vols = volumes_dir();
  if (state_mkdir(vols, (const char *const[]){name, "users", project, NULL}, 0755, NULL) < 0)
    return;
  _cleanup_close_ int fd = state_open(vols, (const char *const[]){name, "users", project, ctr, NULL},
                                      O_WRONLY | O_CREAT, 0644, NULL);
}

/* Whether container ctr exists in project's state. */
static bool container_exists(const char *project, const char *ctr) {
  __attribute__((cleanup(sup_paths_clear))) struct sup_paths paths = {0};
  _cleanup_project_state_ struct project_state *st = NULL;
  if (sup_paths_init(&paths, project, NULL) < 0 || !fs_exists(paths.state_file) ||
      project_state_load(paths.state_file, project, &st, NULL) < 0)
    return false;
  return project_state_find(st, ctr) != NULL;
}

char **volume_store_users(const char *name) {
  _cleanup_free_ char *vols = volumes_dir();
  char **users = NULL;
  size_t n = 0;
  _cleanup_close_ int ufd = -1;
  if (state_component_check("volume name", name, NULL) == 0)
    ufd = state_open(vols, (const char *const[]){name, "users", NULL}, O_RDONLY | O_DIRECTORY, 0,
                     NULL);
  DIR *d = ufd >= 0 ? fdopendir(steal_fd(&ufd)) : NULL;
  struct dirent *pe;
  while (d && (pe = readdir(d)) != NULL) {
    if (pe->d_name[0] == '.')
      continue;
    int pfd = openat(dirfd(d), pe->d_name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
    DIR *pd = pfd >= 0 ? fdopendir(pfd) : NULL;
    if (pd == NULL && pfd >= 0)
      close(pfd);
    struct dirent *ce;
    while (pd && (ce = readdir(pd)) != NULL)
      if (ce->d_name[0] != '.' && container_exists(pe->d_name, ce->d_name))
        strv_add(&users, &n, xasprintf("%s/%s", pe->d_name, ce->d_name));
    if (pd)
      closedir(pd);
  }
  if (d)
    closedir(d);
  return users;
}

int volume_store_remove(const char *name, struct stack_error **err) {
  _cleanup_free_ char *vols = volumes_dir();
  _cleanup_free_ char *vdir = NULL;
  int r = state_path_join(vols, (const char *const[]){name, NULL}, &vdir, err);
  if (r < 0)
    return r;
  /* _data first: a removal cut short leaves no half volume listed */
  _cleanup_free_ char *data = fs_path_join(vdir, "_data");
  if ((r = fs_rm_rf(data, err)) < 0 || (r = fs_rm_rf(vdir, err)) < 0)
    return stack_error_prefix(err, "remove volume %s", name);
  return 0;
}
