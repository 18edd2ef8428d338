/* OCI image layout archives: `stack image load` and `stack image save`.
 * Loading streams every blobs/sha256/<hex> entry into the store through a
 * verifying writer (a blob whose content does not match its name is an error
 * and never enters the store), then records the images index.json names. */
#include <archive.h>
#include <archive_entry.h>
#include <cjson/cJSON.h>
#include <errno.h>
#include <stdbool.h>
#include <fcntl.h>
#include <libgen.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "blobstore.h"
#include "image.h"
#include "image_index.h"
#include "manifest.h"
#include "rootfs.h"
#include "runtime/util/cjson_cleanup.h"
#include "runtime/util/cleanup.h"
#include "runtime/util/error.h"
#include "runtime/util/xalloc.h"

#define COPY_BUF (1 << 20)
#define ANN_REF_NAME "org.opencontainers.image.ref.name"
#define ANN_CONTAINERD_NAME "io.containerd.image.name"

static void blobstore_closep(struct blobstore **bs) { blobstore_close(*bs); }
static void archive_read_freep(struct archive **a) {
  if (*a)
    archive_read_free(*a);
}

static void strv_push(char ***v, size_t *n, const char *s) {
  *v = xrealloc(*v, (*n + 2) * sizeof(char *));
  (*v)[(*n)++] = xstrdup(s);
  (*v)[*n] = NULL;
}

/* Streams the current entry into the store as blob digest. */
static int load_blob(struct blobstore *bs, struct archive *a, const char *digest, int64_t size,
                     char *buf, struct stack_error **err) {
  if (blobstore_has(bs, digest))
    return 0;
  struct blob_writer *w = NULL;
  uint64_t skip = 0;
  int r = blobstore_writer_open(bs, digest, size, &w, &skip, err);
  if (r < 0)
    return r;
  for (;;) {
    la_ssize_t n = archive_read_data(a, buf, COPY_BUF);
    if (n == 0)
      break;
    if (n < 0) {
      blob_writer_abort(w, false);
      return stack_error_set(err, -EBADMSG, "blob %s: %s", digest, archive_error_string(a));
    }
    /* A partial left by an interrupted download already holds the start. */
    size_t off = skip >= (uint64_t)n ? (size_t)n : (size_t)skip;
    skip -= off;
    if (off < (size_t)n && (r = blob_writer_write(w, buf + off, (size_t)n - off, err)) < 0) {
      blob_writer_abort(w, false);
      return r;
    }
  }
  return blob_writer_commit(w, err);
}

static const char *annotation(const cJSON *desc, const char *key) {
  const cJSON *ann = cJSON_GetObjectItemCaseSensitive(desc, "annotations");
  const cJSON *v = cJSON_GetObjectItemCaseSensitive(ann, key);
  return cJSON_IsString(v) && v->valuestring[0] ? v->valuestring : NULL;
}

/* The archive's base name without extensions: the repository of images
 * that are named only by a tag. */
static char *archive_repo(const char *path) {
  if (strcmp(path, "-") == 0)
    return xstrdup("image");
  _cleanup_free_ char *copy = xstrdup(path);
  char *b = xstrdup(basename(copy));
  char *dot = strchr(b, '.');
  if (dot && dot != b)
    *dot = '\0';
  for (char *p = b; *p; p++)
    if (!((*p >= 'a' && *p <= 'z') || (*p >= '0' && *p <= '9') || *p == '-' || *p == '_'))
      *p = *p >= 'A' && *p <= 'Z' ? (char)(*p - 'A' + 'a') : '-';
  return b;
}

static int read_manifest_blob(struct blobstore *bs, const char *digest, const char *media_type,
                              struct manifest *m, struct stack_error **err) {
  _cleanup_free_ char *body = NULL;
  size_t len = 0;
  int r = blobstore_read(bs, digest, MANIFEST_MAX_SIZE, &body, &len, err);
  if (r == 0)
    r = manifest_parse(media_type, body, len, m, err);
  return r;
}

