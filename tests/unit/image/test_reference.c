#include <stdlib.h>

#include "runtime/image/reference.h"
#include "runtime/util/error.h"
#include "test.h"

static void ok(const char *in, const char *want) {
  struct image_ref r;
  struct stack_error *err = NULL;
  int rc = image_ref_parse(in, &r, &err);
  CHECK_MSG(rc == 0, "%s: %s", in, err ? err->msg : "");
  if (rc == 0) {
    char *s = image_ref_string(&r);
    CHECK_STREQ(s, want);
    free(s);
    image_ref_clear(&r);
  }
  stack_error_free(err);
}

static void bad(const char *in, const char *fragment) {
  struct image_ref r;
  struct stack_error *err = NULL;
  int rc = image_ref_parse(in, &r, &err);
  CHECK_MSG(rc < 0, "%s should be rejected", in);
  if (rc < 0)
    CHECK_MSG(err && strstr(err->msg, fragment), "%s: message \"%s\" lacks \"%s\"", in,
              err ? err->msg : "", fragment);
  else
    image_ref_clear(&r);
  stack_error_free(err);
}

int main(void) {
  const char *d = "sha256:0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef";
  char buf[256];

  ok("redis", "docker.io/library/redis:latest");
  ok("redis:7", "docker.io/library/redis:7");
  ok("bitnami/redis:7.2-debian", "docker.io/bitnami/redis:7.2-debian");
  ok("docker.io/redis", "docker.io/library/redis:latest");
  ok("index.docker.io/library/redis", "docker.io/library/redis:latest");
  ok("localhost/foo", "localhost/foo:latest");
  ok("localhost:5000/a/b/c:v1", "localhost:5000/a/b/c:v1");
  ok("127.0.0.1:40000/busybox:amd64", "127.0.0.1:40000/busybox:amd64");
  ok("ghcr.io/some_org/my__img.x-y--z:TAG_1.0", "ghcr.io/some_org/my__img.x-y--z:TAG_1.0");
  snprintf(buf, sizeof(buf), "busybox@%s", d);
  char want[300];
  snprintf(want, sizeof(want), "docker.io/library/busybox@%s", d);
  ok(buf, want);
  snprintf(buf, sizeof(buf), "host:1/busybox:1.36@%s", d);
  snprintf(want, sizeof(want), "host:1/busybox:1.36@%s", d);
  ok(buf, want);

  struct image_ref r;
  CHECK(image_ref_parse("127.0.0.1:5000/ns/img", &r, NULL) == 0);
  CHECK_STREQ(r.domain, "127.0.0.1:5000");
  CHECK_STREQ(r.path, "ns/img");
  CHECK_STREQ(image_ref_reference(&r), "latest");
  CHECK_STREQ(image_ref_api_host(&r), "127.0.0.1:5000");
  CHECK(r.digest == NULL);
  image_ref_clear(&r);
  CHECK(image_ref_parse("redis", &r, NULL) == 0);
  CHECK_STREQ(image_ref_api_host(&r), "registry-1.docker.io");
  char *name = image_ref_name(&r);
  CHECK_STREQ(name, "docker.io/library/redis");
  free(name);
  image_ref_clear(&r);
  snprintf(buf, sizeof(buf), "a:b@%s", d);
  CHECK(image_ref_parse(buf, &r, NULL) == 0);
  CHECK_STREQ(image_ref_reference(&r), d);
  CHECK(r.tag && strcmp(r.tag, "b") == 0);
  image_ref_clear(&r);

  CHECK(image_ref_host_is_loopback("127.0.0.1:5000"));
  CHECK(image_ref_host_is_loopback("localhost:5000"));
  CHECK(image_ref_host_is_loopback("[::1]:5000"));
  CHECK(!image_ref_host_is_loopback("registry.example.com"));
  CHECK(!image_ref_host_is_loopback("localhost.evil.com"));
  CHECK(!image_ref_host_is_loopback("127.evil.com:5000"));
  CHECK(!image_ref_host_is_loopback("[::1]x"));
  CHECK(image_ref_host_is_loopback("127.1.2.3"));
  CHECK(!image_ref_host_is_loopback("128.0.0.1:80"));

  bad("", "empty");
  bad("Redis", "lowercase");
  bad("redis:", "bad tag");
  bad("redis:-x", "bad tag");
  bad("redis@sha256:abc", "digest");
  bad("redis@md5:0123", "digest");
  bad("a//b", "bad name component");
  bad("a/", "trailing");
  bad("-a", "bad name component");
  bad("a..b", "bad name component");
  bad("a___b", "bad name component");
  bad("bad_host.-x/a", "bad registry host");
  bad("host:99999999/a", "bad registry host");
  bad("host:/a", "bad registry host");
  bad("a b", "bad");
  char big[400];
  memset(big, 'a', sizeof(big) - 1);
  big[sizeof(big) - 1] = '\0';
  bad(big, "longer than");
  TEST_DONE();
}
