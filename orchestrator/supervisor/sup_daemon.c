#include "sup_daemon.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/wait.h>
#include <unistd.h>

#include "runtime/util/cleanup.h"
#include "runtime/util/error.h"
#include "runtime/util/fsutil.h"
#include "runtime/util/state_path.h"
#include "runtime/util/xalloc.h"
#include "sup_paths.h"
#include "supervisor.h"

/* How long a starting supervisor may take to listen: it loads a small
 * JSON file and binds a socket; minutes mean something is badly wrong. */
#define READY_TIMEOUT_MS 30000

/* In the grandchild: never returns. */
static void daemon_main(const struct sup_paths *p, const char *exe, int ready) {
  int devnull = open("/dev/null", O_RDONLY | O_CLOEXEC);
  int log = state_open(p->state_dir, (const char *const[]){"supervisor.log", NULL},
                       O_WRONLY | O_CREAT | O_APPEND, 0600, NULL);
  if (log < 0)
    errno = -log;
  if (devnull < 0 || log < 0 || dup2(devnull, 0) < 0 || dup2(log, 1) < 0 || dup2(log, 2) < 0) {
    dprintf(ready, "cannot open %s: %s\n", p->log_file, strerror(errno));
    _exit(1);
  }
  if (chdir("/") < 0)
    _exit(1);
  if (exe != NULL) {
    /* dup2 clears close-on-exec, except onto itself */
    if (ready == SUP_DAEMON_READY_FD ? fcntl(ready, F_SETFD, 0) < 0
                                     : dup2(ready, SUP_DAEMON_READY_FD) < 0)
      _exit(1);
    execl(exe, exe, "supervisor", p->project, (char *)NULL);
    dprintf(SUP_DAEMON_READY_FD, "cannot run %s: %s\n", exe, strerror(errno));
    _exit(1);
  }
  struct supervisor_opts o = {.project = p->project, .ready_fd = ready};
  _cleanup_error_ struct stack_error *err = NULL;
  int r = supervisor_run(&o, &err);
  if (r < 0)
    fprintf(stderr, "stack supervisor: %s\n", err->msg);
  _exit(r < 0 ? 1 : 0);
}

static int wait_ready(int fd, const struct sup_paths *p, struct stack_error **err) {
  char buf[4096];
  size_t len = 0;
  for (;;) {
    struct pollfd pfd = {fd, POLLIN, 0};
    int n = poll(&pfd, 1, READY_TIMEOUT_MS);
    if (n < 0 && errno == EINTR)
      continue;
    if (n == 0)
      return stack_error_set(err, -ETIMEDOUT,
                             "the supervisor of project %s did not start within %d s; see %s",
                             p->project, READY_TIMEOUT_MS / 1000, p->log_file);
    ssize_t got = read(fd, buf + len, sizeof(buf) - 1 - len);
    if (got < 0 && errno == EINTR)
      continue;
    if (got <= 0 || len + (size_t)got >= sizeof(buf) - 1)
      break;
    len += (size_t)got;
  }
  buf[len] = '\0';
  if (strcmp(buf, "ok\n") == 0)
    return 0;
  if (len > 0 && buf[len - 1] == '\n')
    buf[len - 1] = '\0';
  return stack_error_set(err, -EIO, "the supervisor of project %s failed to start: %s", p->project,
                         len ? buf : "it exited; see its log");
}

int sup_daemon_lock(const struct sup_paths *p, int *fd, struct stack_error **err) {
  int r = sup_paths_mkdirs(p, err);
  if (r < 0)
    return r;
  _cleanup_close_ int lock = fs_lock_path(p->start_lock, LOCK_EX, err);
  if (lock < 0)
    return lock;
  *fd = steal_fd(&lock);
  return 0;
}

int sup_daemon_start(const struct sup_paths *p, const char *exe, int lock,
                     struct stack_error **err) {
  int fds[2];
  if (pipe2(fds, O_CLOEXEC) < 0)
    return stack_error_errno(err, -errno, "cannot create a pipe");
  _cleanup_close_ int rd = fds[0];
  _cleanup_close_ int wr = fds[1];
  fflush(NULL);
  pid_t pid = fork();
  if (pid < 0)
    return stack_error_errno(err, -errno, "cannot fork the supervisor");
  if (pid == 0) {
    close(rd);
    close(lock);
    if (setsid() < 0)
      _exit(1);
    pid_t pid2 = fork();
    if (pid2 < 0)
      _exit(1);
    if (pid2 > 0)
      _exit(0); /* the daemon is re-parented: no zombie for our caller */
    daemon_main(p, exe, wr);
  }
  close(steal_fd(&wr));
  int status;
  while (waitpid(pid, &status, 0) < 0 && errno == EINTR)
    ;
  return wait_ready(rd, p, err);
}
