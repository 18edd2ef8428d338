#include "helper_tinyvm.h"

#include <archive.h>
#include <archive_entry.h>
#include <errno.h>
#include <libgen.h>
#include <spawn.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <sys/wait.h>

#include "runtime/util/cleanup.h"
#include "runtime/util/error.h"
#include "runtime/util/fsutil.h"
#include "runtime/util/xalloc.h"

extern char **environ;

static int compile_init(const char *out, struct stack_error **err) {
  _cleanup_free_ char *here = xstrdup(__FILE__);
  _cleanup_free_ char *src = xasprintf("%s/guest/tinyinit.c", dirname(here));
  char *argv[] = {"musl-gcc", "-static", "-O2", "-o", (char *)out, src, NULL};
  pid_t pid;
  int r = posix_spawnp(&pid, "musl-gcc", NULL, NULL, argv, environ);
  if (r != 0)
    return stack_error_errno(err, -r, "cannot run musl-gcc (install musl-tools)");
  int status = 0;
  while (waitpid(pid, &status, 0) < 0 && errno == EINTR)
    ;
  if (!WIFEXITED(status) || WEXITSTATUS(status) != 0)
    return stack_error_set(err, -EIO, "musl-gcc failed on %s", src);
  return 0;
}

static int add_entry(struct archive *a, const char *name, mode_t mode, dev_t rdev,
                     const char *data, size_t len) {
  struct archive_entry *e = archive_entry_new();
  archive_entry_set_pathname(e, name);
  archive_entry_set_mode(e, mode);
  archive_entry_set_rdev(e, rdev);
  archive_entry_set_size(e, (la_int64_t)len);
  int r = archive_write_header(a, e);
  if (r == ARCHIVE_OK && len)
    r = archive_write_data(a, data, len) == (la_ssize_t)len ? ARCHIVE_OK : ARCHIVE_FATAL;
  archive_entry_free(e);
  return r;
}

int tinyvm_build_initrd(const char *dir, char **initrd, struct stack_error **err) {
  _cleanup_free_ char *bin = xasprintf("%s/tinyinit", dir);
  int r = compile_init(bin, err);
  if (r < 0)
    return r;
  _cleanup_free_ char *data = NULL;
  size_t len = 0;
  if ((r = fs_read_file(bin, 0, &data, &len, err)) < 0)
    return r;
  _cleanup_free_ char *out = xasprintf("%s/initrd.cpio", dir);
  struct archive *a = archive_write_new();
  archive_write_set_format_cpio_newc(a);
  if (archive_write_open_filename(a, out) != ARCHIVE_OK ||
      add_entry(a, "dev", S_IFDIR | 0755, 0, NULL, 0) != ARCHIVE_OK ||
      add_entry(a, "dev/console", S_IFCHR | 0600, makedev(5, 1), NULL, 0) != ARCHIVE_OK ||
      add_entry(a, "init", S_IFREG | 0755, 0, data, len) != ARCHIVE_OK ||
      archive_write_close(a) != ARCHIVE_OK) {
    r = stack_error_set(err, -EIO, "%s: %s", out, archive_error_string(a));
    archive_write_free(a);
    return r;
  }
  archive_write_free(a);
  *initrd = steal_pointer(&out);
  return 0;
}
