/* Scope-bound ownership, as in crun and systemd: a local declared with one of
 * these is released when it goes out of scope; hand ownership out with
 * steal_pointer() / steal_fd(). */
#ifndef STACK_UTIL_CLEANUP_H
#define STACK_UTIL_CLEANUP_H

#include <dirent.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

#define _cleanup_(f) __attribute__((cleanup(f)))

static inline void freep(void *p) { free(*(void **)p); }
static inline void closep(int *fd) {
  if (*fd >= 0) {
    int saved = errno;
    close(*fd);
    errno = saved;
  }
}
static inline void fclosep(FILE **f) {
  if (*f != NULL)
    fclose(*f);
}
static inline void closedirp(DIR **d) {
  if (*d != NULL)
    closedir(*d);
}
/* Frees a NULL-terminated array of strings. */
static inline void strv_free(char **v) {
  if (v == NULL)
    return;
  for (char **p = v; *p != NULL; p++)
    free(*p);
  free(v);
}
static inline void strv_freep(char ***v) { strv_free(*v); }

#define _cleanup_free_ _cleanup_(freep)
#define _cleanup_close_ _cleanup_(closep)
#define _cleanup_fclose_ _cleanup_(fclosep)
#define _cleanup_closedir_ _cleanup_(closedirp)
#define _cleanup_strv_ _cleanup_(strv_freep)

#define steal_pointer(pp)                                                                          \
  ({                                                                                               \
    __typeof__(*(pp)) _p = *(pp);                                                                  \
    *(pp) = NULL;                                                                                  \
    _p;                                                                                            \
  })

#define steal_fd(fdp)                                                                              \
  ({                                                                                               \
    int _fd = *(fdp);                                                                              \
    *(fdp) = -1;                                                                                   \
    _fd;                                                                                           \
  })

#endif
