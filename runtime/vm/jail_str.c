#include "runtime/vm/jail_str.h"

#include <fcntl.h>
#include <string.h>

int js_write_file(const char *path, const char *s) {
  int fd = open(path, O_WRONLY | O_CLOEXEC);
  if (fd < 0)
    return -errno;
  size_t n = strlen(s);
  ssize_t w;
  do
    w = write(fd, s, n);
  while (w < 0 && errno == EINTR);
  int e = w < 0 ? errno : (size_t)w == n ? 0 : EIO;
  close(fd);
  return -e;
}

void js_report(const char *what, const char *path, int e) {
  char num[21];
  const char *name = strerrorname_np(e);
  js_write(2, "stack: QEMU's jail: ");
  js_write(2, what);
  if (path) {
    js_write(2, " ");
    js_write(2, path);
  }
  js_write(2, ": ");
  js_write(2, name ? name : "errno ");
  if (!name)
    js_write(2, js_u64(num, (uint64_t)e));
  js_write(2, "\n");
}
