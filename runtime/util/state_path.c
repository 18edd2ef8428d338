#include "state_path.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <linux/openat2.h>
#include <stdbool.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "cleanup.h"
#include "error.h"
#include "fsutil.h"
#include "sbuf.h"
#include "xalloc.h"

/* what an error shows of a name: enough to recognise it, not megabytes */
#define SHOWN 80

int state_component_check(const char *what, const char *name, struct stack_error **err) {
  size_t len = strlen(name);
  const char *more = len > SHOWN ? "..." : "";
  if (len == 0)
    return stack_error_set(err, -EINVAL, "invalid %s \"\": it is empty", what);
  if (len > NAME_MAX)
    return stack_error_set(err, -ENAMETOOLONG,
                           "invalid %s \"%.*s%s\": %zu bytes, longer than a file name may be "
                           "(%d)",
                           what, SHOWN, name, more, len, NAME_MAX);
  if (strcmp(name, ".") == 0 || strcmp(name, "..") == 0 || strchr(name, '/'))
    return stack_error_set(err, -EINVAL,
                           "invalid %s \"%.*s%s\": it must be a plain name (no '/', not \".\" "
                           "or \"..\")",
                           what, SHOWN, name, more);
  return 0;
}

static int check_parts(const char *base, const char *const *parts, struct stack_error **err) {
  if (base == NULL || *base == '\0' || parts == NULL || parts[0] == NULL)
    return stack_error_set(err, -EINVAL, "internal error: a state path needs a base and a name");
  for (const char *const *p = parts; *p; p++) {
    int r = state_component_check("name in a state path", *p, err);
    if (r < 0)
      return stack_error_prefix(err, "under %s", base);
  }
  return 0;
}

static char *rel_of(const char *const *parts) {
  struct sbuf b = SBUF_INIT;
  for (const char *const *p = parts; *p; p++)
    sbuf_printf(&b, "%s%s", p == parts ? "" : "/", *p);
  return sbuf_steal(&b);
}

int state_path_join(const char *base, const char *const *parts, char **out,
                    struct stack_error **err) {
  *out = NULL;
  int r = check_parts(base, parts, err);
  if (r < 0)
    return r;
  _cleanup_free_ char *rel = rel_of(parts);
  size_t bl = strlen(base);
  while (bl > 0 && base[bl - 1] == '/')
    bl--; /* "/" joins as "" + "/x" */
  char *p = xasprintf("%.*s/%s", (int)bl, base, rel);
  if (strlen(p) >= PATH_MAX) {
    r = stack_error_set(err, -ENAMETOOLONG, "the path under %s for %s is longer than %d bytes",
                        base, parts[0], PATH_MAX);
    free(p);
    return r;
  }
  *out = p;
  return 0;
}

/* rel (checked components) opened beneath dirfd with no symlink; the
 * descriptor or -errno.  Kernels before 5.6 have no openat2: then one
 * component at a time with O_NOFOLLOW, which refuses the same paths (no
 * component is "..", so the walk cannot climb). */
static int open_beneath(int dirfd, const char *rel, int flags, mode_t mode) {
  struct open_how how = {
      .flags = (unsigned long long)(flags | O_CLOEXEC),
      .mode = flags & (O_CREAT | O_TMPFILE) ? mode : 0,
      .resolve = RESOLVE_BENEATH | RESOLVE_NO_SYMLINKS | RESOLVE_NO_MAGICLINKS,
  };
  long fd = syscall(SYS_openat2, dirfd, rel, &how, sizeof(how));
  if (fd >= 0)
    return (int)fd;
  if (errno != ENOSYS)
    return -errno;
  _cleanup_free_ char *copy = xstrdup(rel);
  int cur = dirfd;
  char *save = NULL;
  for (char *c = strtok_r(copy, "/", &save), *next; c; c = next) {
    next = strtok_r(NULL, "/", &save);
    int nfd = next ? openat(cur, c, O_PATH | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC)
                   : openat(cur, c, flags | O_NOFOLLOW | O_CLOEXEC, mode);
    int e = errno;
    if (cur != dirfd)
      close(cur);
    if (nfd < 0)
      return -(e == ENOTDIR && next ? ELOOP : e);
    cur = nfd;
  }
  return cur;
}

static int fail_open(int r, const char *base, const char *rel, struct stack_error **err) {
  if (r == -ELOOP)
    return stack_error_set(err, r,
                           "refusing %s/%s: a symlink on the way (nothing under stack's state "
                           "may be a symlink; remove it)",
                           base, rel);
  if (r == -EXDEV)
    return stack_error_set(err, r, "refusing %s/%s: it leads outside %s", base, rel, base);
  return stack_error_errno(err, r, "cannot open %s/%s", base, rel);
}

int state_open(const char *base, const char *const *parts, int flags, mode_t mode,
               struct stack_error **err) {
  int r = check_parts(base, parts, err);
  if (r < 0)
    return r;
  _cleanup_close_ int dirfd = open(base, O_PATH | O_DIRECTORY | O_CLOEXEC);
  if (dirfd < 0)
    return stack_error_errno(err, -errno, "cannot open %s", base);
  _cleanup_free_ char *rel = rel_of(parts);
  int fd = open_beneath(dirfd, rel, flags, mode);
  return fd >= 0 ? fd : fail_open(fd, base, rel, err);
}

int state_mkdir(const char *base, const char *const *parts, mode_t mode,
                struct stack_error **err) {
  int r = check_parts(base, parts, err);
  if (r == 0)
    r = fs_mkdir_p(base, mode, err);
  if (r < 0)
    return r;
  _cleanup_close_ int dirfd = open(base, O_PATH | O_DIRECTORY | O_CLOEXEC);
  if (dirfd < 0)
    return stack_error_errno(err, -errno, "cannot open %s", base);
  _cleanup_free_ char *done = xstrdup(base);
  for (const char *const *p = parts; *p; p++) {
    char *next = xasprintf("%s/%s", done, *p);
    free(done);
    done = next;
    if (mkdirat(dirfd, *p, mode) < 0 && errno != EEXIST)
      return stack_error_errno(err, -errno, "cannot create directory %s", done);
    int fd = open_beneath(dirfd, *p, O_PATH | O_DIRECTORY, 0);
    if (fd < 0)
      return fd == -ELOOP || fd == -ENOTDIR
                 ? stack_error_set(err, fd,
                                   "refusing %s: it is a symlink or not a directory (nothing "
                                   "under stack's state may be a symlink; remove it)",
                                   done)
                 : stack_error_errno(err, fd, "cannot open %s", done);
    close(dirfd);
    dirfd = fd;
  }
  return 0;
}
