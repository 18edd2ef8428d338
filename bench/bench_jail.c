/* What QEMU's jail (runtime/vm/jail.h) costs a VM start: fork, then in the
 * child jail_enter() -- its cgroup (where the host has cgroup v2), the
 * files given to its uid, mount, network and IPC namespaces with the
 * jail's mounts, credentials, no_new_privs and seccomp -- then exec of
 * /bin/true; against fork and exec alone.  The jail is that of a container
 * with a kernel, an initramfs, an image disk, a writable disk, a console
 * log and two shared directories.
 *
 *   bench_jail [-n RUNS]
 *
 * Prints the medians of RUNS (default 50): fork -> exec (the part a VM
 * start waits for), fork -> reaped (with the namespaces' teardown), and
 * the child's CPU time (what a loaded host's wall clock inflates).
 * Needs root. */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "runtime/util/cleanup.h"
#include "runtime/util/error.h"
#include "runtime/util/fsutil.h"
#include "runtime/util/xalloc.h"
#include "runtime/vm/accel.h"
#include "runtime/vm/jail.h"
#include "runtime/vm/kernel.h"
#include "runtime/vm/vm.h"

static double now_ms(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (double)ts.tv_sec * 1e3 + (double)ts.tv_nsec / 1e6;
}

static int cmp(const void *a, const void *b) {
  double x = *(const double *)a, y = *(const double *)b;
  return x < y ? -1 : x > y;
}

static double median(double *v, int n) {
  qsort(v, (size_t)n, sizeof *v, cmp);
  return n % 2 ? v[n / 2] : (v[n / 2 - 1] + v[n / 2]) / 2;
}

/* One start: the child reports the time it was about to exec. */
static void one(const struct jail *j, double *to_exec, double *to_reap, double *cpu) {
  int p[2];
  if (pipe2(p, O_CLOEXEC) < 0)
    exit(1);
  double t0 = now_ms();
  pid_t pid = fork();
  if (pid == 0) {
    if (j && jail_enter(j) < 0)
      _exit(127);
    double t = now_ms();
    if (write(p[1], &t, sizeof t) != (ssize_t)sizeof t)
      _exit(126);
    execl("/bin/true", "true", (char *)NULL);
    _exit(127);
  }
  close(p[1]);
  double t = 0;
  if (read(p[0], &t, sizeof t) != (ssize_t)sizeof t) {
    fprintf(stderr, "bench_jail: the child failed\n");
    exit(1);
  }
  close(p[0]);
  int st;
  struct rusage ru;
  wait4(pid, &st, 0, &ru);
  *to_exec = t - t0;
  *to_reap = now_ms() - t0;
  *cpu = (double)(ru.ru_utime.tv_sec + ru.ru_stime.tv_sec) * 1e3 +
         (double)(ru.ru_utime.tv_usec + ru.ru_stime.tv_usec) / 1e3;
}

static void touch(const char *path, mode_t mode) {
  int fd = open(path, O_WRONLY | O_CREAT | O_CLOEXEC, mode);
  if (fd < 0 || fchmod(fd, mode) < 0) {
    perror(path);
    exit(1);
  }
  close(fd);
}

int main(int argc, char **argv) {
  int runs = 50;
  for (int i = 1; i < argc; i++)
    if (strcmp(argv[i], "-n") == 0 && i + 1 < argc)
      runs = atoi(argv[++i]);
  if (runs < 1)
    runs = 1;
  if (geteuid() != 0) {
    fprintf(stderr, "bench_jail: run it as root (the jail needs it)\n");
    return 1;
  }
  _cleanup_error_ struct stack_error *err = NULL;
  struct vm_host host;
  _cleanup_free_ char *kernel = NULL;
  if (vm_host_probe(&host, &err) < 0 || kernel_find(NULL, &kernel, NULL, &err) < 0) {
    fprintf(stderr, "bench_jail: %s\n", err->msg);
    return 1;
  }
  char dir[] = "/tmp/stack-bench-jail.XXXXXX";
  if (!mkdtemp(dir))
    return 1;
  _cleanup_free_ char *initrd = fs_path_join(dir, "initrd.cpio");
  _cleanup_free_ char *root = fs_path_join(dir, "root.ext4");
  _cleanup_free_ char *data = fs_path_join(dir, "data.img");
  _cleanup_free_ char *console = fs_path_join(dir, "console.log");
  _cleanup_free_ char *bind = fs_path_join(dir, "bind");
  _cleanup_free_ char *vol = fs_path_join(dir, "volume");
  touch(initrd, 0644);
  touch(root, 0644);
  touch(data, 0600);
  fs_mkdir_p(bind, 0755, NULL);
  fs_mkdir_p(vol, 0755, NULL);
  struct vm_share shares[] = {{bind, "vol0", false, VM_SHARE_PASSTHROUGH},
                              {vol, "vol1", false, VM_SHARE_MAPPED}};
  struct vm_spec spec = {.state_dir = dir, .initrd = initrd, .root_disk = root,
                         .data_disk = data, .shares = shares, .n_shares = 2};
  struct jail_opts o = {.spec = &spec, .host = &host, .qemu = "/bin/true", .kernel = kernel,
                        .console = console};
  struct jail *j = NULL;
  if (jail_new(&o, &j, &err) < 0) {
    fprintf(stderr, "bench_jail: %s\n", err->msg);
    return 1;
  }
  double *e0 = xcalloc((size_t)runs, sizeof(double)), *r0 = xcalloc((size_t)runs, sizeof(double));
  double *e1 = xcalloc((size_t)runs, sizeof(double)), *r1 = xcalloc((size_t)runs, sizeof(double));
  double *c0 = xcalloc((size_t)runs, sizeof(double)), *c1 = xcalloc((size_t)runs, sizeof(double));
  for (int i = 0; i < runs; i++) {
    one(NULL, &e0[i], &r0[i], &c0[i]);
    one(j, &e1[i], &r1[i], &c1[i]);
  }
  printf("fork -> exec:   %.3f ms without the jail, %.3f ms with it (median of %d)\n",
         median(e0, runs), median(e1, runs), runs);
  printf("fork -> reaped: %.3f ms without the jail, %.3f ms with it\n", median(r0, runs),
         median(r1, runs));
  printf("child CPU:      %.3f ms without the jail, %.3f ms with it (user + system, to exit)\n",
         median(c0, runs), median(c1, runs));
  printf("cgroup: %s\n", host.cgroup[0] ? host.cgroup : host.cgroup_note);
  jail_free(j);
  free(e0), free(r0), free(e1), free(r1), free(c0), free(c1);
  fs_rm_rf(dir, NULL);
  return 0;
}
