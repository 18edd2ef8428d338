/* How references are shown in `stack images`, as Docker shows them. */
#include <stdlib.h>

#include "runtime/image/image.h"
#include "test.h"

static void check(const char *norm, const char *repo, const char *tag) {
  char *r = NULL, *t = NULL;
  image_ref_display(norm, &r, &t);
  CHECK_STREQ(r, repo);
  CHECK_STREQ(t, tag);
  free(r);
  free(t);
}

int main(void) {
  check("docker.io/library/redis:latest", "redis", "latest");
  check("docker.io/bitnami/redis:7.2", "bitnami/redis", "7.2");
  check("127.0.0.1:5000/a/b:tag", "127.0.0.1:5000/a/b", "tag");
  check("127.0.0.1:5000/a/b@sha256:0123", "127.0.0.1:5000/a/b", "<none>");
  check("localhost:5000/x:1@sha256:0123", "localhost:5000/x", "1");
  check("quay.io/x", "quay.io/x", "<none>");
  TEST_DONE();
}