/* Records the image that index.json entry i names. */
static int load_image(const char *store_root, struct blobstore *bs, const char *archive,
                      const cJSON *desc, const struct descriptor *d, char ***loaded, size_t *n,
                      struct stack_error **err) {
  const char *name = annotation(desc, ANN_CONTAINERD_NAME);
  if (name == NULL)
    name = annotation(desc, ANN_REF_NAME);
  _cleanup_free_ char *repo = archive_repo(archive);
  _cleanup_free_ char *full = NULL;
  if (name == NULL)
    full = xasprintf("%s:latest", repo);
  else if (strchr(name, '/') || strchr(name, ':') || strchr(name, '@'))
    full = xstrdup(name);
  else
    full = xasprintf("%s:%s", repo, name);
  _cleanup_free_ char *norm = NULL;
  int r = image_ref_normalize(full, &norm, err);
  if (r < 0)
    return r;

  struct manifest m;
  if ((r = read_manifest_blob(bs, d->digest, d->media_type, &m, err)) < 0)
    return r;
  _cleanup_free_ char *mdigest = xstrdup(d->digest);
  _cleanup_free_ char *plat = platform_host();
  if (m.kind == MANIFEST_INDEX) {
    size_t pick;
    if ((r = manifest_choose_platform(&m, NULL, &pick, err)) < 0) {
      manifest_clear(&m);
      return r;
    }
    const struct descriptor *c = &m.items[pick];
    free(mdigest);
    mdigest = xstrdup(c->digest);
    if (c->os && c->architecture) {
      free(plat);
      plat = c->variant ? xasprintf("%s/%s/%s", c->os, c->architecture, c->variant)
                        : xasprintf("%s/%s", c->os, c->architecture);
    }
    _cleanup_free_ char *mt = xstrdup(c->media_type);
    manifest_clear(&m);
    if ((r = read_manifest_blob(bs, mdigest, mt, &m, err)) < 0)
      return r;
    if (m.kind != MANIFEST_IMAGE) {
      manifest_clear(&m);
      return stack_error_set(err, -EINVAL, "%s: nested indexes are not supported", norm);
    }
  }
  int64_t size = 0;
  const char *missing = blobstore_has(bs, m.config.digest) ? NULL : m.config.digest;
  for (size_t i = 0; i < m.n_items; i++) {
    size += m.items[i].size;
    if (!missing && !blobstore_has(bs, m.items[i].digest))
      missing = m.items[i].digest;
  }
  if (missing) {
    r = stack_error_set(err, -ENOENT, "%s: the archive lacks blob %s", norm, missing);
    manifest_clear(&m);
    return r;
  }
  struct image_record rec = {.ref = norm, .manifest_digest = mdigest,
                             .config_digest = m.config.digest, .platform = plat,
                             .size = size, .created = time(NULL)};
  /* Build the root disk now: a broken image fails here, not at `up`. */
  r = rootfs_ensure(store_root, bs, m.config.digest, &m, NULL, err);
  if (r < 0)
    stack_error_prefix(err, "%s", norm);
  else
    r = image_index_put(store_root, &rec, err);
  manifest_clear(&m);
  if (r == 0)
    strv_push(loaded, n, norm);
  return r;
}

