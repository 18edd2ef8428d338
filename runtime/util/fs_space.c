#include "fs_space.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/statvfs.h>

#include "error.h"
#include "xalloc.h"

#define ROOM_MIN (1ull << 20)
#define ROOM_MAX (64ull << 20)

int fs_space_get(const char *path, bool reserved, struct fs_space *out,
                 struct stack_error **err) {
  struct statvfs st;
  if (statvfs(path, &st) < 0)
    return stack_error_errno(err, -errno, "cannot read the free space under %s", path);
  uint64_t unit = st.f_frsize ? st.f_frsize : st.f_bsize;
  out->avail = (uint64_t)(reserved ? st.f_bfree : st.f_bavail) * unit;
  out->size = (uint64_t)st.f_blocks * unit;
  return 0;
}

bool fs_space_room(const struct fs_space *s) {
  uint64_t want = s->size / 50;
  if (want > ROOM_MAX)
    want = ROOM_MAX;
  if (want < ROOM_MIN)
    want = ROOM_MIN;
  return s->avail >= want;
}

char *fs_mount_point(const char *path) {
  char *p = xstrdup(path);
  struct stat st;
  if (stat(p, &st) < 0 || !S_ISDIR(st.st_mode)) {
    char *slash = strrchr(p, '/');
    if (slash == NULL) {
      free(p);
      return xstrdup(".");
    }
    *(slash == p ? slash + 1 : slash) = '\0';
    if (stat(p, &st) < 0)
      return p;
  }
  dev_t dev = st.st_dev;
  /* climb while the parent is on the same device */
  for (;;) {
    char *slash = strrchr(p, '/');
    if (slash == NULL || (slash == p && p[1] == '\0'))
      return p;
    char keep = slash == p ? slash[1] : slash[0];
    if (slash == p)
      slash[1] = '\0';
    else
      slash[0] = '\0';
    struct stat up;
    if (stat(p, &up) < 0 || up.st_dev != dev) {
      if (slash == p)
        slash[1] = keep;
      else
        slash[0] = keep;
      return p;
    }
  }
}
