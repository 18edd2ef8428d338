#include "helper_busybox.h"

#include <stdlib.h>
#include <unistd.h>

#include "runtime/util/cleanup.h"
#include "runtime/util/fsutil.h"
#include "runtime/util/xalloc.h"

int busybox_tree(const char *root) {
  static const char *const applets[] = {"sh",   "echo", "cat", "sleep", "id",   "ip", "grep",
                                        "stty", "dd",   "wc",  "sync",  "true", NULL};
  _cleanup_free_ char *bin = xasprintf("%s/bin", root);
  _cleanup_free_ char *etc = xasprintf("%s/etc", root);
  if (fs_mkdir_p(bin, 0755, NULL) < 0 || fs_mkdir_p(etc, 0755, NULL) < 0)
    return -1;
  _cleanup_free_ char *bb = xasprintf("%s/busybox", bin);
  char *data = NULL;
  size_t len = 0;
  if (fs_read_file("/bin/busybox", 0, &data, &len, NULL) < 0)
    return -1;
  int r = fs_write_file_atomic(bb, data, len, 0755, NULL);
  free(data);
  for (int i = 0; r == 0 && applets[i]; i++) {
    _cleanup_free_ char *l = xasprintf("%s/%s", bin, applets[i]);
    r = symlink("busybox", l);
  }
  _cleanup_free_ char *pw = xasprintf("%s/passwd", etc);
  if (r == 0)
    r = fs_write_file_atomic(pw, "root:x:0:0:root:/root:/bin/sh\n", 30, 0644, NULL);
  return r;
}
