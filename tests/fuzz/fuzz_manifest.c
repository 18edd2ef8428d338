// module: image
/* Manifest / index parsing and platform choice on arbitrary bytes.  The first
 * byte picks the Content-Type the document is parsed under. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "runtime/image/manifest.h"
#include "runtime/util/error.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  static const char *const types[] = {NULL, MT_OCI_INDEX, MT_OCI_MANIFEST, MT_DOCKER_LIST,
                                      MT_DOCKER_MANIFEST, "application/json; charset=utf-8",
                                      "application/vnd.docker.distribution.manifest.v1+prettyjws"};
  if (size == 0)
    return 0;
  const char *ct = types[data[0] % (sizeof(types) / sizeof(types[0]))];
  struct manifest m;
  struct stack_error *err = NULL;
  if (manifest_parse(ct, (const char *)data + 1, size - 1, &m, &err) == 0) {
    if (m.kind == MANIFEST_INDEX) {
      size_t i;
      if (manifest_choose_platform(&m, "linux/arm64", &i, NULL) == 0 && i >= m.n_items)
        abort();
      if (manifest_choose_platform(&m, NULL, &i, NULL) == 0 && i >= m.n_items)
        abort();
    } else {
      enum layer_compression c;
      for (size_t i = 0; i < m.n_items; i++)
        layer_compression(m.items[i].media_type, &c, NULL);
    }
    manifest_clear(&m);
  } else if (err == NULL) {
    abort();
  }
  stack_error_free(err);
  return 0;
}
