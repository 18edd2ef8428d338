#include "runtime/image/manifest.h"

#include <cjson/cJSON.h>
#include <errno.h>
#include <string.h>
#include <strings.h>
#include <sys/utsname.h>

#include "runtime/image/blobstore.h"
#include "runtime/util/cjson_cleanup.h"
#include "runtime/util/cleanup.h"
#include "runtime/util/error.h"
#include "runtime/util/sbuf.h"
#include "runtime/util/xalloc.h"

static void descriptor_clear(struct descriptor *d) {
  free(d->media_type);
  free(d->digest);
  free(d->os);
  free(d->architecture);
  free(d->variant);
  *d = (struct descriptor){0};
}

void manifest_clear(struct manifest *m) {
  free(m->media_type);
  descriptor_clear(&m->config);
  for (size_t i = 0; i < m->n_items; i++)
    descriptor_clear(&m->items[i]);
  free(m->items);
  *m = (struct manifest){0};
}

static char *opt_string(const cJSON *obj, const char *key) {
  const cJSON *v = cJSON_GetObjectItemCaseSensitive(obj, key);
  return cJSON_IsString(v) && v->valuestring[0] ? xstrdup(v->valuestring) : NULL;
}

static int parse_descriptor(const cJSON *j, const char *what, bool platform, struct descriptor *d,
                            struct stack_error **err) {
  *d = (struct descriptor){0};
  if (!cJSON_IsObject(j))
    return stack_error_set(err, -EINVAL, "%s is not an object", what);
  const cJSON *digest = cJSON_GetObjectItemCaseSensitive(j, "digest");
  const cJSON *size = cJSON_GetObjectItemCaseSensitive(j, "size");
  if (!cJSON_IsString(digest))
    return stack_error_set(err, -EINVAL, "%s has no digest", what);
  int r = blobstore_check_digest(digest->valuestring, err);
  if (r < 0)
    return stack_error_prefix(err, "%s", what);
  /* Sizes come as JSON numbers (doubles): accept only exact integers in range. */
  if (!cJSON_IsNumber(size) || size->valuedouble < 0 || size->valuedouble > 9.0e15 ||
      size->valuedouble != (double)(int64_t)size->valuedouble)
    return stack_error_set(err, -EINVAL, "%s has no valid size", what);
  d->digest = xstrdup(digest->valuestring);
  d->size = (int64_t)size->valuedouble;
  d->media_type = opt_string(j, "mediaType");
  if (platform) {
    const cJSON *p = cJSON_GetObjectItemCaseSensitive(j, "platform");
    if (cJSON_IsObject(p)) {
      d->os = opt_string(p, "os");
      d->architecture = opt_string(p, "architecture");
      d->variant = opt_string(p, "variant");
    }
  }
  return 0;
}

static bool type_is(const char *ct, size_t ct_len, const char *mt) {
  return strlen(mt) == ct_len && strncasecmp(ct, mt, ct_len) == 0;
}

