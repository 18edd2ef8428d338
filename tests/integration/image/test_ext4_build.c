/* Layers -> tree -> ext4: the image passes `e2fsck -fn` and, mounted
 * read-only on a loop device, holds exactly the expected tree (modes, owners,
 * links, devices, xattrs, whiteouts applied). */
#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <sys/xattr.h>
#include <unistd.h>

#include "runtime/image/ext4_build.h"
#include "runtime/image/layer_tree.h"
#include "runtime/util/cleanup.h"
#include "runtime/util/error.h"
#include "runtime/util/fsutil.h"
#include "runtime/util/xalloc.h"
#include "helper_scratch.h"
#include "tar_build.h"
#include "test.h"

#define E(...) (&(struct tb_entry){__VA_ARGS__})
#define MANY 3000

static const char *mnt;

static char *big_data(size_t n) {
  char *d = xmalloc(n + 1);
  uint32_t x = 12345;
  for (size_t i = 0; i < n; i++) {
    x = x * 1103515245 + 12345;
    d[i] = (char)('a' + (x >> 16) % 26);
  }
  d[n] = '\0';
  return d;
}

static const char *long_target =
    "/usr/lib/x86_64-linux-gnu/a-very-long-symlink-target-that-needs-its-own-block/x";

static void build_layers(struct layer_tree *t, const char *big) {
  _cleanup_error_ struct stack_error *e = NULL;
  struct tar_build b;
  tb_open(&b, TB_GZIP);
  tb_add(&b, E(.path = "./", .type = AE_IFDIR, .perm = 0755));
  tb_add(&b, E(.path = "etc/", .type = AE_IFDIR));
  tb_add(&b, E(.path = "etc/passwd", .type = AE_IFREG, .data = "root:x:0:0\n"));
  tb_add(&b, E(.path = "etc/gone", .type = AE_IFREG, .data = "x"));
  tb_add(&b, E(.path = "opq/a", .type = AE_IFREG, .data = "a"));
  tb_add(&b, E(.path = "opq/sub/b", .type = AE_IFREG, .data = "b"));
  tb_add(&b, E(.path = "bin/busybox", .type = AE_IFREG, .perm = 04755, .uid = 1000, .gid = 70000,
               .data = "#!busybox"));
  tb_add(&b, E(.path = "bin/ls", .hardlink = "bin/busybox"));
  tb_add(&b, E(.path = "usr/bin", .type = AE_IFLNK, .symlink = "/bin"));
  tb_add(&b, E(.path = "usr/long", .type = AE_IFLNK, .symlink = long_target));
  tb_add(&b, E(.path = "dev/null", .type = AE_IFCHR, .perm = 0666, .dev_major = 1, .dev_minor = 3));
  tb_add(&b, E(.path = "dev/sda", .type = AE_IFBLK, .perm = 0660, .dev_major = 8, .dev_minor = 300));
  tb_add(&b, E(.path = "fifo", .type = AE_IFIFO, .perm = 0600));
  tb_add(&b, E(.path = "xattr", .type = AE_IFREG, .data = "x", .xattr_name = "user.k",
               .xattr_value = "value"));
  tb_add(&b, E(.path = "big", .type = AE_IFREG, .data = big));
  tb_add(&b, E(.path = "empty", .type = AE_IFREG, .data = ""));
  for (int i = 0; i < MANY; i++) {
    char p[64];
    snprintf(p, sizeof(p), "many/file-with-a-longish-name-%05d", i);
    tb_add(&b, E(.path = p, .type = AE_IFREG, .data = "m"));
  }
  tb_close(&b);
  CHECK(layer_tree_apply_memory(t, b.buf, b.used, "layer1", &e) == 0);
  tb_free(&b);

  tb_open(&b, TB_PLAIN);
  tb_add(&b, E(.path = "etc/.wh.gone", .type = AE_IFREG, .data = ""));
  tb_add(&b, E(.path = "opq/c", .type = AE_IFREG, .data = "c"));
  tb_add(&b, E(.path = "opq/.wh..wh..opq", .type = AE_IFREG, .data = ""));
  tb_add(&b, E(.path = "usr/bin/new", .type = AE_IFREG, .data = "new"));
  tb_add(&b, E(.path = "dir700", .type = AE_IFDIR, .perm = 0700, .uid = 5, .gid = 6));
  tb_close(&b);
  CHECK(layer_tree_apply_memory(t, b.buf, b.used, "layer2", &e) == 0);
  if (e)
    fprintf(stderr, "%s\n", e->msg);
  tb_free(&b);
}

static const char *expected[] = {
    "/bin", "/bin/busybox", "/bin/ls", "/bin/new", "/big", "/dev", "/dev/null", "/dev/sda",
    "/dir700", "/empty", "/etc", "/etc/passwd", "/fifo", "/many", "/opq",
    "/opq/c", "/usr", "/usr/bin", "/usr/long", "/xattr", NULL};
static int seen_count, unexpected;

