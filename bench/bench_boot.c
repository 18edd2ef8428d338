/* Boot benchmark: time from QEMU's exec to the guest's /init, through the
 * real launcher (runtime/vm) with the fast-boot recipe and the control
 * channel, using the tiny static init of the VM integration tests.
 *
 *   bench_boot [-n RUNS] [--cpus N] [--mem MIB] [--parallel N]
 *
 * Per run: "init" = exec -> the init's first line on the control port
 * (the host's clock); split into QEMU start (exec -> kernel clock start),
 * kernel (guest CLOCK_BOOTTIME when init's main() ran) and init (main() ->
 * the line written); "exit" = exec -> QEMU exited after the guest powered
 * off.  Medians of RUNS (default 10).  Then the host memory (PSS/RSS) of an
 * idle VM, and of a VM whose guest writes 200 MiB to tmpfs and deletes it
 * (free page reporting hands it back).  With --parallel N, also N cold
 * boots at once: the time until all reached /init and all exited.  Peer figures are from design.md
 * (raw QEMU, same recipe, same machines). */
#include <errno.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "helper_tinyvm.h"
#include "runtime/util/cleanup.h"
#include "runtime/util/error.h"
#include "runtime/util/fsutil.h"
#include "runtime/util/sbuf.h"
#include "runtime/util/uv_alloc.h"
#include "runtime/util/xalloc.h"
#include "runtime/vm/vm.h"

struct boot {
  uv_loop_t *loop;
  struct vm *vm;
  uv_pipe_t ctl;
  bool ctl_open;
  uv_timer_t timer;
  struct sbuf out;
  double t0, t_line, t_exit;
  unsigned long long guest_main_ns, guest_line_ns;
  bool exited;
  int64_t status;
  int sig;
  const char *stop_at; /* stop the loop when this text arrived (NULL: at exit) */
  int *running;        /* parallel boots: stop the loop when it drops to 0 */
};

