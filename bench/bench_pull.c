/* Pull + unpack + ext4 root disk of one image into a fresh store, in
 * process (image_get with pull=always), then a cached second pull
 * (registry_pull: manifest check only) and a cached image_get.  Prints
 * milliseconds; bench_pull.sh runs it next to skopeo + umoci + mkfs.ext4.
 *
 * usage: bench_pull STORE_ROOT REF [RUNS] */
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

#include "runtime/image/image.h"
#include "runtime/image/image_index.h"
#include "runtime/image/registry.h"
#include "runtime/util/error.h"
#include "runtime/util/fsutil.h"

static double now_ms(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (double)ts.tv_sec * 1e3 + (double)ts.tv_nsec / 1e6;
}

static int cmp(const void *a, const void *b) {
  double x = *(const double *)a, y = *(const double *)b;
  return (x > y) - (x < y);
}

int main(int argc, char **argv) {
  if (argc < 3) {
    fprintf(stderr, "usage: bench_pull STORE_ROOT REF [RUNS]\n");
    return 2;
  }
  const char *root = argv[1], *ref = argv[2];
  int runs = argc > 3 ? atoi(argv[3]) : 3;
  if (runs < 1 || runs > 50)
    runs = 3;
  double cold[50], cached_pull[50], cached_get[50];
  for (int i = 0; i < runs; i++) {
    struct stack_error *err = NULL;
    fs_rm_rf(root, NULL);
    double t = now_ms();
    int r;
    {
      struct image_get_opts o = {.pull = IMAGE_PULL_ALWAYS, .quiet = true};
      struct image_handle *h = NULL;
      r = image_get(root, ref, &o, &h, &err);
      if (r == 0)
        image_handle_free(h);
    }
    cold[i] = now_ms() - t;
    if (r < 0) {
      stack_error_print(err);
      return 1;
    }
    t = now_ms();
    r = registry_pull(root, ref, NULL, true, NULL, &err);
    cached_pull[i] = now_ms() - t;
    if (r < 0) {
      stack_error_print(err);
      return 1;
    }
    cached_get[i] = 0;
    {
      struct image_get_opts o = {.pull = IMAGE_PULL_MISSING, .quiet = true};
      struct image_handle *h = NULL;
      t = now_ms();
      r = image_get(root, ref, &o, &h, &err);
      cached_get[i] = now_ms() - t;
      if (r < 0) {
        stack_error_print(err);
        return 1;
      }
      image_handle_free(h);
    }
  }
  qsort(cold, (size_t)runs, sizeof(double), cmp);
  qsort(cached_pull, (size_t)runs, sizeof(double), cmp);
  qsort(cached_get, (size_t)runs, sizeof(double), cmp);
  printf("stack_cold_ms=%.1f\n", cold[runs / 2]);
  printf("stack_cached_pull_ms=%.1f\n", cached_pull[runs / 2]);
  printf("stack_cached_get_ms=%.1f\n", cached_get[runs / 2]);
  fs_rm_rf(root, NULL);
  return 0;
}
