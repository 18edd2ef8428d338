/* Removing images and collecting what no image uses any more: blobs (layers,
 * configs, manifests), root disks, abandoned partial downloads.  GC holds the
 * store lock exclusively, so it never races a pull that has committed blobs
 * but not yet written the record that references them. */
#include <dirent.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "blobstore.h"
#include "image.h"
#include "image_index.h"
#include "manifest.h"
#include "rootfs.h"
#include "runtime/util/cleanup.h"
#include "runtime/util/error.h"
#include "runtime/util/fsutil.h"
#include "runtime/util/xalloc.h"

struct strset {
  char **v;
  size_t n, cap;
};

static void strset_add(struct strset *s, const char *x) {
  s->v = xgrow(s->v, &s->cap, s->n + 1, sizeof(char *));
  s->v[s->n++] = xstrdup(x);
}

static int cmp_str(const void *a, const void *b) {
  return strcmp(*(char *const *)a, *(char *const *)b);
}

static bool strset_has(const struct strset *s, const char *x) {
  return s->n && bsearch(&x, s->v, s->n, sizeof(char *), cmp_str) != NULL;
}

static void strset_free(struct strset *s) {
  for (size_t i = 0; i < s->n; i++)
    free(s->v[i]);
  free(s->v);
}

static void blobstore_closep(struct blobstore **bs) { blobstore_close(*bs); }
static void records_freep(struct image_record ***v) { image_record_list_free(*v); }

static uint64_t size_of(const char *path) {
  struct stat st;
  return stat(path, &st) == 0 ? (uint64_t)st.st_size : 0;
}

/* Every digest the recorded images reference.  A record whose manifest is
 * missing or unreadable still keeps its config and manifest digests. */
static void referenced(struct blobstore *bs, struct image_record **recs, struct strset *keep) {
  for (struct image_record **p = recs; *p; p++) {
    strset_add(keep, (*p)->manifest_digest);
    strset_add(keep, (*p)->config_digest);
    struct manifest m;
    if (image_load_manifest(bs, *p, &m, NULL) < 0)
      continue;
    for (size_t i = 0; i < m.n_items; i++)
      strset_add(keep, m.items[i].digest);
    manifest_clear(&m);
  }
  qsort(keep->v, keep->n, sizeof(char *), cmp_str);
}

static void prune_rootfs(const char *store_root, const struct strset *keep, uint64_t *freed) {
  _cleanup_free_ char *dir = fs_path_join(store_root, "rootfs");
  _cleanup_closedir_ DIR *d = opendir(dir);
  struct dirent *de;
  while (d && (de = readdir(d)) != NULL) {
    size_t l = strlen(de->d_name);
    /* <hex>.ext4, plus temp files of builds killed half-way: <hex>.ext4.tmp.<pid> */
    if (l < 64 + 5 || strncmp(de->d_name + 64, ".ext4", 5) != 0)
      continue;
    _cleanup_free_ char *digest = xasprintf("sha256:%.64s", de->d_name);
    bool tmp = l > 64 + 5;
    if (!tmp && strset_has(keep, digest))
      continue;
    _cleanup_free_ char *p = fs_path_join(dir, de->d_name);
    uint64_t sz = size_of(p);
    if (unlink(p) == 0)
      *freed += sz;
  }
}

int image_prune(const char *store_root, uint64_t *freed_out, struct stack_error **err) {
  __attribute__((cleanup(blobstore_closep))) struct blobstore *bs = NULL;
  int r = blobstore_open(store_root, &bs, err);
  if (r < 0 || (r = blobstore_lock_exclusive(bs, err)) < 0)
    return r;
  __attribute__((cleanup(records_freep))) struct image_record **recs = NULL;
  if ((r = image_index_list(store_root, &recs, err)) < 0)
    return r;
  struct strset keep = {0};
  referenced(bs, recs, &keep);
  uint64_t freed = 0;
  _cleanup_strv_ char **all = NULL;
  if ((r = blobstore_list(bs, &all, err)) < 0)
    goto out;
  for (char **p = all; *p; p++) {
    if (strset_has(&keep, *p))
      continue;
    _cleanup_free_ char *path = blobstore_path(bs, *p);
    uint64_t sz = size_of(path);
    if ((r = blobstore_remove(bs, *p, err)) < 0)
      goto out;
    freed += sz;
  }
  prune_rootfs(store_root, &keep, &freed);
  r = blobstore_clean_tmp(bs, &freed, err);
out:
  strset_free(&keep);
  if (freed_out)
    *freed_out = freed;
  return r;
}

int image_remove(const char *store_root, const char *ref, char ***removed,
                 struct stack_error **err) {
  struct strset gone = {0};
  int r = 0;
  _cleanup_free_ char *norm = NULL;
  if (image_ref_normalize(ref, &norm, NULL) == 0 && image_index_remove(store_root, norm, NULL) == 0) {
    strset_add(&gone, norm);
  } else {
    /* Not a name: an ID, and every tag of that image goes. */
    struct image_record *rec = NULL;
    while (image_find(store_root, ref, &rec, NULL) == 0) {
      r = image_index_remove(store_root, rec->ref, err);
      if (r == 0)
        strset_add(&gone, rec->ref);
      image_record_free(rec);
      rec = NULL;
      if (r < 0)
        goto out;
    }
  }
  if (gone.n == 0) {
    r = stack_error_set(err, -ENOENT, "No such image: %s", ref);
    goto out;
  }
  r = image_prune(store_root, NULL, err);
out:
  if (r == 0 && removed) {
    gone.v = xgrow(gone.v, &gone.cap, gone.n + 1, sizeof(char *));
    gone.v[gone.n] = NULL;
    *removed = steal_pointer(&gone.v);
    gone.n = 0;
  }
  strset_free(&gone);
  return r;
}
