/* fs_space.h: when a file system has room again, and where it is
 * mounted (for messages). */
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "runtime/util/fs_space.h"
#include "test.h"

#define MIB (1ull << 20)

static void test_room(void) {
  /* 2 % of the file system, at least 1 MiB, at most 64 MiB */
  struct fs_space s = {.avail = 0, .size = 100 * MIB};
  CHECK(!fs_space_room(&s));
  s.avail = 1 * MIB;
  CHECK(!fs_space_room(&s));
  s.avail = 2 * MIB;
  CHECK(fs_space_room(&s));
  s = (struct fs_space){.avail = MIB - 1, .size = 10 * MIB};
  CHECK(!fs_space_room(&s));
  s.avail = MIB;
  CHECK(fs_space_room(&s));
  s = (struct fs_space){.avail = 63 * MIB, .size = 1000000 * MIB};
  CHECK(!fs_space_room(&s));
  s.avail = 64 * MIB;
  CHECK(fs_space_room(&s));
  s = (struct fs_space){.avail = 0, .size = 0};
  CHECK(!fs_space_room(&s));
}

static void test_get(void) {
  struct fs_space s;
  CHECK_INTEQ(fs_space_get("/", true, &s, NULL), 0);
  CHECK(s.size > 0 && s.avail <= s.size);
  struct fs_space u;
  CHECK_INTEQ(fs_space_get("/", false, &u, NULL), 0);
  /* the reserved blocks only add (the file system may change meanwhile) */
  CHECK(u.size == s.size);
  CHECK(fs_space_get("/no/such/dir", false, &s, NULL) < 0);
}

static void test_mount_point(void) {
  char *m = fs_mount_point("/proc/self/status");
  CHECK_STREQ(m, "/proc");
  free(m);
  m = fs_mount_point("/proc");
  CHECK_STREQ(m, "/proc");
  free(m);
  m = fs_mount_point("/");
  CHECK_STREQ(m, "/");
  free(m);
  /* a file that does not exist: its directory's file system */
  m = fs_mount_point("/proc/no-such-file");
  CHECK_STREQ(m, "/proc");
  free(m);
  /* /dev/shm is its own tmpfs where it exists */
  struct stat a, b;
  if (stat("/dev/shm", &a) == 0 && stat("/dev", &b) == 0 && a.st_dev != b.st_dev) {
    m = fs_mount_point("/dev/shm/x");
    CHECK_STREQ(m, "/dev/shm");
    free(m);
  }
}

int main(void) {
  test_room();
  test_get();
  test_mount_point();
  TEST_DONE();
}
