/* image_import(): a root file system (directory or tarball) -> one
 * uncompressed tar layer (its digest is then also its diff_id), a config, an
 * OCI manifest, an index record and the root disk.  The layer is streamed
 * straight into the blob store while it is hashed. */
#include <archive.h>
#include <archive_entry.h>
#include <cjson/cJSON.h>
#include <errno.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>

#include "blobstore.h"
#include "image.h"
#include "image_change.h"
#include "image_index.h"
#include "manifest.h"
#include "rootfs.h"
#include "runtime/util/cjson_cleanup.h"
#include "runtime/util/cleanup.h"
#include "runtime/util/error.h"
#include "runtime/util/xalloc.h"

#define MT_OCI_CONFIG "application/vnd.oci.image.config.v1+json"
#define MT_OCI_LAYER_TAR "application/vnd.oci.image.layer.v1.tar"
#define COPY_BUF (1 << 20)

struct sink {
  struct blob_writer *w;
  struct stack_error *err;
};

static la_ssize_t sink_write(struct archive *a, void *ctx, const void *buf, size_t len) {
  struct sink *s = ctx;
  if (blob_writer_write(s->w, buf, len, &s->err) < 0) {
    archive_set_error(a, EIO, "%s", s->err->msg);
    return -1;
  }
  return (la_ssize_t)len;
}

static void archive_read_freep(struct archive **a) {
  if (*a)
    archive_read_free(*a);
}
static void blobstore_closep(struct blobstore **bs) { blobstore_close(*bs); }

/* Copies the current entry of in (header already read) to out. */
static int copy_entry(struct archive *in, struct archive *out, struct archive_entry *e, char *buf,
                      const char *src, struct stack_error **err) {
  if (archive_write_header(out, e) < ARCHIVE_WARN)
    return stack_error_set(err, -EIO, "import %s: %s: %s", src, archive_entry_pathname(e),
                           archive_error_string(out));
  if (archive_entry_size(e) <= 0 || archive_entry_hardlink(e) != NULL)
    return 0;
  for (;;) {
    la_ssize_t n = archive_read_data(in, buf, COPY_BUF);
    if (n == 0)
      return 0;
    if (n < 0)
      return stack_error_set(err, -EIO, "import %s: %s: %s", src, archive_entry_pathname(e),
                             archive_error_string(in));
    if (archive_write_data(out, buf, (size_t)n) != n)
      return stack_error_set(err, -EIO, "import %s: %s: %s", src, archive_entry_pathname(e),
                             archive_error_string(out));
  }
}

static int copy_tarball(struct archive *out, const char *src, struct stack_error **err) {
  __attribute__((cleanup(archive_read_freep))) struct archive *in = archive_read_new();
  archive_read_support_filter_gzip(in);
  archive_read_support_filter_zstd(in);
  archive_read_support_filter_xz(in);
  archive_read_support_format_tar(in);
  if (archive_read_open_filename(in, src, COPY_BUF) != ARCHIVE_OK)
    return stack_error_set(err, -EINVAL, "import %s: %s", src, archive_error_string(in));
  _cleanup_free_ char *buf = xmalloc(COPY_BUF);
  for (;;) {
    struct archive_entry *e;
    int r = archive_read_next_header(in, &e);
    if (r == ARCHIVE_EOF)
      return 0;
    if (r < ARCHIVE_WARN)
      return stack_error_set(err, -EINVAL, "import %s: %s", src, archive_error_string(in));
    if ((r = copy_entry(in, out, e, buf, src, err)) < 0)
      return r;
  }
}