static int visit(const char *path, const struct stat *st, int flag, struct FTW *f) {
  (void)st;
  (void)flag;
  const char *rel = path + strlen(mnt);
  if (rel[0] == '\0' || strncmp(rel, "/many/", 6) == 0)
    return 0;
  for (const char **p = expected; *p; p++)
    if (strcmp(*p, rel) == 0) {
      seen_count++;
      return 0;
    }
  fprintf(stderr, "unexpected path in the image: %s\n", rel);
  unexpected++;
  (void)f;
  return 0;
}

static void check_mounted(const char *big) {
  char p[512];
  struct stat st;
  _cleanup_free_ char *data = NULL;
#define AT(rel) (snprintf(p, sizeof(p), "%s/%s", mnt, rel), p)
  CHECK(fs_read_file(AT("etc/passwd"), 0, &data, NULL, NULL) == 0 && strcmp(data, "root:x:0:0\n") == 0);
  free(data);
  data = NULL;
  CHECK(fs_read_file(AT("big"), 0, &data, NULL, NULL) == 0 && strcmp(data, big) == 0);
  CHECK(lstat(AT("bin/busybox"), &st) == 0 && st.st_mode == (S_IFREG | 04755) &&
        st.st_uid == 1000 && st.st_gid == 70000 && st.st_nlink == 2 && st.st_size == 9 &&
        st.st_mtime == 1700000000);
  ino_t bb = st.st_ino;
  CHECK(lstat(AT("bin/ls"), &st) == 0 && st.st_ino == bb);
  char link[256] = {0};
  CHECK(readlink(AT("usr/bin"), link, sizeof(link) - 1) == 4 && strcmp(link, "/bin") == 0);
  memset(link, 0, sizeof(link));
  CHECK(readlink(AT("usr/long"), link, sizeof(link) - 1) == (ssize_t)strlen(long_target) &&
        strcmp(link, long_target) == 0);
  CHECK(lstat(AT("dev/null"), &st) == 0 && S_ISCHR(st.st_mode) && (st.st_mode & 07777) == 0666 &&
        major(st.st_rdev) == 1 && minor(st.st_rdev) == 3);
  CHECK(lstat(AT("dev/sda"), &st) == 0 && S_ISBLK(st.st_mode) && major(st.st_rdev) == 8 &&
        minor(st.st_rdev) == 300);
  CHECK(lstat(AT("fifo"), &st) == 0 && st.st_mode == (S_IFIFO | 0600));
  CHECK(lstat(AT("dir700"), &st) == 0 && st.st_mode == (S_IFDIR | 0700) && st.st_uid == 5 &&
        st.st_gid == 6);
  CHECK(lstat(AT("empty"), &st) == 0 && st.st_size == 0);
  char xv[32] = {0};
  CHECK(lgetxattr(AT("xattr"), "user.k", xv, sizeof(xv)) == 5 && strcmp(xv, "value") == 0);
  CHECK(lstat(AT("many/file-with-a-longish-name-02999"), &st) == 0 && st.st_size == 1);
  CHECK(lstat(AT("many"), &st) == 0 && st.st_nlink == 2);
  CHECK(lstat(AT("opq/a"), &st) < 0 && errno == ENOENT);
  CHECK(lstat(AT("etc/gone"), &st) < 0 && errno == ENOENT);
  CHECK(nftw(mnt, visit, 32, FTW_PHYS) == 0);
  CHECK_INTEQ(unexpected, 0);
  CHECK_INTEQ(seen_count, sizeof(expected) / sizeof(expected[0]) - 1);
  int n = 0;
  _cleanup_closedir_ DIR *d = opendir(AT("many"));
  for (struct dirent *de; d && (de = readdir(d));)
    n += de->d_name[0] != '.';
  CHECK_INTEQ(n, MANY);
#undef AT
}

int main(void) {
  if (geteuid() != 0)
    TEST_SKIP("needs root for the loop mount");
  if (scratch_run("command -v e2fsck >/dev/null") != 0)
    TEST_SKIP("e2fsck (e2fsprogs) is not installed");
  const char *tmpdir = scratch_init("ext4");
  mnt = scratch_mnt();
  _cleanup_free_ char *img = fs_path_join(tmpdir, "root.ext4");
  _cleanup_free_ char *big = big_data(5 * 1024 * 1024 + 123);

  struct layer_tree *t = NULL;
  _cleanup_error_ struct stack_error *e = NULL;
  CHECK(layer_tree_new(&t, &e) == 0);
  build_layers(t, big);
  int r = ext4_build(t, img, &e);
  CHECK_MSG(r == 0, "%s", e ? e->msg : "");
  layer_tree_free(t);
  if (r != 0)
    TEST_DONE();

  _cleanup_free_ char *fsck = xasprintf("e2fsck -fn %s", img);
  CHECK_INTEQ(scratch_run(fsck), 0);

  if (scratch_mount(img) != 0) {
    CHECK_MSG(0, "cannot loop-mount %s", img);
    TEST_DONE();
  }
  check_mounted(big);
  scratch_umount();
  TEST_DONE();
}
