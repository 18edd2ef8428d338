#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "runtime/image/manifest.h"
#include "runtime/util/error.h"
#include "test.h"

#define D1 "sha256:1111111111111111111111111111111111111111111111111111111111111111"
#define D2 "sha256:2222222222222222222222222222222222222222222222222222222222222222"
#define D3 "sha256:3333333333333333333333333333333333333333333333333333333333333333"

static const char *index_json =
    "{\"schemaVersion\":2,\"manifests\":["
    "{\"mediaType\":\"" MT_OCI_MANIFEST "\",\"digest\":\"" D1 "\",\"size\":10,"
    "\"platform\":{\"os\":\"linux\",\"architecture\":\"amd64\"}},"
    "{\"mediaType\":\"" MT_OCI_MANIFEST "\",\"digest\":\"" D2 "\",\"size\":11,"
    "\"platform\":{\"os\":\"linux\",\"architecture\":\"arm64\",\"variant\":\"v8\"}},"
    "{\"mediaType\":\"" MT_OCI_MANIFEST "\",\"digest\":\"" D3 "\",\"size\":12,"
    "\"platform\":{\"os\":\"linux\",\"architecture\":\"arm\",\"variant\":\"v7\"}}]}";

static const char *image_json =
    "{\"schemaVersion\":2,\"config\":{\"mediaType\":\"application/vnd.oci.image.config.v1+json\","
    "\"digest\":\"" D1 "\",\"size\":5},\"layers\":["
    "{\"mediaType\":\"application/vnd.oci.image.layer.v1.tar+zstd\",\"digest\":\"" D2 "\",\"size\":7},"
    "{\"mediaType\":\"application/vnd.docker.image.rootfs.diff.tar.gzip\",\"digest\":\"" D3 "\",\"size\":8}]}";

static int parse(const char *ct, const char *json, struct manifest *m, struct stack_error **err) {
  return manifest_parse(ct, json, strlen(json), m, err);
}

static void expect_fail(const char *ct, const char *json, const char *fragment) {
  struct manifest m;
  struct stack_error *err = NULL;
  int rc = parse(ct, json, &m, &err);
  CHECK_MSG(rc < 0, "should fail: %s", json);
  if (rc == 0)
    manifest_clear(&m);
  else
    CHECK_MSG(err && strstr(err->msg, fragment), "\"%s\" lacks \"%s\"", err ? err->msg : "",
              fragment);
  stack_error_free(err);
}

int main(void) {
  struct manifest m;
  struct stack_error *err = NULL;
  size_t i;

  /* Content-Type decides, with parameters stripped; no mediaType field needed. */
  CHECK(parse(MT_OCI_INDEX "; charset=utf-8", index_json, &m, &err) == 0);
  CHECK_INTEQ(m.kind, MANIFEST_INDEX);
  CHECK_INTEQ(m.n_items, 3);
  CHECK(manifest_choose_platform(&m, "linux/amd64", &i, NULL) == 0 && i == 0);
  CHECK(manifest_choose_platform(&m, "linux/x86_64", &i, NULL) == 0 && i == 0);
  CHECK(manifest_choose_platform(&m, "linux/arm64", &i, NULL) == 0 && i == 1);
  CHECK(manifest_choose_platform(&m, "linux/arm64/v8", &i, NULL) == 0 && i == 1);
  CHECK(manifest_choose_platform(&m, "linux/arm/v7", &i, NULL) == 0 && i == 2);
  CHECK(manifest_choose_platform(&m, "linux/arm/v6", &i, &err) == -ENOENT);
  CHECK(err && strstr(err->msg, "linux/amd64, linux/arm64/v8, linux/arm/v7"));
  stack_error_free(err);
  err = NULL;
  CHECK(manifest_choose_platform(&m, "linux", &i, &err) == -EINVAL);
  CHECK(err && strstr(err->msg, "os/arch"));
  stack_error_free(err);
  err = NULL;
  char *host = platform_host();
  CHECK(strncmp(host, "linux/", 6) == 0);
  if (strcmp(host, "linux/amd64") == 0)
    CHECK(manifest_choose_platform(&m, NULL, &i, NULL) == 0 && i == 0);
  free(host);
  manifest_clear(&m);

  /* A Docker list Content-Type makes it an index even with a wrong field. */
  CHECK(parse(MT_DOCKER_LIST, index_json, &m, NULL) == 0);
  CHECK_STREQ(m.media_type, MT_DOCKER_LIST);
  manifest_clear(&m);

  CHECK(parse(MT_DOCKER_MANIFEST, image_json, &m, &err) == 0);
  CHECK_INTEQ(m.kind, MANIFEST_IMAGE);
  CHECK_STREQ(m.config.digest, D1);
  CHECK_INTEQ(m.config.size, 5);
  CHECK_INTEQ(m.n_items, 2);
  enum layer_compression c;
  CHECK(layer_compression(m.items[0].media_type, &c, NULL) == 0 && c == LAYER_ZSTD);
  CHECK(layer_compression(m.items[1].media_type, &c, NULL) == 0 && c == LAYER_GZIP);
  CHECK(layer_compression("application/vnd.oci.image.layer.v1.tar", &c, NULL) == 0 &&
        c == LAYER_PLAIN);
  CHECK(layer_compression("application/vnd.oci.image.layer.v1.tar+encrypted", &c, NULL) ==
        -ENOTSUP);
  manifest_clear(&m);

  /* Generic Content-Type: the shape decides. */
  CHECK(parse("application/json", image_json, &m, NULL) == 0 && m.kind == MANIFEST_IMAGE);
  manifest_clear(&m);
  CHECK(parse(NULL, index_json, &m, NULL) == 0 && m.kind == MANIFEST_INDEX);
  manifest_clear(&m);

  expect_fail("application/vnd.docker.distribution.manifest.v1+prettyjws", image_json, "schema 1");
  expect_fail("text/html", image_json, "unsupported manifest type");
  expect_fail(MT_OCI_MANIFEST, "not json", "not a JSON object");
  expect_fail(MT_OCI_MANIFEST, "{\"schemaVersion\":1}", "schemaVersion");
  expect_fail(MT_OCI_MANIFEST, "{\"schemaVersion\":2,\"config\":{\"digest\":\"" D1 "\",\"size\":1},\"layers\":[]}",
              "no layers");
  expect_fail(MT_OCI_MANIFEST,
              "{\"schemaVersion\":2,\"config\":{\"digest\":\"sha256:../../etc\",\"size\":1},\"layers\":[]}",
              "manifest config");
  expect_fail(MT_OCI_MANIFEST,
              "{\"schemaVersion\":2,\"config\":{\"digest\":\"" D1 "\",\"size\":-4},\"layers\":[]}",
              "size");
  expect_fail(MT_OCI_MANIFEST,
              "{\"schemaVersion\":2,\"config\":{\"digest\":\"" D1 "\",\"size\":1.5},\"layers\":[]}",
              "size");
  expect_fail(MT_OCI_INDEX, "{\"schemaVersion\":2,\"manifests\":[{\"size\":1}]}", "manifest 1 has no digest");
  char *big = malloc(MANIFEST_MAX_SIZE + 2);
  memset(big, ' ', MANIFEST_MAX_SIZE + 1);
  big[MANIFEST_MAX_SIZE + 1] = '\0';
  expect_fail(MT_OCI_MANIFEST, big, "more than");
  free(big);
  TEST_DONE();
}
