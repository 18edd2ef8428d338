/* image_get(): reference -> record (pulling per policy) -> manifest and config
 * from the store -> root disk (built on first use, then cached). */
#include "image.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "blobstore.h"
#include "image_index.h"
#include "manifest.h"
#include "reference.h"
#include "registry.h"
#include "rootfs.h"
#include "runtime/util/cleanup.h"
#include "runtime/util/error.h"
#include "runtime/util/xalloc.h"

#define CONFIG_MAX_SIZE (16u << 20)

static void blobstore_closep(struct blobstore **bs) { blobstore_close(*bs); }
static void record_freep(struct image_record **r) { image_record_free(*r); }
static void handle_freep(struct image_handle **h) { image_handle_free(*h); }

void image_handle_free(struct image_handle *h) {
  if (h == NULL)
    return;
  free(h->ref);
  free(h->manifest_digest);
  free(h->config_digest);
  free(h->rootfs_path);
  image_config_clear(&h->config);
  free(h);
}

int image_ref_normalize(const char *ref, char **out, struct stack_error **err) {
  struct image_ref r;
  int ret = image_ref_parse(ref, &r, err);
  if (ret < 0)
    return ret;
  *out = image_ref_string(&r);
  image_ref_clear(&r);
  return 0;
}

int image_load_manifest(struct blobstore *bs, const struct image_record *rec, struct manifest *m,
                        struct stack_error **err) {
  _cleanup_free_ char *body = NULL;
  size_t len = 0;
  int r = blobstore_read(bs, rec->manifest_digest, MANIFEST_MAX_SIZE, &body, &len, err);
  if (r == 0)
    r = manifest_parse(NULL, body, len, m, err);
  if (r == 0 && m->kind != MANIFEST_IMAGE) {
    manifest_clear(m);
    r = stack_error_set(err, -EINVAL, "manifest %s is an index, not an image manifest",
                        rec->manifest_digest);
  }
  if (r < 0)
    return stack_error_prefix(err, "image %s", rec->ref);
  return 0;
}

static void records_freep(struct image_record ***v) { image_record_list_free(*v); }

int image_find(const char *store_root, const char *arg, struct image_record **out,
               struct stack_error **err) {
  _cleanup_free_ char *norm = NULL;
  if (image_ref_normalize(arg, &norm, NULL) == 0 &&
      image_index_get(store_root, norm, out, NULL) == 0)
    return 0;
  const char *id = strncmp(arg, "sha256:", 7) == 0 ? arg + 7 : arg;
  size_t n = strspn(id, "0123456789abcdef");
  if (n >= 4 && id[n] == '\0') {
    __attribute__((cleanup(records_freep))) struct image_record **recs = NULL;
    if (image_index_list(store_root, &recs, NULL) == 0)
      for (struct image_record **p = recs; *p; p++)
        if (strncmp((*p)->config_digest + 7, id, n) == 0)
          return image_index_get(store_root, (*p)->ref, out, err);
  }
  return stack_error_set(err, -ENOENT, "No such image: %s", arg);
}

static int pull(const char *store_root, const char *ref, const struct image_get_opts *opts,
                struct stack_error **err) {
  struct image_record rec = {0};
  int r = registry_pull(store_root, ref, opts->platform, opts->quiet, &rec, err);
  free(rec.ref);
  free(rec.manifest_digest);
  free(rec.config_digest);
  free(rec.platform);
  return r;
}

/* "linux/arm64" matches a stored "linux/arm64/v8"; no platform asked
 * matches anything. */
static bool platform_matches(const char *stored, const char *wanted) {
  if (wanted == NULL || stored == NULL)
    return true;
  size_t n = strlen(wanted);
  return strncmp(stored, wanted, n) == 0 && (stored[n] == '\0' || stored[n] == '/');
}

int image_get(const char *store_root, const char *ref, const struct image_get_opts *opts,
              struct image_handle **out, struct stack_error **err) {
  static const struct image_get_opts defaults = {NULL, IMAGE_PULL_MISSING, false};
  if (opts == NULL)
    opts = &defaults;
  _cleanup_free_ char *norm = NULL;
  int r = image_ref_normalize(ref, &norm, err);
  if (r < 0)
    return r;
  __attribute__((cleanup(record_freep))) struct image_record *rec = NULL;
  r = opts->pull == IMAGE_PULL_ALWAYS ? -ENOENT : image_index_get(store_root, norm, &rec, NULL);
  if (r == 0 && !platform_matches(rec->platform, opts->platform)) {
    /* Stored for another platform (a Compose `platform:` changed): pull. */
    image_record_free(steal_pointer(&rec));
    r = opts->pull == IMAGE_PULL_NEVER ? 0 : -ENOENT;
    if (r == 0)
      return stack_error_set(err, -ENOENT,
                             "image %s is in the local store for another platform than %s and "
                             "the pull policy is \"never\"",
                             norm, opts->platform);
  }
  if (r == -ENOENT) {
    if (opts->pull == IMAGE_PULL_NEVER)
      return stack_error_set(err, -ENOENT,
                             "image %s is not in the local store and the pull policy is "
                             "\"never\": pull it first with `stack image pull %s`",
                             norm, ref);
    if ((r = pull(store_root, norm, opts, err)) < 0)
      return r;
    r = image_index_get(store_root, norm, &rec, err);
  } else if (r < 0) {
    r = image_index_get(store_root, norm, &rec, err); /* for the message */
  }
  if (r < 0)
    return r;

  __attribute__((cleanup(blobstore_closep))) struct blobstore *bs = NULL;
  if ((r = blobstore_open(store_root, &bs, err)) < 0)
    return r;
  __attribute__((cleanup(handle_freep))) struct image_handle *h = xcalloc(1, sizeof(*h));
  h->ref = steal_pointer(&norm);
  h->manifest_digest = xstrdup(rec->manifest_digest);
  h->config_digest = xstrdup(rec->config_digest);

  _cleanup_free_ char *cfg = NULL;
  size_t cfg_len = 0;
  if ((r = blobstore_read(bs, rec->config_digest, CONFIG_MAX_SIZE, &cfg, &cfg_len, err)) < 0 ||
      (r = image_config_parse(cfg, cfg_len, &h->config, err)) < 0)
    return stack_error_prefix(err, "image %s", h->ref);

  struct manifest m;
  if ((r = image_load_manifest(bs, rec, &m, err)) < 0)
    return r;
  r = rootfs_ensure(store_root, bs, rec->config_digest, &m, &h->rootfs_path, err);
  manifest_clear(&m);
  if (r < 0)
    return stack_error_prefix(err, "image %s", h->ref);
  *out = steal_pointer(&h);
  return 0;
}

void image_ref_display(const char *norm, char **repo, char **tag) {
  const char *s = norm;
  if (strncmp(s, "docker.io/library/", 18) == 0)
    s += 18;
  else if (strncmp(s, "docker.io/", 10) == 0)
    s += 10;
  size_t end = strcspn(s, "@");
  const char *slash = memrchr(s, '/', end);
  const char *colon = memrchr(slash ? slash : s, ':', end - (size_t)((slash ? slash : s) - s));
  if (colon) {
    *repo = xstrndup(s, (size_t)(colon - s));
    *tag = xstrndup(colon + 1, end - (size_t)(colon + 1 - s));
  } else {
    *repo = xstrndup(s, end);
    *tag = xstrdup("<none>");
  }
}