static int copy_directory(struct archive *out, const char *src, struct stack_error **err) {
  __attribute__((cleanup(archive_read_freep))) struct archive *in = archive_read_disk_new();
  archive_read_disk_set_symlink_physical(in);
  archive_read_disk_set_standard_lookup(in);
  if (archive_read_disk_open(in, src) != ARCHIVE_OK)
    return stack_error_set(err, -EINVAL, "import %s: %s", src, archive_error_string(in));
  struct archive_entry_linkresolver *lr = archive_entry_linkresolver_new();
  archive_entry_linkresolver_set_strategy(lr, ARCHIVE_FORMAT_TAR_PAX_RESTRICTED);
  _cleanup_free_ char *buf = xmalloc(COPY_BUF);
  size_t prefix = strlen(src);
  while (prefix > 1 && src[prefix - 1] == '/')
    prefix--;
  int r = 0;
  struct archive_entry *e = archive_entry_new();
  for (;;) {
    int ar = archive_read_next_header2(in, e);
    if (ar == ARCHIVE_EOF)
      break;
    if (ar < ARCHIVE_WARN) {
      r = stack_error_set(err, -EIO, "import %s: %s", src, archive_error_string(in));
      break;
    }
    archive_read_disk_descend(in);
    /* Entries are named src/...: make them relative to the new root. */
    const char *p = archive_entry_pathname(e);
    const char *rel = strlen(p) > prefix ? p + prefix : "";
    while (*rel == '/')
      rel++;
    _cleanup_free_ char *name = xasprintf("./%s", rel);
    archive_entry_set_pathname(e, name);
    struct archive_entry *le = e, *sparse = NULL;
    archive_entry_linkify(lr, &le, &sparse);
    if (le && (r = copy_entry(in, out, le, buf, src, err)) < 0)
      break;
  }
  archive_entry_free(e);
  archive_entry_linkresolver_free(lr);
  return r;
}

/* Writes the layer tar of src into the store. */
static int make_layer(struct blobstore *bs, const char *src, char **digest, uint64_t *size,
                      struct stack_error **err) {
  struct stat st;
  if (stat(src, &st) < 0)
    return stack_error_errno(err, -errno, "import: cannot read %s", src);
  struct sink s = {NULL, NULL};
  int r = blobstore_writer_open_new(bs, &s.w, err);
  if (r < 0)
    return r;
  struct archive *out = archive_write_new();
  archive_write_set_format_pax_restricted(out);
  archive_write_set_bytes_per_block(out, 64 * 1024);
  archive_write_set_bytes_in_last_block(out, 1);
  if (archive_write_open2(out, &s, NULL, sink_write, NULL, NULL) != ARCHIVE_OK) {
    r = stack_error_set(err, -EIO, "import: %s", archive_error_string(out));
  } else {
    r = S_ISDIR(st.st_mode) ? copy_directory(out, src, err) : copy_tarball(out, src, err);
    if (r == 0 && archive_write_close(out) != ARCHIVE_OK)
      r = stack_error_set(err, -EIO, "import: %s", archive_error_string(out));
  }
  archive_write_free(out);
  if (s.err) {
    if (r == 0)
      r = s.err->code;
    stack_error_free(s.err);
  }
  if (r < 0) {
    blob_writer_abort(s.w, false);
    return r;
  }
  return blob_writer_commit_digest(s.w, digest, size, err);
}

static char *rfc3339(time_t t) {
  struct tm tm;
  char buf[64];
  gmtime_r(&t, &tm);
  strftime(buf, sizeof(buf), "%Y-%m-%dT%H:%M:%SZ", &tm);
  return xstrdup(buf);
}

static cJSON *descriptor_json(const char *mt, const char *digest, uint64_t size) {
  cJSON *d = cJSON_CreateObject();
  cJSON_AddStringToObject(d, "mediaType", mt);
  cJSON_AddStringToObject(d, "digest", digest);
  cJSON_AddNumberToObject(d, "size", (double)size);
  return d;
}

/* Stores a JSON document as a blob. */
static int put_json(struct blobstore *bs, cJSON *j, char **digest, uint64_t *size,
                    struct stack_error **err) {
  _cleanup_free_ char *text = cJSON_PrintUnformatted(j);
  *size = strlen(text);
  return blobstore_put(bs, NULL, text, *size, digest, err);
}

int image_import(const char *store_root, const char *src, const char *ref,
                 struct image_record **out, struct stack_error **err) {
  return image_import_changes(store_root, src, ref, NULL, out, err);
}