int image_load(const char *store_root, const char *archive, char ***loaded_out,
               struct stack_error **err) {
  __attribute__((cleanup(blobstore_closep))) struct blobstore *bs = NULL;
  int r = blobstore_open(store_root, &bs, err);
  if (r < 0)
    return r;
  __attribute__((cleanup(archive_read_freep))) struct archive *a = archive_read_new();
  archive_read_support_filter_gzip(a);
  archive_read_support_filter_zstd(a);
  archive_read_support_format_tar(a);
  /* "-": stdin (libarchive reads stdin for a NULL name). */
  bool from_stdin = strcmp(archive, "-") == 0;
  if (archive_read_open_filename(a, from_stdin ? NULL : archive, COPY_BUF) != ARCHIVE_OK)
    return stack_error_set(err, -EINVAL, "%s: %s", archive, archive_error_string(a));
  _cleanup_free_ char *buf = xmalloc(COPY_BUF);
  _cleanup_free_ char *index = NULL;
  size_t index_len = 0;
  for (;;) {
    struct archive_entry *e;
    int ar = archive_read_next_header(a, &e);
    if (ar == ARCHIVE_EOF)
      break;
    if (ar < ARCHIVE_WARN)
      return stack_error_set(err, -EBADMSG, "%s: %s", archive, archive_error_string(a));
    const char *name = archive_entry_pathname(e);
    if (name == NULL || archive_entry_filetype(e) != AE_IFREG)
      continue;
    while (strncmp(name, "./", 2) == 0)
      name += 2;
    if (strcmp(name, "index.json") == 0) {
      int64_t sz = archive_entry_size(e);
      if (sz < 0 || sz > (int64_t)MANIFEST_MAX_SIZE)
        return stack_error_set(err, -EFBIG, "%s: index.json is too large", archive);
      free(index);
      index = xmalloc((size_t)sz + 1);
      la_ssize_t got = archive_read_data(a, index, (size_t)sz);
      if (got != sz)
        return stack_error_set(err, -EBADMSG, "%s: index.json: %s", archive,
                               got < 0 ? archive_error_string(a) : "truncated");
      index[sz] = '\0';
      index_len = (size_t)sz;
    } else if (strncmp(name, "blobs/sha256/", 13) == 0) {
      _cleanup_free_ char *digest = xasprintf("sha256:%s", name + 13);
      if ((r = blobstore_check_digest(digest, err)) < 0 ||
          (r = load_blob(bs, a, digest, archive_entry_size(e), buf, err)) < 0)
        return stack_error_prefix(err, "%s: %s", archive, name);
    }
  }
  if (index == NULL)
    return stack_error_set(err, -EINVAL,
                           "%s is not an OCI image layout archive: it has no index.json", archive);
  struct manifest idx;
  if ((r = manifest_parse(MT_OCI_INDEX, index, index_len, &idx, err)) < 0)
    return stack_error_prefix(err, "%s: index.json", archive);
  _cleanup_cjson_ cJSON *j = cJSON_ParseWithLength(index, index_len);
  const cJSON *mans = cJSON_GetObjectItemCaseSensitive(j, "manifests");
  char **loaded = xcalloc(1, sizeof(char *));
  size_t n = 0;
  for (size_t i = 0; r == 0 && i < idx.n_items; i++)
    r = load_image(store_root, bs, archive, cJSON_GetArrayItem(mans, (int)i), &idx.items[i],
                   &loaded, &n, err);
  manifest_clear(&idx);
  if (r < 0) {
    strv_free(loaded);
    return stack_error_prefix(err, "%s", archive);
  }
  if (loaded_out)
    *loaded_out = loaded;
  else
    strv_free(loaded);
  return 0;
}

/* --- save --- */

static int write_entry(struct archive *a, const char *name, int64_t size,
                       struct stack_error **err) {
  struct archive_entry *e = archive_entry_new();
  archive_entry_set_pathname(e, name);
  archive_entry_set_filetype(e, AE_IFREG);
  archive_entry_set_perm(e, 0444);
  archive_entry_set_size(e, size);
  archive_entry_set_mtime(e, 0, 0);
  int r = archive_write_header(a, e);
  archive_entry_free(e);
  if (r < ARCHIVE_WARN)
    return stack_error_set(err, -EIO, "%s: %s", name, archive_error_string(a));
  return 0;
}

static int write_memory(struct archive *a, const char *name, const char *data,
                        struct stack_error **err) {
  size_t len = strlen(data);
  int r = write_entry(a, name, (int64_t)len, err);
  if (r == 0 && archive_write_data(a, data, len) != (la_ssize_t)len)
    r = stack_error_set(err, -EIO, "%s: %s", name, archive_error_string(a));
  return r;
}

static int write_blob(struct archive *a, struct blobstore *bs, const char *digest, char *buf,
                      struct stack_error **err) {
  _cleanup_close_ int fd = -1;
  int64_t size = 0;
  int r = blobstore_open_blob(bs, digest, &fd, &size, err);
  if (r < 0)
    return r;
  _cleanup_free_ char *name = xasprintf("blobs/sha256/%s", digest + 7);
  if ((r = write_entry(a, name, size, err)) < 0)
    return r;
  for (;;) {
    ssize_t n = read(fd, buf, COPY_BUF);
    if (n < 0 && errno == EINTR)
      continue;
    if (n < 0)
      return stack_error_errno(err, -errno, "reading blob %s", digest);
    if (n == 0)
      return 0;
    if (archive_write_data(a, buf, (size_t)n) != n)
      return stack_error_set(err, -EIO, "%s: %s", name, archive_error_string(a));
  }
}

