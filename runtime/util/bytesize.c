#include "runtime/util/bytesize.h"

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
