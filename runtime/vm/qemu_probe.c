#include "runtime/vm/qemu_probe.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "runtime/image/blobstore.h"
#include "runtime/util/cleanup.h"
#include "runtime/util/error.h"
#include "runtime/util/fsutil.h"
#include "runtime/util/paths.h"
#include "runtime/util/xalloc.h"
#include "runtime/vm/qemu.h"

unsigned qemu_parse_version(const char *line) {
  static const char tag[] = "version ";
  const char *p = line ? strstr(line, tag) : NULL;
  if (p == NULL)
    return 0;
  p += sizeof tag - 1;
  unsigned v[3] = {0, 0, 0};
  for (int i = 0; i < 3; i++) {
    if (*p < '0' || *p > '9')
      return i >= 2 ? QEMU_VERSION(v[0], v[1], 0) : 0;
    unsigned n = 0;
    while (*p >= '0' && *p <= '9' && n < 1000)
      n = n * 10 + (unsigned)(*p++ - '0');
    if (n >= 100 && i > 0)
      return 0;
    v[i] = n;
    if (i < 2 && *p++ != '.')
      return i == 1 ? QEMU_VERSION(v[0], v[1], 0) : 0;
  }
  return QEMU_VERSION(v[0], v[1], v[2]);
}

unsigned qemu_probe_version(const char *path) {
  struct stat st;
  if (path == NULL || stat(path, &st) < 0)
    return 0;
  _cleanup_free_ char *id = xasprintf("%s:%lld:%lld.%09ld:%llu", path, (long long)st.st_size,
                                      (long long)st.st_mtim.tv_sec, st.st_mtim.tv_nsec,
                                      (unsigned long long)st.st_ino);
  _cleanup_free_ char *digest = blobstore_digest_of(id, strlen(id));
  _cleanup_free_ char *cache = stack_cache_dir();
  _cleanup_free_ char *dir = fs_path_join(cache, "qemu");
  /* "sha256:" + 16 of its hex digits */
  _cleanup_free_ char *file = xasprintf("%s/%.16s", dir, digest + 7);
  _cleanup_free_ char *text = NULL;
  if (fs_read_file(file, 256, &text, NULL, NULL) == 0) {
    unsigned v = (unsigned)strtoul(text, NULL, 10);
    if (v)
      return v;
  }
  _cleanup_free_ char *line = NULL;
  _cleanup_error_ struct stack_error *e = NULL;
  if (qemu_version(path, &line, &e) < 0)
    return 0;
  unsigned v = qemu_parse_version(line);
  if (v == 0)
    return 0;
  /* a cache that cannot be written is asked again next time */
  _cleanup_free_ char *out = xasprintf("%u %s\n", v, line);
  if (fs_mkdir_p(dir, 0755, NULL) == 0)
    fs_write_file_atomic(file, out, strlen(out), 0644, NULL);
  return v;
}
