// module: image
/* What a credential helper prints for `get` (cred_helper.h): a program
 * stack runs but does not trust. */
#include <stdint.h>
#include <stdlib.h>

#include "runtime/image/cred_helper.h"
#include "runtime/util/error.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  char *user = NULL, *secret = NULL;
  struct stack_error *err = NULL;
  if (cred_helper_parse_get((const char *)data, size, &user, &secret, &err) == 0 &&
      (user == NULL || secret == NULL || secret[0] == '\0'))
    abort();
  free(user);
  free(secret);
  stack_error_free(err);
  return 0;
}
