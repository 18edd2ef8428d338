// module: image
/* The layer applier over arbitrary bytes (tar, gzip or zstd): applied twice
 * to one tree so that whiteouts, opaque dirs and links meet earlier content. */
#include <stddef.h>
#include <stdint.h>

#include "runtime/image/layer_tree.h"
#include "runtime/util/error.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  struct layer_tree *t = NULL;
  if (layer_tree_new(&t, NULL) < 0)
    return 0;
  for (int i = 0; i < 2; i++) {
    struct stack_error *e = NULL;
    layer_tree_apply_memory(t, data, size, "fuzz", &e);
    stack_error_free(e);
  }
  layer_tree_free(t);
  return 0;
}
