#include "fsutil.h"

#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include "cleanup.h"
#include "error.h"
#include "xalloc.h"

int fs_read_fd(int fd, const char *what, size_t max_size, char **out, size_t *out_len,
               struct stack_error **err) {
  size_t cap = 0, len = 0;
  _cleanup_free_ char *buf = NULL;
  for (;;) {
    buf = xgrow(buf, &cap, len + 65536 + 1, 1);
    ssize_t n = read(fd, buf + len, cap - len - 1);
    if (n < 0) {
      if (errno == EINTR)
        continue;
      return stack_error_errno(err, -errno, "cannot read %s", what);
    }
    if (n == 0)
      break;
    len += (size_t)n;
    if (max_size && len > max_size)
      return stack_error_set(err, -EFBIG, "%s is larger than %zu bytes", what, max_size);
  }
  if (buf == NULL)
    buf = xmalloc(1);
  buf[len] = '\0';
  *out = steal_pointer(&buf);
  if (out_len)
    *out_len = len;
  return 0;
}

int fs_read_file(const char *path, size_t max_size, char **out, size_t *out_len,
                 struct stack_error **err) {
  _cleanup_close_ int fd = open(path, O_RDONLY | O_CLOEXEC);
  if (fd < 0)
    return stack_error_errno(err, -errno, "cannot open %s", path);
  return fs_read_fd(fd, path, max_size, out, out_len, err);
}

int fs_write_file_atomic(const char *path, const void *data, size_t len, mode_t mode,
                         struct stack_error **err) {
  _cleanup_free_ char *tmp = xasprintf("%s.tmp.%d", path, (int)getpid());
  _cleanup_close_ int fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, mode);
  if (fd < 0)
    return stack_error_errno(err, -errno, "cannot create %s", tmp);
  const char *p = data;
  while (len > 0) {
    ssize_t n = write(fd, p, len);
    if (n < 0) {
      if (errno == EINTR)
        continue;
      int r = -errno;
      unlink(tmp);
      return stack_error_errno(err, r, "cannot write %s", tmp);
    }
    p += n;
    len -= (size_t)n;
  }
  if (fsync(fd) < 0 || rename(tmp, path) < 0) {
    int r = -errno;
    unlink(tmp);
    return stack_error_errno(err, r, "cannot write %s", path);
  }
  return 0;
}

int fs_mkdir_p(const char *path, mode_t mode, struct stack_error **err) {
  _cleanup_free_ char *p = xstrdup(path);
  for (char *s = p + 1; *s; s++) {
    if (*s != '/')
      continue;
    *s = '\0';
    if (mkdir(p, mode) < 0 && errno != EEXIST)
      return stack_error_errno(err, -errno, "cannot create directory %s", p);
    *s = '/';
  }
  if (mkdir(p, mode) < 0 && errno != EEXIST)
    return stack_error_errno(err, -errno, "cannot create directory %s", p);
  return 0;
}

static int rm_one(const char *path, const struct stat *st, int flag, struct FTW *ftw) {
  (void)st;
  (void)flag;
  (void)ftw;
  if (remove(path) < 0 && errno != ENOENT)
    return -errno;
  return 0;
}

int fs_rm_rf(const char *path, struct stack_error **err) {
  struct stat st;
  if (lstat(path, &st) < 0)
    return errno == ENOENT ? 0 : stack_error_errno(err, -errno, "cannot stat %s", path);
  int r = nftw(path, rm_one, 64, FTW_DEPTH | FTW_PHYS);
  if (r != 0)
    return stack_error_errno(err, r < 0 ? r : -EIO, "cannot remove %s", path);
  return 0;
}

char *fs_path_join(const char *a, const char *b) {
  size_t la = strlen(a);
  while (la > 1 && a[la - 1] == '/')
    la--;
  while (*b == '/')
    b++;
  return xasprintf("%.*s/%s", (int)la, a, b);
}

