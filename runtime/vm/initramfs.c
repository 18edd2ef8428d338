/* Where the guest init's initramfs is (container.h). */
#include <errno.h>
#include <libgen.h>
#include <limits.h>
#include <stdlib.h>
#include <unistd.h>

#include "runtime/util/cleanup.h"
#include "runtime/util/error.h"
#include "runtime/util/xalloc.h"
#include "runtime/vm/container.h"
#include "runtime/vm/kernel.h"

int initramfs_find(char **out, struct stack_error **err) {
  const char *env = getenv("STACK_INITRAMFS");
  if (env && *env) {
    if (access(env, R_OK) < 0)
      return stack_error_errno(err, -errno, "STACK_INITRAMFS=%s", env);
    *out = xstrdup(env);
    return 0;
  }
  _cleanup_free_ char *conf = NULL;
  int r = stack_config_get_string("initramfs", &conf, err);
  if (r < 0)
    return r;
  if (conf) {
    if (access(conf, R_OK) < 0)
      return stack_error_errno(err, -errno, "initramfs %s (from the config file)", conf);
    *out = steal_pointer(&conf);
    return 0;
  }
  char exe[PATH_MAX];
  ssize_t n = readlink("/proc/self/exe", exe, sizeof exe - 1);
  if (n > 0) {
    exe[n] = 0;
    char *dir = dirname(exe);
    /* the build tree (the binary, or a test one level down), then an
     * installed prefix */
    const char *const rel[] = {"guest/initramfs.cpio", "../guest/initramfs.cpio",
                               "../lib/stack/initramfs.cpio"};
    for (size_t i = 0; i < sizeof rel / sizeof rel[0]; i++) {
      _cleanup_free_ char *p = xasprintf("%s/%s", dir, rel[i]);
      if (access(p, R_OK) == 0) {
        *out = steal_pointer(&p);
        return 0;
      }
    }
  }
  return stack_error_set(err, -ENOENT,
                         "the guest initramfs was not found next to the stack binary: build it "
                         "(cmake --build <dir> --target guest_initramfs) or set STACK_INITRAMFS");
}