static double now(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static void on_read(uv_stream_t *s, ssize_t n, const uv_buf_t *buf) {
  struct boot *b = s->data;
  if (n > 0) {
    sbuf_append(&b->out, buf->base, (size_t)n);
    const char *l = strstr(b->out.data, "TINYINIT ");
    if (!b->t_line && l && strchr(l, '\n')) {
      b->t_line = now();
      sscanf(l, "TINYINIT %llu %llu", &b->guest_main_ns, &b->guest_line_ns);
    }
    if (b->stop_at && strstr(b->out.data, b->stop_at))
      uv_stop(b->loop);
  } else if (n < 0) {
    uv_read_stop(s);
  }
  free(buf->base);
}

static void on_exit_cb(struct vm *vm, int64_t status, int sig, void *data) {
  struct boot *b = data;
  (void)vm;
  b->t_exit = now();
  b->exited = true;
  b->status = status;
  b->sig = sig;
  uv_timer_stop(&b->timer);
  if (!b->running || --*b->running == 0)
    uv_stop(b->loop);
}

static void on_timeout(uv_timer_t *t) {
  struct boot *b = t->data;
  fprintf(stderr, "bench_boot: a VM timed out\n");
  vm_kill(b->vm, SIGKILL, NULL);
}

static int boot_start(uv_loop_t *loop, struct boot *b, const struct vm_spec *spec,
                      struct stack_error **err) {
  memset(b, 0, sizeof(*b));
  b->loop = loop;
  b->t0 = now();
  int r = vm_start(loop, spec, on_exit_cb, b, &b->vm, err);
  if (r < 0)
    return r;
  int fd = vm_connect_control(b->vm, err);
  if (fd < 0) {
    vm_free(b->vm);
    return fd;
  }
  uv_pipe_init(loop, &b->ctl, 0);
  b->ctl.data = b;
  uv_pipe_open(&b->ctl, fd);
  b->ctl_open = true;
  uv_read_start((uv_stream_t *)&b->ctl, uv_alloc_heap, on_read);
  uv_timer_init(loop, &b->timer);
  b->timer.data = b;
  uv_timer_start(&b->timer, on_timeout, 60000, 0);
  return 0;
}

static void boot_end(struct boot *b) {
  uv_close((uv_handle_t *)&b->ctl, NULL);
  uv_close((uv_handle_t *)&b->timer, NULL);
  vm_free(b->vm);
  uv_run(b->loop, UV_RUN_DEFAULT);
  sbuf_free(&b->out);
}

static int cmp_double(const void *a, const void *b) {
  double x = *(const double *)a, y = *(const double *)b;
  return x < y ? -1 : x > y;
}

static double median(double *v, int n) {
  qsort(v, (size_t)n, sizeof(*v), cmp_double);
  return n % 2 ? v[n / 2] : (v[n / 2 - 1] + v[n / 2]) / 2;
}

/* Pss and Rss of pid in kB from smaps_rollup. */
static void mem_of(int pid, long *pss, long *rss) {
  *pss = *rss = -1;
  char path[64];
  snprintf(path, sizeof(path), "/proc/%d/smaps_rollup", pid);
  _cleanup_free_ char *text = NULL;
  if (fs_read_file(path, 0, &text, NULL, NULL) < 0)
    return;
  const char *p;
  if ((p = strstr(text, "\nPss:")))
    *pss = strtol(p + 5, NULL, 10);
  if ((p = strstr(text, "\nRss:")))
    *rss = strtol(p + 5, NULL, 10);
}

static void sleep_ms(int ms) {
  struct timespec ts = {ms / 1000, (long)(ms % 1000) * 1000000L};
  while (nanosleep(&ts, &ts) < 0 && errno == EINTR)
    ;
}

static char tmpdir[] = "/tmp/stack-bench-boot.XXXXXX";
static void cleanup_tmp(void) { fs_rm_rf(tmpdir, NULL); }

int main(int argc, char **argv) {
  int runs = 10;
  unsigned cpus = 0;
  uint64_t mem = 0;
  int parallel = 0;
  for (int i = 1; i < argc; i++) {
    if (strcmp(argv[i], "-n") == 0 && i + 1 < argc)
      runs = atoi(argv[++i]);
    else if (strcmp(argv[i], "--cpus") == 0 && i + 1 < argc)
      cpus = (unsigned)atoi(argv[++i]);
    else if (strcmp(argv[i], "--parallel") == 0 && i + 1 < argc)
      parallel = atoi(argv[++i]);
    else if (strcmp(argv[i], "--mem") == 0 && i + 1 < argc)
      mem = (uint64_t)atoll(argv[++i]);
    else {
      fprintf(stderr, "usage: bench_boot [-n RUNS] [--cpus N] [--mem MIB] [--parallel N]\n");
      return 2;
    }
  }
  if (runs < 1 || runs > 1000)
    runs = 10;
  _cleanup_error_ struct stack_error *err = NULL;
  if (!mkdtemp(tmpdir)) {
    perror("mkdtemp");
    return 1;
  }
  atexit(cleanup_tmp);
  struct vm_host host;
  _cleanup_free_ char *initrd = NULL;
  if (vm_host_probe(&host, &err) < 0 || tinyvm_build_initrd(tmpdir, &initrd, &err) < 0) {
    fprintf(stderr, "bench_boot: %s\n", err->msg);
    return 1;
  }
  _cleanup_free_ char *ctl = xasprintf("%s/ctl.sock", tmpdir);
  struct vm_spec spec = {.name = "bench", .state_dir = tmpdir, .initrd = initrd,
                         .cmdline_extra = "tinyinit=poweroff", .mem_mib = mem, .cpus = cpus,
                         .control_socket = ctl, .host = &host};
  uv_loop_t loop;
  uv_loop_init(&loop);

  double *t_init = xcalloc((size_t)runs, sizeof(double));
  double *t_qemu = xcalloc((size_t)runs, sizeof(double));
  double *t_kernel = xcalloc((size_t)runs, sizeof(double));
  double *t_initproc = xcalloc((size_t)runs, sizeof(double));
  double *t_exit = xcalloc((size_t)runs, sizeof(double));
  printf("bench_boot: %d boots, accel %s (%s), %u CPUs, %llu MiB, control channel on\n", runs,
         vm_accel_name(host.accel), host.reason, cpus ? cpus : vm_default_cpus(),
         (unsigned long long)(mem ? mem : VM_DEFAULT_MEM_MIB));
  printf("%4s %9s %9s %9s %9s %9s\n", "run", "init(s)", "qemu(s)", "kernel(s)", "initp(s)",
         "exit(s)");
  for (int i = 0; i < runs; i++) {
    struct boot b;
    if (boot_start(&loop, &b, &spec, &err) < 0) {
      fprintf(stderr, "bench_boot: %s\n", err->msg);
      return 1;
    }
    uv_run(&loop, UV_RUN_DEFAULT);
    if (!b.exited || b.status != 0 || !b.t_line) {
      fprintf(stderr, "bench_boot: boot %d failed (status %lld, signal %d): %s\n", i,
              (long long)b.status, b.sig, vm_stderr(b.vm));
      boot_end(&b);
      return 1;
    }
    t_init[i] = b.t_line - b.t0;
    t_kernel[i] = (double)b.guest_main_ns / 1e9;
    t_initproc[i] = (double)(b.guest_line_ns - b.guest_main_ns) / 1e9;
    t_qemu[i] = t_init[i] - t_kernel[i] - t_initproc[i];
    t_exit[i] = b.t_exit - b.t0;
    printf("%4d %9.3f %9.3f %9.3f %9.4f %9.3f\n", i + 1, t_init[i], t_qemu[i], t_kernel[i],
           t_initproc[i], t_exit[i]);
    boot_end(&b);
  }
  printf("median: exec -> /init %.3f s (QEMU start %.3f, kernel %.3f, init %.4f); "
         "exec -> exit %.3f s\n",
         median(t_init, runs), median(t_qemu, runs), median(t_kernel, runs),
         median(t_initproc, runs), median(t_exit, runs));
  printf("target: /init within 0.350 s under TCG; peer (raw QEMU, same recipe, design.md): "
         "0.257 s with a static C /init; ratio %.2f\n",
         median(t_init, runs) / 0.257);

  if (parallel > 0 && parallel <= 200) {
    /* N cold boots at once (each its own sockets): CPU-bound under TCG. */
    struct boot *bs = xcalloc((size_t)parallel, sizeof(*bs));
    char **dirs = xcalloc((size_t)parallel, sizeof(char *));
    int running = 0, ok = 0;
    double t0 = now(), last_init = 0, last_exit = 0;
    for (int i = 0; i < parallel; i++) {
      struct vm_spec ps = spec;
      dirs[i] = xasprintf("%s/p%d", tmpdir, i);
      _cleanup_free_ char *ctl_i = xasprintf("%s/ctl.sock", dirs[i]);
      ps.state_dir = dirs[i];
      ps.control_socket = ctl_i;
      if (fs_mkdir_p(dirs[i], 0700, &err) < 0 || boot_start(&loop, &bs[i], &ps, &err) < 0) {
        fprintf(stderr, "bench_boot: %s\n", err->msg);
        return 1;
      }
      bs[i].running = &running;
      running++;
    }
    uv_run(&loop, UV_RUN_DEFAULT);
    for (int i = 0; i < parallel; i++) {
      if (bs[i].exited && bs[i].status == 0 && bs[i].t_line) {
        ok++;
        if (bs[i].t_line - t0 > last_init)
          last_init = bs[i].t_line - t0;
        if (bs[i].t_exit - t0 > last_exit)
          last_exit = bs[i].t_exit - t0;
      }
      boot_end(&bs[i]);
      free(dirs[i]);
    }
    printf("parallel: %d/%d cold boots reached /init and powered off; all at /init after "
           "%.3f s, all exited after %.3f s\n",
           ok, parallel, last_init, last_exit);
    free(bs);
    free(dirs);
  }

  /* Idle memory, then memory given back after the guest frees 200 MiB. */
  struct vm_spec idle = spec;
  idle.cmdline_extra = "tinyinit=memory";
  struct boot b;
  if (boot_start(&loop, &b, &idle, &err) < 0) {
    fprintf(stderr, "bench_boot: %s\n", err->msg);
    return 1;
  }
  b.stop_at = "TINYINIT";
  uv_run(&loop, UV_RUN_DEFAULT);
  int pid = vm_pid(b.vm);
  long pss0, rss0, pss1, rss1, pss2, rss2;
  mem_of(pid, &pss0, &rss0);
  b.stop_at = "DELETED";
  uv_run(&loop, UV_RUN_DEFAULT);
  mem_of(pid, &pss1, &rss1);
  /* Free page reporting runs 2 s after pages are freed; sample for 4 s. */
  long best = pss1;
  for (int i = 0; i < 8; i++) {
    sleep_ms(500);
    uv_run(&loop, UV_RUN_NOWAIT);
    mem_of(pid, &pss2, &rss2);
    if (pss2 >= 0 && pss2 < best)
      best = pss2;
  }
  mem_of(pid, &pss2, &rss2);
  printf("memory: idle VM PSS %.1f MB (RSS %.1f MB); after writing 200 MiB to tmpfs and "
         "deleting it: PSS %.1f MB right away, %.1f MB 4 s later (RSS %.1f MB)\n",
         pss0 / 1024.0, rss0 / 1024.0, pss1 / 1024.0, pss2 / 1024.0, rss2 / 1024.0);
  (void)best;
  boot_end(&b);
  uv_loop_close(&loop);
  free(t_init);
  free(t_qemu);
  free(t_kernel);
  free(t_initproc);
  free(t_exit);
  return 0;
}
