#include "base64.h"

#include <limits.h>
#include <openssl/evp.h>
#include <stdlib.h>
#include <string.h>

#include "xalloc.h"

char *b64_encode(const void *p, size_t n) {
  char *out = xmalloc(4 * ((n + 2) / 3) + 1);
  out[0] = '\0';
  if (n > 0 && n <= INT_MAX / 2)
    EVP_EncodeBlock((unsigned char *)out, p, (int)n);
  return out;
}

unsigned char *b64_decode(const char *s, size_t *n) {
  size_t len = strlen(s);
  *n = 0;
  if (len % 4 != 0 || len > INT_MAX / 2)
    return NULL;
  unsigned char *buf = xmalloc(len / 4 * 3 + 1);
  int got = len ? EVP_DecodeBlock(buf, (const unsigned char *)s, (int)len) : 0;
  /* the padding is decoded as zero bytes, and only belongs at the end */
  size_t pad = 0;
  while (pad < len && pad < 3 && s[len - 1 - pad] == '=')
    pad++;
  if (got < 0 || pad > 2 || (size_t)got < pad || memchr(s, '=', len - pad)) {
    free(buf);
    return NULL;
  }
  *n = (size_t)got - pad;
  buf[*n] = '\0';
  return buf;
}
