/* Small file-system helpers shared by every module. */
#ifndef STACK_UTIL_FSUTIL_H
#define STACK_UTIL_FSUTIL_H

#include <stddef.h>
#include <sys/types.h>

struct stack_error;

/* Reads a whole file (at most max_size bytes, 0 = no limit) into a new
 * NUL-terminated buffer. */
int fs_read_file(const char *path, size_t max_size, char **out, size_t *out_len,
                 struct stack_error **err);

/* Reads all of fd (at most max_size bytes, 0 = no limit). */
int fs_read_fd(int fd, const char *what, size_t max_size, char **out, size_t *out_len,
               struct stack_error **err);

/* Writes data to path atomically: a temp file in the same directory, fsync,
 * rename. */
int fs_write_file_atomic(const char *path, const void *data, size_t len, mode_t mode,
                         struct stack_error **err);

/* mkdir -p with the given mode for the directories it creates. */
int fs_mkdir_p(const char *path, mode_t mode, struct stack_error **err);

/* rm -rf; a missing path is not an error. */
int fs_rm_rf(const char *path, struct stack_error **err);

/* Joins two path components with exactly one '/'. */
char *fs_path_join(const char *a, const char *b);

/* Opens path (created with mode 0600 when missing) and flock()s it with op
 * (LOCK_EX or LOCK_SH, maybe | LOCK_NB).  A lock file its owner removes
 * while holding it (so that nothing is left behind) would lock nothing: if
 * path no longer names the file once it is locked, it is opened again.
 * Returns the descriptor, or -errno (-EWOULDBLOCK: held, with LOCK_NB). */
int fs_lock_path(const char *path, int op, struct stack_error **err);

/* Returns whether path exists (any type). */
int fs_exists(const char *path);

/* The executable that execvp() would run for name: name itself when it
 * holds a '/', else the first executable in $PATH (default
 * "/usr/bin:/bin").  Newly allocated; NULL when there is none. */
char *fs_which(const char *name);

/* Copies the regular file src to a new file dst (mode 0600; -EEXIST if it
 * exists), keeping its holes: only the data extents are copied, in the
 * kernel.  For sparse disk images. */
int fs_copy_sparse(const char *src, const char *dst, struct stack_error **err);

#endif
