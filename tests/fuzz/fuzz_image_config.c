// module: image
/* Image config JSON from a registry: must parse or fail cleanly. */
#include <stddef.h>
#include <stdint.h>

#include "runtime/image/image.h"
#include "runtime/util/error.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  struct image_config c;
  struct stack_error *e = NULL;
  if (image_config_parse((const char *)data, size, &c, &e) == 0)
    image_config_clear(&c);
  stack_error_free(e);
  return 0;
}
