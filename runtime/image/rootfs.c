/* rootfs_ensure(): cache lookup, build lock, layers -> tree -> ext4. */
#include "rootfs.h"

#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <sys/file.h>
#include <unistd.h>

#include "blobstore.h"
#include "ext4_build.h"
#include "layer_tree.h"
#include "manifest.h"
#include "runtime/util/cjson_cleanup.h"
#include "runtime/util/cleanup.h"
#include "runtime/util/error.h"
#include "runtime/util/fsutil.h"
#include "runtime/util/state_path.h"
#include "runtime/util/xalloc.h"

static void layer_tree_freep(struct layer_tree **t) { layer_tree_free(*t); }

char *rootfs_path(const char *store_root, const char *config_digest) {
  if (blobstore_check_digest(config_digest, NULL) < 0)
    return NULL;
  _cleanup_free_ char *file = xasprintf("%s.ext4", config_digest + strlen("sha256:"));
  char *p = NULL;
  state_path_join(store_root, (const char *const[]){"rootfs", file, NULL}, &p, NULL);
  return p;
}

/* The config's rootfs.diff_ids (NULL-terminated; NULL when it has none). */
static int read_diff_ids(struct blobstore *bs, const char *config_digest, char ***out,
                         struct stack_error **err) {
  _cleanup_free_ char *text = NULL;
  size_t len = 0;
  int r = blobstore_read(bs, config_digest, 16u << 20, &text, &len, err);
  if (r < 0)
    return r;
  _cleanup_cjson_ cJSON *j = cJSON_ParseWithLength(text, len);
  const cJSON *ids = cJSON_GetObjectItemCaseSensitive(
      cJSON_GetObjectItemCaseSensitive(j, "rootfs"), "diff_ids");
  *out = NULL;
  if (!cJSON_IsArray(ids))
    return 0;
  char **v = xcalloc((size_t)cJSON_GetArraySize(ids) + 1, sizeof(char *));
  size_t n = 0;
  const cJSON *it;
  cJSON_ArrayForEach(it, ids) v[n++] = xstrdup(cJSON_IsString(it) ? it->valuestring : "");
  *out = v;
  return 0;
}

static int build(struct blobstore *bs, const char *config_digest, const struct manifest *m,
                 const char *tmp, struct stack_error **err) {
  _cleanup_strv_ char **diff_ids = NULL;
  int r = read_diff_ids(bs, config_digest, &diff_ids, err);
  if (r < 0)
    return r;
  size_t nids = 0;
  while (diff_ids && diff_ids[nids])
    nids++;
  if (diff_ids && nids != m->n_items)
    return stack_error_set(err, -EBADMSG, "the image config lists %zu layers (diff_ids) but the "
                           "manifest has %zu", nids, m->n_items);
  __attribute__((cleanup(layer_tree_freep))) struct layer_tree *t = NULL;
  if ((r = layer_tree_new(&t, err)) < 0)
    return r;
  for (size_t i = 0; i < m->n_items; i++) {
    const struct descriptor *d = &m->items[i];
    enum layer_compression c;
    if ((r = layer_compression(d->media_type, &c, err)) < 0)
      return r;
    _cleanup_close_ int fd = -1;
    if ((r = blobstore_open_blob(bs, d->digest, &fd, NULL, err)) < 0)
      return r;
    _cleanup_free_ char *diff_id = NULL;
    if ((r = layer_tree_apply_fd(t, fd, d->digest, &diff_id, err)) < 0)
      return r;
    /* An uncompressed layer's digest is its diff_id. */
    const char *got = diff_id ? diff_id : d->digest;
    if (diff_ids && strcmp(got, diff_ids[i]) != 0)
      return stack_error_set(err, -EBADMSG,
                             "layer %s: its content hashes to %s but the image config says %s; "
                             "the image is inconsistent, rebuild or re-push it",
                             d->digest, got, diff_ids[i]);
  }
  return ext4_build(t, tmp, err);
}

int rootfs_ensure(const char *store_root, struct blobstore *bs, const char *config_digest,
                  const struct manifest *m, char **path_out, struct stack_error **err) {
  _cleanup_free_ char *path = rootfs_path(store_root, config_digest);
  if (path == NULL)
    return blobstore_check_digest(config_digest, err);
  int r;
  if (!fs_exists(path)) {
    _cleanup_free_ char *dir = fs_path_join(store_root, "rootfs");
    if ((r = fs_mkdir_p(dir, 0755, err)) < 0)
      return r;
    _cleanup_free_ char *lock = xasprintf("%s.lock", path);
    _cleanup_close_ int lfd = open(lock, O_RDWR | O_CREAT | O_CLOEXEC, 0600);
    if (lfd < 0)
      return stack_error_errno(err, -errno, "cannot create %s", lock);
    while (flock(lfd, LOCK_EX) < 0)
      if (errno != EINTR)
        return stack_error_errno(err, -errno, "cannot lock %s", lock);
    /* Someone else may have built it while we waited. */
    if (!fs_exists(path)) {
      _cleanup_free_ char *tmp = xasprintf("%s.tmp.%d", path, (int)getpid());
      r = build(bs, config_digest, m, tmp, err);
      if (r == 0 && rename(tmp, path) < 0)
        r = stack_error_errno(err, -errno, "cannot store %s", path);
      if (r < 0) {
        unlink(tmp);
        return stack_error_prefix(err, "cannot build the root disk of image %s", config_digest);
      }
      unlink(lock);
    }
  }
  if (path_out)
    *path_out = steal_pointer(&path);
  return 0;
}