int manifest_parse(const char *content_type, const char *body, size_t len, struct manifest *out,
                   struct stack_error **err) {
  *out = (struct manifest){0};
  if (len > MANIFEST_MAX_SIZE)
    return stack_error_set(err, -EFBIG, "manifest is %zu bytes, more than the %u allowed", len,
                           MANIFEST_MAX_SIZE);
  _cleanup_cjson_ cJSON *root = cJSON_ParseWithLength(body, len);
  if (root == NULL || !cJSON_IsObject(root))
    return stack_error_set(err, -EINVAL, "manifest is not a JSON object");

  /* Content-Type decides; strip parameters ("; charset=utf-8") and blanks. */
  const char *ct = content_type ? content_type : "";
  while (*ct == ' ' || *ct == '\t')
    ct++;
  size_t ct_len = strcspn(ct, "; \t\r\n");
  const char *field = NULL;
  const cJSON *mt = cJSON_GetObjectItemCaseSensitive(root, "mediaType");
  if (cJSON_IsString(mt))
    field = mt->valuestring;
  const char *type = NULL;
  static const char *const known[] = {MT_OCI_INDEX, MT_OCI_MANIFEST, MT_DOCKER_LIST,
                                      MT_DOCKER_MANIFEST};
  for (size_t i = 0; i < 4 && type == NULL; i++)
    if (type_is(ct, ct_len, known[i]))
      type = known[i];
  if (type == NULL) {
    bool generic = ct_len == 0 || type_is(ct, ct_len, "application/json") ||
                   type_is(ct, ct_len, "text/plain") ||
                   type_is(ct, ct_len, "application/octet-stream");
    if (!generic) {
      if (ct_len >= 45 &&
          strncasecmp(ct, "application/vnd.docker.distribution.manifest.v1", 47) == 0)
        return stack_error_set(err, -ENOTSUP,
                               "the registry sent a Docker schema 1 manifest, which stack does "
                               "not support; push the image again with a current tool");
      return stack_error_set(err, -ENOTSUP, "unsupported manifest type \"%.*s\"", (int)ct_len, ct);
    }
    for (size_t i = 0; i < 4 && type == NULL && field; i++)
      if (strcmp(field, known[i]) == 0)
        type = known[i];
    if (type == NULL) {
      if (cJSON_HasObjectItem(root, "manifests"))
        type = MT_OCI_INDEX;
      else if (cJSON_HasObjectItem(root, "config") && cJSON_HasObjectItem(root, "layers"))
        type = MT_OCI_MANIFEST;
      else
        return stack_error_set(err, -ENOTSUP,
                               "unsupported manifest (no known media type, neither an index nor "
                               "an image manifest)");
    }
  }

  const cJSON *sv = cJSON_GetObjectItemCaseSensitive(root, "schemaVersion");
  if (!cJSON_IsNumber(sv) || sv->valuedouble != 2)
    return stack_error_set(err, -ENOTSUP, "unsupported manifest schemaVersion (want 2)");

  struct manifest m = {0};
  bool index = strcmp(type, MT_OCI_INDEX) == 0 || strcmp(type, MT_DOCKER_LIST) == 0;
  m.kind = index ? MANIFEST_INDEX : MANIFEST_IMAGE;
  m.media_type = xstrdup(type);
  int r = 0;
  if (!index) {
    r = parse_descriptor(cJSON_GetObjectItemCaseSensitive(root, "config"), "manifest config",
                         false, &m.config, err);
    if (r < 0)
      goto fail;
  }
  const cJSON *arr = cJSON_GetObjectItemCaseSensitive(root, index ? "manifests" : "layers");
  if (!cJSON_IsArray(arr)) {
    r = stack_error_set(err, -EINVAL, "manifest has no \"%s\" array", index ? "manifests" : "layers");
    goto fail;
  }
  int n = cJSON_GetArraySize(arr);
  m.items = xcalloc(n ? (size_t)n : 1, sizeof(*m.items));
  const cJSON *it;
  cJSON_ArrayForEach(it, arr) {
    char what[48];
    snprintf(what, sizeof(what), "%s %zu", index ? "manifest" : "layer", m.n_items + 1);
    r = parse_descriptor(it, what, index, &m.items[m.n_items], err);
    if (r < 0) {
      descriptor_clear(&m.items[m.n_items]);
      goto fail;
    }
    m.n_items++;
  }
  if (!index && m.n_items == 0) {
    r = stack_error_set(err, -EINVAL, "image manifest has no layers");
    goto fail;
  }
  *out = m;
  return 0;
fail:
  manifest_clear(&m);
  return r;
}

