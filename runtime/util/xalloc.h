/* Allocation that never returns NULL: running out of memory is not an error a
 * user can act on, so like crun we abort with a message instead. */
#ifndef STACK_UTIL_XALLOC_H
#define STACK_UTIL_XALLOC_H

#include <stdarg.h>
#include <stddef.h>

void *xmalloc(size_t n);
void *xcalloc(size_t count, size_t size);
void *xrealloc(void *p, size_t n);
/* Grows an array to hold at least `need` items of `size`, doubling. */
void *xgrow(void *p, size_t *cap, size_t need, size_t size);
char *xstrdup(const char *s);
char *xstrndup(const char *s, size_t n);
/* A copy of a NULL-terminated string list (NULL gives an empty list). */
char **xstrv_dup(char *const *v);
char *xasprintf(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
char *xvasprintf(const char *fmt, va_list ap) __attribute__((format(printf, 1, 0)));

#endif
