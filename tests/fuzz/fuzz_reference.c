// module: image
/* Image reference parser: any input is parsed or rejected with a message,
 * and a parsed reference re-parses to itself. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "runtime/image/reference.h"
#include "runtime/util/error.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  char *s = malloc(size + 1);
  memcpy(s, data, size);
  s[size] = '\0';
  struct image_ref r;
  struct stack_error *err = NULL;
  if (image_ref_parse(s, &r, &err) == 0) {
    char *norm = image_ref_string(&r);
    struct image_ref again;
    if (image_ref_parse(norm, &again, NULL) != 0)
      abort();
    char *norm2 = image_ref_string(&again);
    if (strcmp(norm, norm2) != 0)
      abort();
    free(norm2);
    image_ref_clear(&again);
    free(norm);
    image_ref_clear(&r);
  } else if (err == NULL || err->msg == NULL) {
    abort();
  }
  stack_error_free(err);
  free(s);
  return 0;
}