int fs_lock_path(const char *path, int op, struct stack_error **err) {
  for (;;) {
    _cleanup_close_ int fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC | O_NOFOLLOW, 0600);
    if (fd < 0)
      return stack_error_errno(err, -errno, "cannot open %s", path);
    while (flock(fd, op) < 0)
      if (errno != EINTR)
        return stack_error_errno(err, -errno, "cannot lock %s", path);
    struct stat held, now;
    if (fstat(fd, &held) < 0)
      return stack_error_errno(err, -errno, "cannot stat %s", path);
    if (stat(path, &now) == 0 && now.st_dev == held.st_dev && now.st_ino == held.st_ino)
      return steal_fd(&fd);
  }
}

int fs_exists(const char *path) {
  struct stat st;
  return lstat(path, &st) == 0;
}

char *fs_which(const char *name) {
  if (strchr(name, '/'))
    return xstrdup(name);
  const char *path = getenv("PATH");
  if (!path || !*path)
    path = "/usr/bin:/bin";
  _cleanup_free_ char *copy = xstrdup(path);
  char *save = NULL;
  for (char *d = strtok_r(copy, ":", &save); d; d = strtok_r(NULL, ":", &save)) {
    char *p = xasprintf("%s/%s", *d ? d : ".", name);
    struct stat st;
    if (stat(p, &st) == 0 && S_ISREG(st.st_mode) && access(p, X_OK) == 0)
      return p;
    free(p);
  }
  return NULL;
}

static int fd_pwrite_all(int fd, const char *p, size_t n, off_t off) {
  while (n > 0) {
    ssize_t w = pwrite(fd, p, n, off);
    if (w < 0 && errno == EINTR)
      continue;
    if (w <= 0)
      return -1;
    p += w;
    n -= (size_t)w;
    off += w;
  }
  return 0;
}

int fs_copy_sparse(const char *src, const char *dst, struct stack_error **err) {
  const size_t bufsize = 1 << 16;
  _cleanup_free_ char *buf = NULL; /* only when the kernel cannot copy */
  _cleanup_close_ int in = open(src, O_RDONLY | O_CLOEXEC);
  if (in < 0)
    return stack_error_errno(err, -errno, "cannot open %s", src);
  struct stat st;
  if (fstat(in, &st) < 0)
    return stack_error_errno(err, -errno, "stat %s", src);
  if (!S_ISREG(st.st_mode))
    return stack_error_set(err, -EINVAL, "%s is not a regular file", src);
  _cleanup_close_ int out = open(dst, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
  if (out < 0)
    return stack_error_errno(err, -errno, "cannot create %s", dst);
  int r = 0;
  if (ftruncate(out, st.st_size) < 0) {
    r = stack_error_errno(err, -errno, "cannot size %s", dst);
    goto fail;
  }
  off_t pos = 0;
  bool in_kernel = true;
  while (pos < st.st_size) {
    off_t data = lseek(in, pos, SEEK_DATA);
    if (data < 0 && errno == ENXIO)
      break; /* only a hole is left */
    if (data < 0) {
      r = stack_error_errno(err, -errno, "seek in %s", src);
      goto fail;
    }
    off_t hole = lseek(in, data, SEEK_HOLE);
    if (hole < 0) {
      r = stack_error_errno(err, -errno, "seek in %s", src);
      goto fail;
    }
    off_t off_in = data, off_out = data;
    while (off_in < hole) {
      ssize_t n = in_kernel ? copy_file_range(in, &off_in, out, &off_out,
                                              (size_t)(hole - off_in), 0)
                            : -1;
      if (n < 0 && errno == EINTR)
        continue;
      if (n < 0 && in_kernel && (errno == EXDEV || errno == EINVAL || errno == ENOSYS ||
                                 errno == EOPNOTSUPP)) {
        /* across file systems some kernels refuse: copy through a buffer */
        in_kernel = false;
        buf = xmalloc(bufsize);
        continue;
      }
      if (!in_kernel) {
        size_t want = (size_t)(hole - off_in) < bufsize ? (size_t)(hole - off_in) : bufsize;
        n = pread(in, buf, want, off_in);
        if (n > 0 && fd_pwrite_all(out, buf, (size_t)n, off_out) < 0)
          n = -1;
        if (n > 0) {
          off_in += n;
          off_out += n;
        }
      }
      if (n <= 0) {
        r = stack_error_errno(err, n < 0 ? -errno : -EIO, "copy %s to %s", src, dst);
        goto fail;
      }
    }
    pos = hole;
  }
  return 0;
fail:
  unlink(dst);
  return r;
}
