#include <cjson/cJSON.h>

#include "orchestrator/supervisor/config_hash.h"
#include "orchestrator/supervisor/naming.h"
#include "runtime/util/cleanup.h"
#include "runtime/util/error.h"
#include "test.h"

static void test_names(void) {
  _cleanup_free_ char *a = naming_container_name("proj", "web", 1, NULL);
  CHECK_STREQ(a, "proj-web-1");
  _cleanup_free_ char *b = naming_container_name("proj", "web", 12, "my-web");
  CHECK_STREQ(b, "my-web");
  _cleanup_free_ char *c = naming_container_name("proj", "web", 3, "");
  CHECK_STREQ(c, "proj-web-3");
  CHECK_INTEQ(naming_container_number("proj", "web", "proj-web-12"), 12);
  CHECK_INTEQ(naming_container_number("proj", "web", "proj-web-0"), -1);
  CHECK_INTEQ(naming_container_number("proj", "web", "proj-web-1x"), -1);
  CHECK_INTEQ(naming_container_number("proj", "web", "proj-webx-1"), -1);
  CHECK_INTEQ(naming_container_number("proj", "web", "proj-web-"), -1);
  CHECK_INTEQ(naming_container_number("proj", "web", "other-web-1"), -1);
  CHECK_INTEQ(naming_container_number("proj", "web-1", "proj-web-1-2"), 2);
  unsigned used[] = {1, 4, 2};
  CHECK_INTEQ(naming_next_number(used, 3), 5);
  CHECK_INTEQ(naming_next_number(NULL, 0), 1);
}

static void test_replicas(void) {
  unsigned n = 0;
  struct stack_error *err = NULL;
  CHECK_INTEQ(naming_replicas("web", -1, -1, -1, NULL, &n, &err), 0);
  CHECK_INTEQ(n, 1);
  CHECK_INTEQ(naming_replicas("web", -1, 3, 2, NULL, &n, &err), 0);
  CHECK_INTEQ(n, 3);
  CHECK_INTEQ(naming_replicas("web", -1, -1, 2, NULL, &n, &err), 0);
  CHECK_INTEQ(n, 2);
  CHECK_INTEQ(naming_replicas("web", 0, 3, 2, NULL, &n, &err), 0);
  CHECK_INTEQ(n, 0);
  CHECK_INTEQ(naming_replicas("web", 1, 3, -1, "only", &n, &err), 0);
  CHECK_INTEQ(naming_replicas("web", -1, 2, -1, "only", &n, &err), -22);
  CHECK(err && strstr(err->msg, "services.web") && strstr(err->msg, "container_name"));
  stack_error_free(err);
  err = NULL;
  /* projects: Compose's rule; containers: Docker's */
  CHECK_INTEQ(naming_check("project", "my_app-1", &err), 0);
  CHECK_INTEQ(naming_check("project", "my_app-1.x", &err), -22);
  stack_error_free(err);
  err = NULL;
  CHECK_INTEQ(naming_check("project", "MyApp", &err), -22);
  stack_error_free(err);
  err = NULL;
  CHECK_INTEQ(naming_check("container", "My_app-1.x", &err), 0);
  CHECK_INTEQ(naming_check("container", "a", &err), -22);
  stack_error_free(err);
  err = NULL;
  CHECK_INTEQ(naming_check("container", "../../tmp/x/victim", &err), -22);
  CHECK(err && strstr(err->msg, "invalid container name \"../../tmp/x/victim\""));
  stack_error_free(err);
  err = NULL;
  CHECK_INTEQ(naming_check("project", "-x", &err), -22);
  stack_error_free(err);
  err = NULL;
  CHECK_INTEQ(naming_check("project", "a/../b", &err), -22);
  stack_error_free(err);
  err = NULL;
  CHECK_INTEQ(naming_check("project", "", &err), -22);
  stack_error_free(err);
}

static void hash_of(const char *json, const char *image, char out[65]) {
  cJSON *j = cJSON_Parse(json);
  CHECK(j != NULL);
  struct stack_error *err = NULL;
  CHECK_INTEQ(config_hash(j, image, out, &err), 0);
  stack_error_free(err);
  cJSON_Delete(j);
}

static void test_hash(void) {
  char a[65], b[65], c[65], d[65], e[65];
  hash_of("{\"image\":\"busybox\",\"environment\":{\"A\":\"1\",\"B\":\"2\"}}", "sha256:x", a);
  CHECK_INTEQ(strlen(a), 64);
  /* key order does not matter; what Compose leaves out does not either */
  hash_of("{\"environment\":{\"B\":\"2\",\"A\":\"1\"},\"image\":\"busybox\",\"scale\":3,"
          "\"depends_on\":{\"db\":{}},\"profiles\":[\"x\"],\"build\":{\"context\":\".\"},"
          "\"pull_policy\":\"always\"}",
          "sha256:x", b);
  CHECK_STREQ(a, b);
  /* a changed environment, image or list order does */
  hash_of("{\"image\":\"busybox\",\"environment\":{\"A\":\"1\",\"B\":\"3\"}}", "sha256:x", c);
  CHECK(strcmp(a, c) != 0);
  hash_of("{\"image\":\"busybox\",\"environment\":{\"A\":\"1\",\"B\":\"2\"}}", "sha256:y", d);
  CHECK(strcmp(a, d) != 0);
  /* deploy.replicas is left out, other deploy keys are not */
  hash_of("{\"deploy\":{\"replicas\":2}}", NULL, a);
  hash_of("{\"deploy\":{\"replicas\":5}}", NULL, b);
  hash_of("{\"deploy\":{\"replicas\":5,\"resources\":{}}}", NULL, e);
  CHECK_STREQ(a, b);
  CHECK(strcmp(a, e) != 0);
  /* a nested "replicas" elsewhere counts */
  hash_of("{\"x\":{\"replicas\":1}}", NULL, a);
  hash_of("{\"x\":{\"replicas\":2}}", NULL, b);
  CHECK(strcmp(a, b) != 0);
  cJSON *arr = cJSON_CreateArray();
  struct stack_error *err = NULL;
  CHECK_INTEQ(config_hash(arr, NULL, a, &err), -22);
  stack_error_free(err);
  cJSON_Delete(arr);
}

int main(void) {
  test_names();
  test_replicas();
  test_hash();
  TEST_DONE();
}
