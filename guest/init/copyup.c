/* Docker's copy-up: a new, empty volume mounted where the image has a
 * directory first gets what the image has there (files, directories and
 * symlinks with their owners, modes and times) and that directory's own
 * owner and mode, so an image's non-root user owns its data directory. */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/sendfile.h>
#include <sys/stat.h>
#include <unistd.h>

#include "init.h"

static int fail(char *msg, size_t len, const char *what, const char *path) {
  int e = errno;
  snprintf(msg, len, "copy the image's files into the volume: %s %s: %s", what, path,
           strerror(e));
  return -e;
}

static int copy_contents(const char *src, const char *dst, char *msg, size_t msglen);

static int copy_bytes(const char *src, const char *dst, const struct stat *st, char *msg,
                      size_t msglen) {
  int in = open(src, O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
  if (in < 0)
    return fail(msg, msglen, "open", src);
  int out = open(dst, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC | O_NOFOLLOW, 0600);
  if (out < 0) {
    int r = fail(msg, msglen, "create", dst);
    close(in);
    return r;
  }
  int r = 0;
  for (off_t left = st->st_size; left > 0;) {
    /* file to file across file systems (overlay to 9p), in the kernel */
    ssize_t n = sendfile(out, in, NULL, left > (1 << 30) ? (1 << 30) : (size_t)left);
    if (n < 0 && errno == EINTR)
      continue;
    if (n <= 0) {
      r = n < 0 ? fail(msg, msglen, "copy", src) : 0; /* shrank meanwhile: done */
      break;
    }
    left -= n;
  }
  close(in);
  if (close(out) < 0 && r == 0)
    r = fail(msg, msglen, "write", dst);
  return r;
}

/* dst gets src's owner, mode and times (after the owner: chown clears
 * set-id bits). */
static void copy_attrs(const char *dst, const struct stat *st) {
  lchown(dst, st->st_uid, st->st_gid);
  if (!S_ISLNK(st->st_mode))
    chmod(dst, st->st_mode & 07777);
  struct timespec t[2] = {st->st_atim, st->st_mtim};
  utimensat(AT_FDCWD, dst, t, AT_SYMLINK_NOFOLLOW);
}

static int copy_entry(const char *src, const char *dst, const struct stat *st, char *msg,
                      size_t msglen) {
  int r = 0;
  if (S_ISDIR(st->st_mode)) {
    if (mkdir(dst, 0700) < 0 && errno != EEXIST)
      return fail(msg, msglen, "mkdir", dst);
    r = copy_contents(src, dst, msg, msglen);
  } else if (S_ISREG(st->st_mode)) {
    r = copy_bytes(src, dst, st, msg, msglen);
  } else if (S_ISLNK(st->st_mode)) {
    char target[4096];
    ssize_t n = readlink(src, target, sizeof target - 1);
    if (n < 0)
      return fail(msg, msglen, "readlink", src);
    target[n] = 0;
    if (symlink(target, dst) < 0 && errno != EEXIST)
      return fail(msg, msglen, "symlink", dst);
  } else {
    return 0; /* devices, fifos, sockets: not data */
  }
  if (r == 0)
    copy_attrs(dst, st);
  return r;
}

static int copy_contents(const char *src, const char *dst, char *msg, size_t msglen) {
  DIR *d = opendir(src);
  if (d == NULL)
    return fail(msg, msglen, "open", src);
  int r = 0;
  struct dirent *de;
  while (r == 0 && (de = readdir(d)) != NULL) {
    if (strcmp(de->d_name, ".") == 0 || strcmp(de->d_name, "..") == 0)
      continue;
    char s[4096], t[4096];
    if (snprintf(s, sizeof s, "%s/%s", src, de->d_name) >= (int)sizeof s ||
        snprintf(t, sizeof t, "%s/%s", dst, de->d_name) >= (int)sizeof t) {
      errno = ENAMETOOLONG;
      r = fail(msg, msglen, "path", s);
      break;
    }
    struct stat st;
    if (lstat(s, &st) < 0)
      r = fail(msg, msglen, "stat", s);
    else
      r = copy_entry(s, t, &st, msg, msglen);
  }
  closedir(d);
  return r;
}

int copyup_is_empty(const char *dir) {
  DIR *d = opendir(dir);
  if (d == NULL)
    return 0;
  struct dirent *de;
  int empty = 1;
  while (empty && (de = readdir(d)) != NULL)
    empty = strcmp(de->d_name, ".") == 0 || strcmp(de->d_name, "..") == 0;
  closedir(d);
  return empty;
}

int copyup(const char *src, const char *dst, char *msg, size_t msglen) {
  struct stat st;
  if (lstat(src, &st) < 0 || !S_ISDIR(st.st_mode))
    return 0;
  int r = copy_contents(src, dst, msg, msglen);
  if (r == 0)
    copy_attrs(dst, &st);
  return r;
}
