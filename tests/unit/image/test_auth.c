#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "runtime/image/auth.h"
#include "runtime/util/error.h"
#include "test.h"

int main(void) {
  struct auth_challenge c;
  CHECK(auth_challenge_parse("Bearer realm=\"https://auth.docker.io/token\",service=\"registry."
                             "docker.io\",scope=\"repository:library/redis:pull,push\"",
                             &c, NULL) == 0);
  CHECK_STREQ(c.scheme, "Bearer");
  CHECK_STREQ(c.realm, "https://auth.docker.io/token");
  CHECK_STREQ(c.service, "registry.docker.io");
  CHECK_STREQ(c.scope, "repository:library/redis:pull,push");
  auth_challenge_clear(&c);

  CHECK(auth_challenge_parse("  basic Realm=\"a \\\"quoted\\\", realm\" , charset=UTF-8", &c, NULL) == 0);
  CHECK_STREQ(c.scheme, "basic");
  CHECK_STREQ(c.realm, "a \"quoted\", realm");
  CHECK(c.service == NULL && c.scope == NULL);
  auth_challenge_clear(&c);

  CHECK(auth_challenge_parse("Bearer realm=http://x/token,service=s", &c, NULL) == 0);
  CHECK_STREQ(c.realm, "http://x/token");
  CHECK_STREQ(c.service, "s");
  auth_challenge_clear(&c);

  struct stack_error *err = NULL;
  CHECK(auth_challenge_parse("", &c, &err) == -EINVAL);
  stack_error_free(err);
  err = NULL;
  CHECK(auth_challenge_parse("Bearer realm=\"unterminated", &c, &err) == -EINVAL);
  CHECK(err && strstr(err->msg, "unterminated"));
  stack_error_free(err);
  err = NULL;
  CHECK(auth_challenge_parse("Bearer =x", &c, NULL) == -EINVAL);

  char *h = auth_basic_header("user", "p@ss:word");
  CHECK_STREQ(h, "Authorization: Basic dXNlcjpwQHNzOndvcmQ=");
  free(h);
  char *u = NULL, *p = NULL;
  CHECK(auth_decode_userpass("dXNlcjpwQHNzOndvcmQ=", &u, &p, NULL) == 0);
  CHECK_STREQ(u, "user");
  CHECK_STREQ(p, "p@ss:word");
  free(u);
  free(p);
  CHECK(auth_decode_userpass("bm9jb2xvbg==", &u, &p, NULL) == -EINVAL); /* "nocolon" */
  CHECK(auth_decode_userpass("***", &u, &p, NULL) == -EINVAL);
  CHECK(auth_decode_userpass("", &u, &p, NULL) == -EINVAL);
  CHECK(auth_decode_userpass("====", &u, &p, NULL) == -EINVAL); /* found by fuzzing */
  CHECK(auth_decode_userpass("YTpi====", &u, &p, NULL) == -EINVAL);

  char *tok = NULL;
  int64_t exp = 0;
  const char *j1 = "{\"token\":\"abc\",\"expires_in\":300}";
  CHECK(auth_token_parse(j1, strlen(j1), &tok, &exp, NULL) == 0);
  CHECK_STREQ(tok, "abc");
  CHECK_INTEQ(exp, 300);
  free(tok);
  const char *j2 = "{\"access_token\":\"xyz\"}";
  CHECK(auth_token_parse(j2, strlen(j2), &tok, &exp, NULL) == 0);
  CHECK_STREQ(tok, "xyz");
  CHECK_INTEQ(exp, 60);
  free(tok);
  const char *j3 = "{\"token\":\"a\\r\\nX-Evil: 1\"}";
  CHECK(auth_token_parse(j3, strlen(j3), &tok, &exp, NULL) == -EINVAL);
  CHECK(auth_token_parse("nope", 4, &tok, &exp, NULL) == -EINVAL);
  TEST_DONE();
}
