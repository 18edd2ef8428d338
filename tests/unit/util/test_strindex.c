#include <stdbool.h>
#include <stdio.h>
#include <string.h>

#include "runtime/util/strindex.h"
#include "test.h"

int main(void) {
  _cleanup_strindex_ struct strindex s = STRINDEX_INIT;
  CHECK(strindex_get(&s, "a") == STRINDEX_NONE);
  static char keys[5000][12];
  for (size_t i = 0; i < 5000; i++) {
    snprintf(keys[i], sizeof(keys[i]), "k%zu", i);
    strindex_put(&s, keys[i], i);
  }
  CHECK_INTEQ(s.n, 5000);
  bool all = true;
  for (size_t i = 0; i < 5000; i++)
    all = all && strindex_get(&s, keys[i]) == i;
  CHECK(all);
  CHECK(strindex_get(&s, "k5000") == STRINDEX_NONE);
  CHECK(strindex_get(&s, "") == STRINDEX_NONE);
  strindex_put(&s, "k7", 42); /* an equal key replaces */
  CHECK_INTEQ(s.n, 5000);
  CHECK_INTEQ(strindex_get(&s, keys[7]), 42);
  strindex_clear(&s);
  CHECK(strindex_get(&s, "k1") == STRINDEX_NONE && s.n == 0);
  strindex_put(&s, "", 1);
  CHECK_INTEQ(strindex_get(&s, ""), 1);
  TEST_DONE();
}
