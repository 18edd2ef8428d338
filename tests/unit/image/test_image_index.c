/* The image index: put/get/list/remove round trips and damaged records. */
#include <stdlib.h>
#include <string.h>

#include "runtime/image/image_index.h"
#include "runtime/util/cleanup.h"
#include "runtime/util/error.h"
#include "runtime/util/fsutil.h"
#include "runtime/util/xalloc.h"
#include "test.h"

#define D1 "sha256:1111111111111111111111111111111111111111111111111111111111111111"
#define D2 "sha256:2222222222222222222222222222222222222222222222222222222222222222"

int main(void) {
  char root[] = "/tmp/stack-test-index-XXXXXX";
  CHECK(mkdtemp(root) != NULL);
  _cleanup_error_ struct stack_error *e = NULL;

  struct image_record **all = NULL;
  CHECK(image_index_list(root, &all, &e) == 0);
  CHECK(all && all[0] == NULL);
  image_record_list_free(all);

  struct image_record r = {.ref = "docker.io/library/redis:latest", .manifest_digest = D1,
                           .config_digest = D2, .platform = "linux/amd64", .size = 1234,
                           .created = 1700000000};
  CHECK(image_index_put(root, &r, &e) == 0);
  struct image_record r2 = r;
  r2.ref = "127.0.0.1:5000/a/b@" D1;
  CHECK(image_index_put(root, &r2, &e) == 0);

  struct image_record *got = NULL;
  CHECK(image_index_get(root, "docker.io/library/redis:latest", &got, &e) == 0);
  CHECK(got && strcmp(got->config_digest, D2) == 0 && got->size == 1234 &&
        got->created == 1700000000 && strcmp(got->platform, "linux/amd64") == 0);
  image_record_free(got);

  CHECK(image_index_list(root, &all, &e) == 0);
  CHECK(all && all[0] && all[1] && !all[2]);
  CHECK_STREQ(all[0]->ref, "127.0.0.1:5000/a/b@" D1);
  image_record_list_free(all);

  got = NULL;
  CHECK(image_index_get(root, "nope:latest", &got, &e) == -ENOENT);
  CHECK(e && strstr(e->msg, "nope:latest"));

  struct image_record bad = r;
  bad.config_digest = "sha256:../../x";
  CHECK(image_index_put(root, &bad, NULL) == -EINVAL);

  CHECK(image_index_remove(root, "docker.io/library/redis:latest", &e) == 0);
  CHECK(image_index_remove(root, "docker.io/library/redis:latest", NULL) == -ENOENT);
  CHECK(image_index_get(root, "docker.io/library/redis:latest", &got, NULL) == -ENOENT);
  fs_rm_rf(root, NULL);
  TEST_DONE();
}
