/* image_get() against a real registry (Debian's docker-registry on
 * 127.0.0.1, tests/lib/registry.sh): a missing image is pulled and its root
 * disk built; "never" then works offline; "always" pulls again. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "helper_scratch.h"
#include "runtime/image/image.h"
#include "runtime/util/cleanup.h"
#include "runtime/util/error.h"
#include "runtime/util/fsutil.h"
#include "runtime/util/xalloc.h"
#include "test.h"

static char *stop_cmd;

static void stop_registry(void) {
  if (stop_cmd)
    scratch_run(stop_cmd);
}

int main(void) {
  const char *src = getenv("STACK_SOURCE_DIR");
  if (src == NULL)
    TEST_SKIP("STACK_SOURCE_DIR is not set (run through ctest)");
  if (scratch_run("command -v docker-registry >/dev/null && command -v skopeo >/dev/null") != 0)
    TEST_SKIP("docker-registry or skopeo is not installed");
  const char *tmp = scratch_init("image-get-pull");
  _cleanup_free_ char *regdir = fs_path_join(tmp, "registry");
  _cleanup_free_ char *root = fs_path_join(tmp, "root");
  _cleanup_free_ char *home = fs_path_join(tmp, "home");
  _cleanup_free_ char *config = fs_path_join(tmp, "config.json");
  setenv("HOME", home, 1);
  setenv("STACK_CONFIG", config, 1);
  setenv("STACK_CACHE_DIR", tmp, 1);
  stop_cmd = xasprintf("bash %s/tests/lib/registry.sh stop %s >/dev/null 2>&1", src, regdir);
  atexit(stop_registry); /* registered after the scratch cleanup: runs first */

  _cleanup_free_ char *start =
      xasprintf("bash %s/tests/lib/registry.sh start plain %s > %s/registry.env", src, regdir, tmp);
  if (scratch_run(start) != 0) {
    CHECK_MSG(0, "cannot start the test registry");
    TEST_DONE();
  }
  _cleanup_free_ char *envfile = xasprintf("%s/registry.env", tmp);
  _cleanup_free_ char *env = NULL;
  CHECK(fs_read_file(envfile, 0, &env, NULL, NULL) == 0);
  char *line = env ? strstr(env, "REGISTRY=") : NULL;
  if (line == NULL) {
    CHECK_MSG(0, "no REGISTRY= in %s", envfile);
    TEST_DONE();
  }
  _cleanup_free_ char *registry = xstrndup(line + 9, strcspn(line + 9, "\n"));
  _cleanup_free_ char *ref = xasprintf("%s/busybox:latest", registry);

  _cleanup_error_ struct stack_error *e = NULL;
  struct image_get_opts missing = {NULL, IMAGE_PULL_MISSING, true};
  struct image_handle *h = NULL;
  int r = image_get(root, ref, &missing, &h, &e);
  CHECK_MSG(r == 0, "%s", e ? e->msg : "");
  if (r != 0)
    TEST_DONE();
  CHECK_STREQ(h->ref, ref);
  CHECK(h->config.cmd && strcmp(h->config.cmd[0], "sh") == 0);
  CHECK(fs_exists(h->rootfs_path));
  _cleanup_free_ char *fsck = xasprintf("e2fsck -fn %s >/dev/null 2>&1", h->rootfs_path);
  CHECK_INTEQ(scratch_run(fsck), 0);
  _cleanup_free_ char *first_disk = xstrdup(h->rootfs_path);
  image_handle_free(h);

  /* Cached: no registry needed. */
  stop_registry();
  struct image_get_opts never = {NULL, IMAGE_PULL_NEVER, true};
  h = NULL;
  r = image_get(root, ref, &never, &h, &e);
  CHECK_MSG(r == 0, "%s", e ? e->msg : "");
  CHECK(h && strcmp(h->rootfs_path, first_disk) == 0);
  image_handle_free(h);

  /* "always" must go to the registry, which is gone now: a clear error. */
  struct image_get_opts always = {NULL, IMAGE_PULL_ALWAYS, true};
  h = NULL;
  r = image_get(root, ref, &always, &h, &e);
  CHECK(r < 0);
  CHECK(e && strstr(e->msg, registry));
  TEST_DONE();
}
