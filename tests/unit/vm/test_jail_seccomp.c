/* The seccomp filter QEMU runs under (runtime/vm/jail_seccomp.h), installed
 * in a child process that then tries what a guest could ask of a shared
 * directory: set-user-ID and set-group-ID files, device nodes, a chown to
 * QEMU's own group; and what it must still do: ordinary files and modes,
 * FIFOs, set-group-ID directories. */
#include <errno.h>
#include <fcntl.h>
#include <linux/seccomp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/sysmacros.h>
#include <sys/wait.h>
#include <unistd.h>

#include "runtime/util/fsutil.h"
#include "runtime/vm/jail_seccomp.h"
#include "test.h"

static char dir[] = "/tmp/stack-seccomp.XXXXXX";

/* errno of a call that returns -1 on failure (0 when it worked). */
#define ERR(call) ((call) < 0 ? errno : 0)

static void cleanup(void) { fs_rm_rf(dir, NULL); }

/* In the child: each line "name errno" for the parent to compare. */
static void probe(FILE *out, gid_t own) {
  char p[256];
  snprintf(p, sizeof p, "%s/f", dir);
  int fd = open(p, O_WRONLY | O_CREAT | O_CLOEXEC, 0644);
  fprintf(out, "create %d\n", fd < 0 ? errno : 0);
  fprintf(out, "chmod755 %d\n", ERR(chmod(p, 0755)));
  fprintf(out, "chmod4755 %d\n", ERR(chmod(p, 04755)));
  fprintf(out, "fchmod4755 %d\n", ERR(fchmod(fd, 04755)));
  fprintf(out, "fchmodat4755 %d\n", ERR(fchmodat(AT_FDCWD, p, 04755, 0)));
  /* the kernel's to clear, not refused */
  fprintf(out, "chmod2755 %d\n", ERR(chmod(p, 02755)));
  snprintf(p, sizeof p, "%s/suid", dir);
  fprintf(out, "create4755 %d\n", ERR(open(p, O_WRONLY | O_CREAT | O_CLOEXEC, 04755)));
  snprintf(p, sizeof p, "%s/sgid", dir);
  fprintf(out, "creat2755 %d\n", ERR(creat(p, 02755)));
  snprintf(p, sizeof p, "%s/tmpfile", dir);
  fprintf(out, "tmpfile4755 %d\n", ERR(open(dir, O_TMPFILE | O_WRONLY | O_CLOEXEC, 04755)));
  /* a mode without O_CREAT means nothing */
  snprintf(p, sizeof p, "%s/f", dir);
  fprintf(out, "open-nocreat %d\n", ERR((int)syscall(SYS_openat, AT_FDCWD, p, O_RDONLY, 04755)));
  snprintf(p, sizeof p, "%s/d", dir);
  fprintf(out, "mkdir2775 %d\n", ERR(mkdir(p, 02775)));
  snprintf(p, sizeof p, "%s/d2", dir);
  fprintf(out, "mkdir4775 %d\n", ERR(mkdir(p, 04775)));
  snprintf(p, sizeof p, "%s/fifo", dir);
  fprintf(out, "mkfifo %d\n", ERR(mknod(p, S_IFIFO | 0600, 0)));
  snprintf(p, sizeof p, "%s/null", dir);
  fprintf(out, "mknodchr %d\n", ERR(mknod(p, S_IFCHR | 0666, makedev(1, 3))));
  fprintf(out, "mknodblk %d\n", ERR(mknodat(AT_FDCWD, p, S_IFBLK | 0666, makedev(7, 0))));
  snprintf(p, sizeof p, "%s/reg", dir);
  fprintf(out, "mknodsuid %d\n", ERR(mknod(p, S_IFREG | 04755, 0)));
  snprintf(p, sizeof p, "%s/f", dir);
  fprintf(out, "chownown %d\n", ERR(chown(p, (uid_t)-1, own)));
  fprintf(out, "fchownatown %d\n", ERR(fchownat(AT_FDCWD, p, (uid_t)-1, own, 0)));
  fprintf(out, "chownother %d\n", ERR(chown(p, (uid_t)-1, getegid())));
  fprintf(out, "openat2 %d\n", ERR((int)syscall(SYS_openat2, AT_FDCWD, p, NULL, 0)));
  fprintf(out, "io_uring %d\n", ERR((int)syscall(SYS_io_uring_setup, 1, NULL)));
  fprintf(out, "by_handle %d\n", ERR((int)syscall(SYS_open_by_handle_at, AT_FDCWD, NULL, 0)));
  fflush(out);
}

int main(void) {
  CHECK(mkdtemp(dir) != NULL);
  atexit(cleanup);
  struct sock_filter prog[JAIL_SECCOMP_MAX];
  size_t n = jail_seccomp_build(prog, 4242);
  CHECK_MSG(n > 10 && n < JAIL_SECCOMP_MAX, "%zu instructions", n);

  /* not our own gid: the test process may chown to its own freely */
  gid_t own = 4242;
  int fds[2];
  CHECK(pipe(fds) == 0);
  pid_t pid = fork();
  if (pid == 0) {
    close(fds[0]);
    FILE *out = fdopen(fds[1], "w");
    if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) < 0 || jail_seccomp_install(own) < 0)
      _exit(3);
    probe(out, own);
    _exit(0);
  }
  close(fds[1]);
  FILE *in = fdopen(fds[0], "r");
  char text[4096] = "";
  size_t len = fread(text, 1, sizeof text - 1, in);
  text[len] = '\0';
  fclose(in);
  int st = 0;
  waitpid(pid, &st, 0);
  CHECK_MSG(WIFEXITED(st) && WEXITSTATUS(st) == 0, "child status %d", st);

  static const struct {
    const char *name;
    int err;
  } want[] = {
      {"create", 0},         {"chmod755", 0},      {"chmod4755", EPERM},   {"fchmod4755", EPERM},
      {"fchmodat4755", EPERM}, {"chmod2755", 0},   {"create4755", EPERM},  {"creat2755", EPERM},
      {"tmpfile4755", EPERM}, {"open-nocreat", 0}, {"mkdir2775", 0},       {"mkdir4775", EPERM},
      {"mkfifo", 0},         {"mknodchr", EPERM},  {"mknodblk", EPERM},    {"mknodsuid", EPERM},
      {"chownown", EPERM},   {"fchownatown", EPERM}, {"chownother", 0},    {"openat2", ENOSYS},
      {"io_uring", ENOSYS},  {"by_handle", EPERM},
  };
  for (size_t i = 0; i < sizeof want / sizeof want[0]; i++) {
    char line[64];
    snprintf(line, sizeof line, "%s %d\n", want[i].name, want[i].err);
    char *at = strstr(text, line);
    CHECK_MSG(at && (at == text || at[-1] == '\n'), "want \"%s %d\"; the child said:\n%s",
              want[i].name, want[i].err, text);
  }
  /* nothing set-user-ID was made */
  char p[256];
  struct stat s;
  snprintf(p, sizeof p, "%s/f", dir);
  CHECK(stat(p, &s) == 0 && !(s.st_mode & S_ISUID));
  snprintf(p, sizeof p, "%s/suid", dir);
  CHECK(stat(p, &s) < 0);
  TEST_DONE();
}
