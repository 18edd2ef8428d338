/* The image index: one small JSON file per reference under <root>/images/.
 * The file name is the sha256 of the reference, so no reference (with its
 * '/', ':' and '@') ever becomes a path component, and lookups are one open().
 * Each file is written atomically (temp + rename), so a reader sees the old
 * or the new record, never a torn one. */
#include "image_index.h"

#include <cjson/cJSON.h>
#include <dirent.h>
#include <errno.h>
#include <string.h>
#include <unistd.h>

#include "blobstore.h"
#include "runtime/util/cjson_cleanup.h"
#include "runtime/util/cleanup.h"
#include "runtime/util/error.h"
#include "runtime/util/fsutil.h"
#include "runtime/util/state_path.h"
#include "runtime/util/xalloc.h"

#define RECORD_MAX (64 * 1024)


static char *images_dir(const char *store_root) { return fs_path_join(store_root, "images"); }

static char *record_path(const char *store_root, const char *ref) {
  _cleanup_free_ char *d = blobstore_digest_of(ref, strlen(ref));
  _cleanup_free_ char *file = xasprintf("%s.json", d + strlen("sha256:"));
  char *p = NULL;
  state_path_join(store_root, (const char *const[]){"images", file, NULL}, &p, NULL);
  return p; /* a hex digest is always a plain name */
}

void image_record_free(struct image_record *r) {
  if (r == NULL)
    return;
  free(r->ref);
  free(r->manifest_digest);
  free(r->config_digest);
  free(r->platform);
  free(r);
}

static void image_record_freep(struct image_record **r) { image_record_free(*r); }
#define _cleanup_record_ __attribute__((cleanup(image_record_freep)))

int image_index_put(const char *store_root, const struct image_record *r, struct stack_error **err) {
  int ret;
  if (r->ref == NULL || r->ref[0] == '\0')
    return stack_error_set(err, -EINVAL, "cannot record an image without a reference");
  if ((ret = blobstore_check_digest(r->manifest_digest, err)) < 0 ||
      (ret = blobstore_check_digest(r->config_digest, err)) < 0)
    return stack_error_prefix(err, "cannot record image %s", r->ref);
  _cleanup_free_ char *dir = images_dir(store_root);
  if ((ret = fs_mkdir_p(dir, 0755, err)) < 0)
    return ret;
  _cleanup_cjson_ cJSON *j = cJSON_CreateObject();
  cJSON_AddStringToObject(j, "ref", r->ref);
  cJSON_AddStringToObject(j, "manifest", r->manifest_digest);
  cJSON_AddStringToObject(j, "config", r->config_digest);
  if (r->platform)
    cJSON_AddStringToObject(j, "platform", r->platform);
  cJSON_AddNumberToObject(j, "size", (double)r->size);
  cJSON_AddNumberToObject(j, "created", (double)r->created);
  _cleanup_free_ char *text = cJSON_PrintUnformatted(j);
  _cleanup_free_ char *path = record_path(store_root, r->ref);
  ret = fs_write_file_atomic(path, text, strlen(text), 0644, err);
  if (ret < 0)
    return stack_error_prefix(err, "cannot record image %s", r->ref);
  return 0;
}

static const char *json_str(const cJSON *j, const char *key) {
  const cJSON *v = cJSON_GetObjectItemCaseSensitive(j, key);
  return cJSON_IsString(v) ? v->valuestring : NULL;
}

static int64_t json_i64(const cJSON *j, const char *key) {
  const cJSON *v = cJSON_GetObjectItemCaseSensitive(j, key);
  return cJSON_IsNumber(v) ? (int64_t)v->valuedouble : 0;
}

static int record_load(const char *path, struct image_record **out, struct stack_error **err) {
  _cleanup_free_ char *text = NULL;
  size_t len = 0;
  int r = fs_read_file(path, RECORD_MAX, &text, &len, err);
  if (r < 0)
    return r;
  _cleanup_cjson_ cJSON *j = cJSON_ParseWithLength(text, len);
  const char *ref = json_str(j, "ref"), *m = json_str(j, "manifest"), *c = json_str(j, "config");
  if (j == NULL || ref == NULL || blobstore_check_digest(m, NULL) < 0 ||
      blobstore_check_digest(c, NULL) < 0)
    return stack_error_set(err, -EBADMSG,
                           "image record %s is damaged; remove it and pull the image again", path);
  _cleanup_record_ struct image_record *rec = xcalloc(1, sizeof(*rec));
  rec->ref = xstrdup(ref);
  rec->manifest_digest = xstrdup(m);
  rec->config_digest = xstrdup(c);
  const char *p = json_str(j, "platform");
  rec->platform = p ? xstrdup(p) : NULL;
  rec->size = json_i64(j, "size");
  rec->created = json_i64(j, "created");
  *out = steal_pointer(&rec);
  return 0;
}

int image_index_get(const char *store_root, const char *ref, struct image_record **out,
                    struct stack_error **err) {
  _cleanup_free_ char *path = record_path(store_root, ref);
  if (!fs_exists(path))
    return stack_error_set(err, -ENOENT, "image %s is not in the local store", ref);
  _cleanup_record_ struct image_record *rec = NULL;
  int r = record_load(path, &rec, err);
  if (r < 0)
    return r;
  if (strcmp(rec->ref, ref) != 0)
    return stack_error_set(err, -EBADMSG, "image record %s names %s, not %s", path, rec->ref, ref);
  *out = steal_pointer(&rec);
  return 0;
}

int image_index_remove(const char *store_root, const char *ref, struct stack_error **err) {
  _cleanup_free_ char *path = record_path(store_root, ref);
  if (unlink(path) < 0) {
    if (errno == ENOENT)
      return stack_error_set(err, -ENOENT, "image %s is not in the local store", ref);
    return stack_error_errno(err, -errno, "cannot remove %s", path);
  }
  return 0;
}

static int record_cmp(const void *a, const void *b) {
  const struct image_record *x = *(struct image_record *const *)a;
  const struct image_record *y = *(struct image_record *const *)b;
  return strcmp(x->ref, y->ref);
}

int image_index_list(const char *store_root, struct image_record ***out, struct stack_error **err) {
  _cleanup_free_ char *dir = images_dir(store_root);
  size_t n = 0, cap = 0;
  struct image_record **v = xgrow(NULL, &cap, 1, sizeof(*v));
  _cleanup_closedir_ DIR *d = opendir(dir);
  if (d == NULL && errno != ENOENT) {
    free(v);
    return stack_error_errno(err, -errno, "cannot list %s", dir);
  }
  struct dirent *de;
  while (d && (de = readdir(d)) != NULL) {
    size_t l = strlen(de->d_name);
    if (l != 64 + 5 || strcmp(de->d_name + 64, ".json") != 0)
      continue;
    _cleanup_free_ char *path = fs_path_join(dir, de->d_name);
    struct image_record *rec = NULL;
    /* A record removed or replaced while we list is simply skipped. */
    if (record_load(path, &rec, NULL) < 0)
      continue;
    v = xgrow(v, &cap, n + 2, sizeof(*v));
    v[n++] = rec;
  }
  qsort(v, n, sizeof(*v), record_cmp);
  v[n] = NULL;
  *out = v;
  return 0;
}

void image_record_list_free(struct image_record **v) {
  if (v == NULL)
    return;
  for (struct image_record **p = v; *p; p++)
    image_record_free(*p);
  free(v);
}
