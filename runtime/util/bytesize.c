#include "runtime/util/bytesize.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "runtime/util/xalloc.h"

static char *scaled(double n, double base, const char *const *units, int precision) {
  int i = 0;
  while (n >= base && units[i + 1] != NULL) {
    n /= base;
    i++;
  }
  return xasprintf("%.*g%s", precision, n, units[i]);
}

char *human_size_si(double n, int precision) {
  static const char *const units[] = {"B", "kB", "MB", "GB", "TB", "PB", "EB", NULL};
  return scaled(n, 1000, units, precision);
}

char *human_size_binary(double n) {
  static const char *const units[] = {"B", "KiB", "MiB", "GiB", "TiB", "PiB", "EiB", NULL};
  return scaled(n, 1024, units, 4);
}

int parse_mib(const char *text, unsigned min, unsigned max, unsigned *mib) {
  if (text == NULL || *text < '0' || *text > '9')
    return -EINVAL;
  char *end = NULL;
  errno = 0;
  unsigned long long v = strtoull(text, &end, 10);
  if (errno)
    return -EINVAL;
  if (strcmp(end, "G") == 0 || strcmp(end, "GiB") == 0 || strcmp(end, "g") == 0)
    v *= 1024;
  else if (*end && strcmp(end, "M") != 0 && strcmp(end, "MiB") != 0 && strcmp(end, "m") != 0)
    return -EINVAL;
  if (v < min || v > max)
    return -EINVAL;
  *mib = (unsigned)v;
  return 0;
}
