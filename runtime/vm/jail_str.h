/* String helpers for the code that runs between fork and exec (jail.c,
 * jail_cgroup.c): no allocation, no locale, no locks -- async-signal-safe,
 * which snprintf() and strerror() are not guaranteed to be. */
#ifndef STACK_VM_JAIL_STR_H
#define STACK_VM_JAIL_STR_H

#include <errno.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <unistd.h>

/* Appends s to the NUL-terminated buf of cap bytes; false when it does not
 * fit (buf then holds what fitted). */
static inline bool js_cat(char *buf, size_t cap, const char *s) {
  size_t n = strlen(buf), m = strlen(s);
  if (n + m + 1 > cap) {
    if (n + 1 < cap) {
      memcpy(buf + n, s, cap - n - 1);
      buf[cap - 1] = '\0';
    }
    return false;
  }
  memcpy(buf + n, s, m + 1);
  return true;
}

/* v in decimal into out (at least 21 bytes). */
static inline char *js_u64(char out[21], uint64_t v) {
  char tmp[21];
  size_t n = 0;
  do {
    tmp[n++] = (char)('0' + v % 10);
    v /= 10;
  } while (v);
  for (size_t i = 0; i < n; i++)
    out[i] = tmp[n - 1 - i];
  out[n] = '\0';
  return out;
}

/* Writes all of s to fd (best effort: a message on the way out). */
static inline void js_write(int fd, const char *s) {
  size_t n = strlen(s);
  while (n > 0) {
    ssize_t w = write(fd, s, n);
    if (w < 0 && errno == EINTR)
      continue;
    if (w <= 0)
      return;
    s += w;
    n -= (size_t)w;
  }
}

/* Writes the short string s to the file at path (sysfs, cgroupfs): 0 or
 * -errno. */
int js_write_file(const char *path, const char *s);

/* "what path: EPERM\n" on fd 2, for a step that failed with errno e. */
void js_report(const char *what, const char *path, int e);

#endif