int image_import_changes(const char *store_root, const char *src, const char *ref,
                         char *const *changes, struct image_record **out,
                         struct stack_error **err) {
  _cleanup_free_ char *norm = NULL;
  int r = image_ref_normalize(ref, &norm, err);
  if (r < 0)
    return r;
  if (strchr(norm, '@'))
    return stack_error_set(err, -EINVAL, "import: name the image with a tag, not a digest: %s", ref);
  __attribute__((cleanup(blobstore_closep))) struct blobstore *bs = NULL;
  if ((r = blobstore_open(store_root, &bs, err)) < 0)
    return r;
  _cleanup_free_ char *layer = NULL, *config = NULL, *manifest = NULL, *plat = platform_host();
  uint64_t layer_size = 0, config_size = 0, manifest_size = 0;
  time_t now = time(NULL);
  _cleanup_free_ char *created = rfc3339(now);
  _cleanup_cjson_ cJSON *cfg = cJSON_CreateObject();
  cJSON_AddStringToObject(cfg, "created", created);
  const char *slash = strchr(plat, '/');
  cJSON_AddStringToObject(cfg, "architecture", slash ? slash + 1 : "amd64");
  cJSON_AddStringToObject(cfg, "os", "linux");
  cJSON *c = cJSON_AddObjectToObject(cfg, "config");
  cJSON *env = cJSON_AddArrayToObject(c, "Env");
  cJSON_AddItemToArray(env, cJSON_CreateString(
                                "PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"));
  /* Bad --change arguments fail before any work is done. */
  for (char *const *ch = changes; ch && *ch; ch++)
    if ((r = image_change_apply(c, *ch, err)) < 0)
      return r;
  if ((r = make_layer(bs, src, &layer, &layer_size, err)) < 0)
    return r;
  cJSON *rootfs = cJSON_AddObjectToObject(cfg, "rootfs");
  cJSON_AddStringToObject(rootfs, "type", "layers");
  cJSON_AddItemToArray(cJSON_AddArrayToObject(rootfs, "diff_ids"), cJSON_CreateString(layer));
  cJSON *hist = cJSON_CreateObject();
  cJSON_AddStringToObject(hist, "created", created);
  cJSON_AddStringToObject(hist, "created_by", "stack image import");
  cJSON_AddItemToArray(cJSON_AddArrayToObject(cfg, "history"), hist);
  if ((r = put_json(bs, cfg, &config, &config_size, err)) < 0)
    return r;

  _cleanup_cjson_ cJSON *man = cJSON_CreateObject();
  cJSON_AddNumberToObject(man, "schemaVersion", 2);
  cJSON_AddStringToObject(man, "mediaType", MT_OCI_MANIFEST);
  cJSON_AddItemToObject(man, "config", descriptor_json(MT_OCI_CONFIG, config, config_size));
  cJSON_AddItemToArray(cJSON_AddArrayToObject(man, "layers"),
                       descriptor_json(MT_OCI_LAYER_TAR, layer, layer_size));
  if ((r = put_json(bs, man, &manifest, &manifest_size, err)) < 0)
    return r;

  struct image_record rec = {.ref = norm, .manifest_digest = manifest, .config_digest = config,
                             .platform = plat, .size = (int64_t)layer_size, .created = now};
  struct manifest m;
  if ((r = image_load_manifest(bs, &rec, &m, err)) < 0)
    return r;
  r = rootfs_ensure(store_root, bs, config, &m, NULL, err);
  manifest_clear(&m);
  if (r < 0 || (r = image_index_put(store_root, &rec, err)) < 0)
    return stack_error_prefix(err, "import %s", src);
  if (out) {
    struct image_record *o = xcalloc(1, sizeof(*o));
    *o = rec;
    o->ref = steal_pointer(&norm);
    o->manifest_digest = steal_pointer(&manifest);
    o->config_digest = steal_pointer(&config);
    o->platform = steal_pointer(&plat);
    *out = o;
  }
  return 0;
}