static int save_image(struct archive *a, struct blobstore *bs, const char *store_root,
                      const char *ref, cJSON *mans, cJSON *written, char *buf,
                      struct stack_error **err) {
  struct image_record *rec = NULL;
  int r = image_find(store_root, ref, &rec, err);
  if (r < 0)
    return r;
  struct manifest m;
  if ((r = image_load_manifest(bs, rec, &m, err)) < 0) {
    image_record_free(rec);
    return r;
  }
  const char *digests[m.n_items + 2];
  digests[0] = rec->manifest_digest;
  digests[1] = rec->config_digest;
  for (size_t i = 0; i < m.n_items; i++)
    digests[i + 2] = m.items[i].digest;
  for (size_t i = 0; r == 0 && i < m.n_items + 2; i++) {
    if (cJSON_GetObjectItemCaseSensitive(written, digests[i]))
      continue;
    cJSON_AddTrueToObject(written, digests[i]);
    r = write_blob(a, bs, digests[i], buf, err);
  }
  if (r == 0) {
    _cleanup_free_ char *path = blobstore_path(bs, rec->manifest_digest);
    struct stat st;
    stat(path, &st);
    cJSON *d = cJSON_CreateObject();
    cJSON_AddStringToObject(d, "mediaType", m.media_type ? m.media_type : MT_OCI_MANIFEST);
    cJSON_AddStringToObject(d, "digest", rec->manifest_digest);
    cJSON_AddNumberToObject(d, "size", (double)st.st_size);
    cJSON *ann = cJSON_AddObjectToObject(d, "annotations");
    cJSON_AddStringToObject(ann, ANN_CONTAINERD_NAME, rec->ref);
    _cleanup_free_ char *repo = NULL, *tag = NULL;
    image_ref_display(rec->ref, &repo, &tag);
    cJSON_AddStringToObject(ann, ANN_REF_NAME, tag);
    cJSON_AddItemToArray(mans, d);
  }
  manifest_clear(&m);
  image_record_free(rec);
  return r;
}

int image_save(const char *store_root, char *const *refs, const char *path,
               struct stack_error **err) {
  __attribute__((cleanup(blobstore_closep))) struct blobstore *bs = NULL;
  int r = blobstore_open(store_root, &bs, err);
  if (r < 0)
    return r;
  bool to_stdout = strcmp(path, "-") == 0;
  _cleanup_free_ char *tmp = to_stdout ? NULL : xasprintf("%s.tmp.%d", path, (int)getpid());
  struct archive *a = archive_write_new();
  archive_write_set_format_pax_restricted(a);
  int ar = to_stdout ? archive_write_open_fd(a, STDOUT_FILENO) : archive_write_open_filename(a, tmp);
  if (ar != ARCHIVE_OK) {
    r = stack_error_set(err, -EIO, "cannot write %s: %s", path, archive_error_string(a));
    archive_write_free(a);
    return r;
  }
  _cleanup_free_ char *buf = xmalloc(COPY_BUF);
  _cleanup_cjson_ cJSON *index = cJSON_CreateObject();
  _cleanup_cjson_ cJSON *written = cJSON_CreateObject();
  cJSON_AddNumberToObject(index, "schemaVersion", 2);
  cJSON_AddStringToObject(index, "mediaType", MT_OCI_INDEX);
  cJSON *mans = cJSON_AddArrayToObject(index, "manifests");
  r = write_memory(a, "oci-layout", "{\"imageLayoutVersion\":\"1.0.0\"}", err);
  for (char *const *p = refs; r == 0 && *p; p++)
    r = save_image(a, bs, store_root, *p, mans, written, buf, err);
  if (r == 0) {
    _cleanup_free_ char *text = cJSON_PrintUnformatted(index);
    r = write_memory(a, "index.json", text, err);
  }
  if (archive_write_close(a) != ARCHIVE_OK && r == 0)
    r = stack_error_set(err, -EIO, "cannot write %s: %s", path, archive_error_string(a));
  archive_write_free(a);
  if (!to_stdout) {
    if (r == 0 && rename(tmp, path) < 0)
      r = stack_error_errno(err, -errno, "cannot write %s", path);
    if (r < 0)
      unlink(tmp);
  }
  return r;
}
