#include <string.h>

#include "runtime/util/base64.h"
#include "runtime/util/cleanup.h"
#include "test.h"

static void round_trip(const char *plain, const char *want) {
  _cleanup_free_ char *enc = b64_encode(plain, strlen(plain));
  CHECK_STREQ(enc, want);
  size_t n;
  _cleanup_free_ unsigned char *dec = b64_decode(want, &n);
  CHECK(dec != NULL && n == strlen(plain) && memcmp(dec, plain, n) == 0);
}

static void bad(const char *s) {
  size_t n = 99;
  _cleanup_free_ unsigned char *dec = b64_decode(s, &n);
  CHECK(dec == NULL && n == 0);
}

int main(void) {
  round_trip("", "");
  round_trip("h", "aA==");
  round_trip("hi", "aGk=");
  round_trip("hi!", "aGkh");
  round_trip("hello world!", "aGVsbG8gd29ybGQh");
  /* binary bytes, NUL included */
  size_t n;
  _cleanup_free_ unsigned char *bin = b64_decode("AAEC/w==", &n);
  CHECK(bin != NULL && n == 4 && bin[0] == 0 && bin[1] == 1 && bin[2] == 2 && bin[3] == 0xff);
  bad("aGk");     /* not a multiple of 4 */
  bad("a=Gk");    /* padding inside */
  bad("a===");    /* too much padding */
  bad("aG!k");    /* not the alphabet */
  TEST_DONE();
}
