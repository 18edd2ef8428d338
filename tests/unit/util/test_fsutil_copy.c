/* fs_copy_sparse(): data extents copied, holes kept, within a file system
 * and across two (disk to tmpfs, where some kernels refuse copy_file_range
 * and the buffered copy takes over); an existing target is refused. */
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "runtime/util/error.h"
#include "runtime/util/fsutil.h"
#include "test.h"

#define SIZE (64LL << 20)

static void make_sparse(const char *path) {
  int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0600);
  CHECK(fd >= 0);
  CHECK(ftruncate(fd, SIZE) == 0);
  CHECK(pwrite(fd, "head", 4, 0) == 4);
  char block[8192];
  memset(block, 0xab, sizeof block);
  CHECK(pwrite(fd, block, sizeof block, 32LL << 20) == (ssize_t)sizeof block);
  CHECK(pwrite(fd, "tail", 4, SIZE - 4) == 4);
  close(fd);
}

static void check_copy(const char *src, const char *dst) {
  struct stack_error *err = NULL;
  unlink(dst);
  CHECK_MSG(fs_copy_sparse(src, dst, &err) == 0, "%s", err ? err->msg : "");
  stack_error_free(err);
  err = NULL;
  struct stat a, b;
  CHECK(stat(src, &a) == 0 && stat(dst, &b) == 0);
  CHECK(a.st_size == b.st_size);
  /* holes stay holes: a few blocks, not 64 MiB */
  CHECK_MSG(b.st_blocks * 512 < (4 << 20), "%lld bytes allocated", (long long)b.st_blocks * 512);
  int fa = open(src, O_RDONLY), fb = open(dst, O_RDONLY);
  char x[8192], y[8192];
  const long long offs[] = {0, (32LL << 20), SIZE - 8192, (16LL << 20)};
  for (size_t i = 0; i < sizeof offs / sizeof offs[0]; i++) {
    CHECK(pread(fa, x, sizeof x, offs[i]) == (ssize_t)sizeof x);
    CHECK(pread(fb, y, sizeof y, offs[i]) == (ssize_t)sizeof y);
    CHECK_MSG(memcmp(x, y, sizeof x) == 0, "differs at %lld", offs[i]);
  }
  close(fa);
  close(fb);
  /* an existing target is refused, and kept */
  CHECK(fs_copy_sparse(src, dst, &err) == -EEXIST);
  stack_error_free(err);
  CHECK(stat(dst, &b) == 0 && b.st_size == SIZE);
  unlink(dst);
}

int main(void) {
  char dir[] = "/tmp/stack-copy.XXXXXX";
  CHECK(mkdtemp(dir) != NULL);
  char src[64], dst[64];
  snprintf(src, sizeof src, "%s/src", dir);
  snprintf(dst, sizeof dst, "%s/dst", dir);
  make_sparse(src);
  check_copy(src, dst);
  char shm[64];
  snprintf(shm, sizeof shm, "/dev/shm/stack-copy-%d", (int)getpid());
  if (access("/dev/shm", W_OK) == 0)
    check_copy(src, shm);
  unlink(src);
  rmdir(dir);
  TEST_DONE();
}
