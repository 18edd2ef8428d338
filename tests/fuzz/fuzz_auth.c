// module: image
/* What registries send for authentication: WWW-Authenticate challenges
 * (first byte 0), token server answers (1), and base64 user:pass (2). */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "runtime/image/auth.h"
#include "runtime/util/error.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  if (size == 0)
    return 0;
  char *s = malloc(size);
  memcpy(s, data + 1, size - 1);
  s[size - 1] = '\0';
  struct stack_error *err = NULL;
  switch (data[0] % 3) {
  case 0: {
    struct auth_challenge c;
    if (auth_challenge_parse(s, &c, &err) == 0)
      auth_challenge_clear(&c);
    break;
  }
  case 1: {
    char *tok = NULL;
    int64_t exp;
    if (auth_token_parse(s, size - 1, &tok, &exp, &err) == 0 && (tok == NULL || exp < 1))
      abort();
    free(tok);
    break;
  }
  default: {
    char *u = NULL, *p = NULL;
    if (auth_decode_userpass(s, &u, &p, &err) == 0 && (u == NULL || p == NULL))
      abort();
    free(u);
    free(p);
  }
  }
  stack_error_free(err);
  free(s);
  return 0;
}
