// module: util
/* b64_decode() runs on what clients send the supervisor (exec_stdin data):
 * whatever the string, it must stay in bounds, and the bytes it accepts
 * must survive an encode-decode round trip (non-canonical padding bits
 * make the string itself not one). */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "runtime/util/base64.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  char *s = malloc(size + 1);
  if (s == NULL)
    return 0;
  memcpy(s, data, size);
  s[size] = '\0';
  size_t n;
  unsigned char *bytes = b64_decode(s, &n);
  if (bytes) {
    char *back = b64_encode(bytes, n);
    size_t m;
    unsigned char *again = b64_decode(back, &m);
    if (again == NULL || m != n || memcmp(again, bytes, n) != 0)
      abort();
    free(again);
    free(back);
    free(bytes);
  }
  free(s);
  return 0;
}
