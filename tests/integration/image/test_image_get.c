/* image_get() on images loaded from the offline busybox test archive
 * (tests/images/build.sh): config parsed, root disk built once (also by
 * concurrent processes), passes e2fsck and boots-relevant content is there
 * when loop-mounted; pull policy "never" on a missing image is a clear
 * error. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "runtime/image/image.h"
#include "runtime/util/cleanup.h"
#include "runtime/util/error.h"
#include "runtime/util/fsutil.h"
#include "runtime/util/xalloc.h"
#include "helper_scratch.h"
#include "test.h"

static bool has(char **v, const char *s) {
  for (; v && *v; v++)
    if (strcmp(*v, s) == 0)
      return true;
  return false;
}

int main(void) {
  const char *src = getenv("STACK_SOURCE_DIR");
  if (src == NULL)
    TEST_SKIP("STACK_SOURCE_DIR is not set (run through ctest)");
  if (access("/bin/busybox", X_OK) != 0)
    TEST_SKIP("busybox-static is not installed");
  if (geteuid() != 0)
    TEST_SKIP("needs root for the loop mount");
  const char *tmpdir = scratch_init("image-get");
  const char *mnt = scratch_mnt();
  _cleanup_free_ char *cache = fs_path_join(tmpdir, "cache");
  _cleanup_free_ char *root = fs_path_join(tmpdir, "root");
  _cleanup_free_ char *build =
      xasprintf("STACK_CACHE_DIR=%s bash %s/tests/images/build.sh >/dev/null", cache, src);
  if (scratch_run(build) != 0) {
    CHECK_MSG(0, "tests/images/build.sh failed");
    TEST_DONE();
  }
  _cleanup_free_ char *archive = xasprintf("%s/test-images/busybox.tar", cache);
  _cleanup_error_ struct stack_error *e = NULL;
  _cleanup_strv_ char **loaded = NULL;
  int r = image_load(root, archive, &loaded, &e);
  CHECK_MSG(r == 0, "%s", e ? e->msg : "");
  CHECK(has(loaded, "docker.io/library/busybox:latest"));
  CHECK(has(loaded, "docker.io/library/busybox:zstd"));
  CHECK(has(loaded, "docker.io/library/busybox:plain"));

  struct image_get_opts never = {NULL, IMAGE_PULL_NEVER, true};
  struct image_handle *h = NULL;
  r = image_get(root, "nosuch:1", &never, &h, &e);
  CHECK(r == -ENOENT);
  CHECK(e && strstr(e->msg, "docker.io/library/nosuch:1") && strstr(e->msg, "never"));

  /* Stored for amd64: asking for arm64 without pulling is an error. */
  struct image_get_opts arm = {"linux/arm64", IMAGE_PULL_NEVER, true};
  r = image_get(root, "busybox:latest", &arm, &h, &e);
  CHECK(r == -ENOENT);
  CHECK(e && strstr(e->msg, "another platform"));

  /* Three processes want the same root disk at once: one builds, all get it. */
  for (int i = 0; i < 3; i++) {
    pid_t pid = fork();
    if (pid == 0) {
      struct image_handle *ch = NULL;
      _exit(image_get(root, "busybox:latest", &never, &ch, NULL) == 0 ? 0 : 1);
    }
  }
  for (int i = 0; i < 3; i++) {
    int st = 0;
    CHECK(wait(&st) > 0 && WIFEXITED(st) && WEXITSTATUS(st) == 0);
  }

  r = image_get(root, "busybox:latest", &never, &h, &e);
  CHECK_MSG(r == 0, "%s", e ? e->msg : "");
  if (r != 0)
    TEST_DONE();
  CHECK_STREQ(h->ref, "docker.io/library/busybox:latest");
  CHECK(h->config.cmd && strcmp(h->config.cmd[0], "sh") == 0);
  CHECK(h->config.env && strncmp(h->config.env[0], "PATH=", 5) == 0);
  CHECK_STREQ(h->config.architecture, "amd64");
  CHECK(fs_exists(h->rootfs_path));
  _cleanup_free_ char *rootfs_dir = fs_path_join(root, "rootfs");
  _cleanup_free_ char *leftovers = xasprintf("ls %s | grep -v '\\.ext4$'", rootfs_dir);
  CHECK_MSG(scratch_run(leftovers) != 0, "temp or lock files left in %s", rootfs_dir);

  _cleanup_free_ char *fsck = xasprintf("e2fsck -fn %s >/dev/null 2>&1", h->rootfs_path);
  CHECK_INTEQ(scratch_run(fsck), 0);
  if (scratch_mount(h->rootfs_path) == 0) {
    char p[512];
    struct stat st;
    snprintf(p, sizeof(p), "%s/bin/busybox", mnt);
    CHECK(lstat(p, &st) == 0 && S_ISREG(st.st_mode) && (st.st_mode & 0111));
    snprintf(p, sizeof(p), "%s/bin/sh", mnt);
    CHECK(lstat(p, &st) == 0 && S_ISLNK(st.st_mode));
    snprintf(p, sizeof(p), "%s/tmp", mnt);
    CHECK(lstat(p, &st) == 0 && st.st_mode == (S_IFDIR | 01777));
    _cleanup_free_ char *sh = xasprintf("chroot %s /bin/sh -c 'echo hi' | grep -qx hi", mnt);
    CHECK_MSG(scratch_run(sh) == 0, "busybox in the image does not run");
    scratch_umount();
  } else {
    CHECK_MSG(0, "cannot loop-mount %s", h->rootfs_path);
  }
  image_handle_free(h);

  /* zstd and uncompressed layers give the same tree and so work too. */
  const char *variants[] = {"busybox:zstd", "busybox:plain"};
  for (int i = 0; i < 2; i++) {
    h = NULL;
    r = image_get(root, variants[i], &never, &h, &e);
    CHECK_MSG(r == 0, "%s: %s", variants[i], e ? e->msg : "");
    CHECK(h && fs_exists(h->rootfs_path));
    image_handle_free(h);
  }
  TEST_DONE();
}
