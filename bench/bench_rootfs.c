/* Layer tar -> in-memory tree -> ext4, the unpack half of a pull, timed
 * in-process: prints shell variables for bench_rootfs.sh.
 *
 * usage: bench_rootfs LAYER.tar[.gz|.zst] OUT.ext4 RUNS */
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>
#include <unistd.h>

#include "runtime/image/ext4_build.h"
#include "runtime/image/layer_tree.h"
#include "runtime/util/error.h"

static double now_ms(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return ts.tv_sec * 1e3 + ts.tv_nsec / 1e6;
}

static int cmp(const void *a, const void *b) {
  double x = *(const double *)a, y = *(const double *)b;
  return x < y ? -1 : x > y;
}

int main(int argc, char **argv) {
  if (argc != 4) {
    fprintf(stderr, "usage: %s LAYER OUT.ext4 RUNS\n", argv[0]);
    return 2;
  }
  int runs = atoi(argv[3]);
  if (runs < 1 || runs > 100)
    runs = 1;
  double apply[100], build[100];
  for (int i = 0; i < runs; i++) {
    struct stack_error *e = NULL;
    struct layer_tree *t = NULL;
    int fd = open(argv[1], O_RDONLY | O_CLOEXEC);
    if (fd < 0) {
      perror(argv[1]);
      return 1;
    }
    double t0 = now_ms();
    if (layer_tree_new(&t, &e) < 0 || layer_tree_apply_fd(t, fd, argv[1], NULL, &e) < 0) {
      stack_error_print(e);
      return 1;
    }
    double t1 = now_ms();
    if (ext4_build(t, argv[2], &e) < 0) {
      stack_error_print(e);
      return 1;
    }
    double t2 = now_ms();
    close(fd);
    layer_tree_free(t);
    apply[i] = t1 - t0;
    build[i] = t2 - t1;
  }
  qsort(apply, (size_t)runs, sizeof(double), cmp);
  qsort(build, (size_t)runs, sizeof(double), cmp);
  printf("stack_apply_ms=%.0f\nstack_ext4_ms=%.0f\nstack_total_ms=%.0f\n", apply[runs / 2],
         build[runs / 2], apply[runs / 2] + build[runs / 2]);
  return 0;
}
