#include "config_hash.h"

#include <cjson/cJSON.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "orchestrator/compose/compose_emit.h"
#include "orchestrator/compose/compose_model.h"
#include "runtime/image/blobstore.h"
#include "runtime/util/cleanup.h"
#include "runtime/util/error.h"
#include "runtime/util/sbuf.h"
#include "runtime/util/xalloc.h"

static int cmp_keys(const void *a, const void *b) {
  const cJSON *x = *(const cJSON *const *)a, *y = *(const cJSON *const *)b;
  return strcmp(x->string, y->string);
}

static bool left_out(const cJSON *item, int depth, const char *parent) {
  static const char *const top[] = {"build", "pull_policy", "scale", "depends_on", "profiles",
                                    "attach"};
  if (depth == 1) {
    for (size_t i = 0; i < sizeof(top) / sizeof(top[0]); i++)
      if (strcmp(item->string, top[i]) == 0)
        return true;
  }
  return depth == 2 && parent && strcmp(parent, "deploy") == 0 &&
         strcmp(item->string, "replicas") == 0;
}

/* Canonical form: objects with sorted keys, scalars as cJSON prints them
 * unformatted; equal configurations give equal bytes whatever the order of
 * keys in the files. */
static int canon(const cJSON *j, int depth, const char *name, struct sbuf *b) {
  if (depth > 64)
    return -ELOOP;
  if (cJSON_IsObject(j)) {
    size_t n = 0;
    for (const cJSON *c = j->child; c; c = c->next)
      n++;
    _cleanup_free_ const cJSON **kids = xcalloc(n ? n : 1, sizeof(*kids));
    n = 0;
    for (const cJSON *c = j->child; c; c = c->next)
      if (c->string && !left_out(c, depth + 1, name))
        kids[n++] = c;
    qsort(kids, n, sizeof(*kids), cmp_keys);
    sbuf_putc(b, '{');
    for (size_t i = 0; i < n; i++) {
      cJSON *key = cJSON_CreateString(kids[i]->string);
      _cleanup_free_ char *k = cJSON_PrintUnformatted(key);
      cJSON_Delete(key);
      sbuf_printf(b, "%s%s:", i ? "," : "", k);
      int r = canon(kids[i], depth + 1, kids[i]->string, b);
      if (r < 0)
        return r;
    }
    sbuf_putc(b, '}');
    return 0;
  }
  if (cJSON_IsArray(j)) {
    sbuf_putc(b, '[');
    int i = 0;
    for (const cJSON *c = j->child; c; c = c->next, i++) {
      if (i)
        sbuf_putc(b, ',');
      int r = canon(c, depth + 1, NULL, b);
      if (r < 0)
        return r;
    }
    sbuf_putc(b, ']');
    return 0;
  }
  _cleanup_free_ char *s = cJSON_PrintUnformatted(j);
  sbuf_puts(b, s ? s : "null");
  return 0;
}

int config_hash(const cJSON *service, const char *image_id, char out[65],
                struct stack_error **err) {
  if (!cJSON_IsObject(service))
    return stack_error_set(err, -EINVAL, "cannot hash a service configuration that is not an object");
  _cleanup_sbuf_ struct sbuf b = SBUF_INIT;
  if (canon(service, 0, NULL, &b) < 0)
    return stack_error_set(err, -ELOOP, "service configuration is nested too deeply to hash");
  sbuf_putc(&b, '\n');
  sbuf_puts(&b, image_id ? image_id : "");
  _cleanup_free_ char *digest = blobstore_digest_of(b.data, b.len);
  if (digest == NULL || strlen(digest) != 71)
    return stack_error_set(err, -EIO, "sha256 failed while hashing a service configuration");
  memcpy(out, digest + 7, 65);
  return 0;
}

int config_hash_service(const struct compose_service *svc, const char *image_id, char out[65],
                        struct stack_error **err) {
  cJSON *j = compose_emit_json_tree(svc->node, false);
  int r = config_hash(j, image_id, out, err);
  cJSON_Delete(j);
  return r;
}
