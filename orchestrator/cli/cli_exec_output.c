#include "cli_exec_output.h"

#include <cjson/cJSON.h>
#include <openssl/evp.h>
#include <stdlib.h>
#include <string.h>

#include "runtime/util/xalloc.h"

unsigned char *cli_exec_output_decode(const cJSON *ev, int *fd, size_t *n) {
  const char *b64 = cJSON_GetStringValue(cJSON_GetObjectItem(ev, "data"));
  *fd = cJSON_GetNumberValue(cJSON_GetObjectItem(ev, "fd")) == 2 ? 2 : 1;
  if (b64 == NULL)
    return NULL;
  size_t len = strlen(b64);
  unsigned char *buf = xmalloc(len / 4 * 3 + 3);
  int got = EVP_DecodeBlock(buf, (const unsigned char *)b64, (int)len);
  if (got < 0) {
    free(buf);
    return NULL;
  }
  /* DecodeBlock counts the padding as data */
  if (len >= 1 && b64[len - 1] == '=')
    got--;
  if (len >= 2 && b64[len - 2] == '=')
    got--;
  *n = (size_t)(got > 0 ? got : 0);
  return buf;
}