int layer_compression(const char *media_type, enum layer_compression *out,
                      struct stack_error **err) {
  static const struct {
    const char *mt;
    enum layer_compression c;
  } table[] = {
      {"application/vnd.oci.image.layer.v1.tar", LAYER_PLAIN},
      {"application/vnd.oci.image.layer.v1.tar+gzip", LAYER_GZIP},
      {"application/vnd.oci.image.layer.v1.tar+zstd", LAYER_ZSTD},
      {"application/vnd.docker.image.rootfs.diff.tar.gzip", LAYER_GZIP},
      {"application/vnd.docker.image.rootfs.diff.tar", LAYER_PLAIN},
      {"application/vnd.oci.image.layer.nondistributable.v1.tar+gzip", LAYER_GZIP},
  };
  if (media_type == NULL) {
    *out = LAYER_GZIP; /* old Docker manifests may leave it out: libarchive sniffs anyway */
    return 0;
  }
  for (size_t i = 0; i < sizeof(table) / sizeof(table[0]); i++)
    if (strcmp(media_type, table[i].mt) == 0) {
      *out = table[i].c;
      return 0;
    }
  return stack_error_set(err, -ENOTSUP, "unsupported layer type \"%s\"", media_type);
}

static const char *norm_arch(const char *a) {
  if (strcmp(a, "x86_64") == 0 || strcmp(a, "x86-64") == 0)
    return "amd64";
  if (strcmp(a, "aarch64") == 0)
    return "arm64";
  if (strcmp(a, "i386") == 0 || strcmp(a, "i686") == 0)
    return "386";
  return a;
}

char *platform_host(void) {
  struct utsname u;
  if (uname(&u) < 0)
    return xstrdup("linux/amd64");
  const char *a = norm_arch(u.machine);
  if (strncmp(a, "armv7", 5) == 0)
    return xstrdup("linux/arm/v7");
  return xasprintf("linux/%s", a);
}

int manifest_choose_platform(const struct manifest *index, const char *platform, size_t *out,
                             struct stack_error **err) {
  _cleanup_free_ char *host = platform ? NULL : platform_host();
  const char *p = platform ? platform : host;
  _cleanup_free_ char *copy = xstrdup(p);
  char *os = copy, *arch = strchr(copy, '/'), *variant = NULL;
  if (arch == NULL || arch[1] == '\0' || os[0] == '\0')
    return stack_error_set(err, -EINVAL,
                           "invalid platform \"%s\": use os/arch[/variant], e.g. linux/amd64", p);
  *arch++ = '\0';
  variant = strchr(arch, '/');
  if (variant) {
    *variant++ = '\0';
    if (*variant == '\0' || strchr(variant, '/'))
      return stack_error_set(err, -EINVAL,
                             "invalid platform \"%s\": use os/arch[/variant], e.g. linux/arm64/v8",
                             p);
  }
  arch = (char *)norm_arch(arch);

  /* Best match: exact variant, else no variant in the entry, else arm64's
   * default v8, else any variant when none was asked for. */
  int best = -1, best_score = 0;
  for (size_t i = 0; i < index->n_items; i++) {
    const struct descriptor *d = &index->items[i];
    if (!d->os || !d->architecture || strcmp(d->os, os) != 0 ||
        strcmp(norm_arch(d->architecture), arch) != 0)
      continue;
    int score;
    if (variant)
      score = d->variant && strcmp(d->variant, variant) == 0 ? 4
              : (!d->variant && strcmp(arch, "arm64") == 0 && strcmp(variant, "v8") == 0) ? 3
                                                                                             : 0;
    else
      score = !d->variant ? 4 : (strcmp(arch, "arm64") == 0 && strcmp(d->variant, "v8") == 0) ? 3 : 1;
    if (score > best_score) {
      best_score = score;
      best = (int)i;
    }
  }
  if (best >= 0) {
    *out = (size_t)best;
    return 0;
  }
  _cleanup_sbuf_ struct sbuf have = SBUF_INIT;
  for (size_t i = 0; i < index->n_items; i++) {
    const struct descriptor *d = &index->items[i];
    if (!d->os || !d->architecture)
      continue;
    sbuf_printf(&have, "%s%s/%s%s%s", have.len ? ", " : "", d->os, d->architecture,
                d->variant ? "/" : "", d->variant ? d->variant : "");
  }
  return stack_error_set(err, -ENOENT,
                         "no image for platform %s in the index (it has: %s); choose one with "
                         "--platform or `platform:`",
                         p, have.len ? have.data : "none");
}
