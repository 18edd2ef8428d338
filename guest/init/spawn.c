/* Starting a session's process: stdio as pipes or a pty, user, groups,
 * working directory, umask, rlimits, environment, then exec.  Errors in the
 * child come back over a close-on-exec pipe, so the host learns why a
 * command could not start (and the exit code is 126/127 as with Docker). */
#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/epoll.h>
#include <sys/ioctl.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <termios.h>
#include <unistd.h>

#include "init.h"

extern char **environ;

struct child_err {
  int err;
  char msg[256];
};

static void child_fail(int fd, int err, const char *fmt, const char *arg) {
  struct child_err ce = {.err = err};
  snprintf(ce.msg, sizeof ce.msg, fmt, arg, strerror(err));
  (void)!write(fd, &ce, sizeof ce);
  _exit(127);
}

static int env_has(char **env, const char *key) {
  size_t n = strlen(key);
  for (char **e = env; e && *e; e++)
    if (strncmp(*e, key, n) == 0 && (*e)[n] == '=')
      return 1;
  return 0;
}

/* The environment with the defaults Docker adds when the image has none. */
static char **build_env(char **env, const struct user_ids *u, int tty, char *home_buf,
                        size_t home_len) {
  size_t n = 0;
  while (env && env[n])
    n++;
  char **v = calloc(n + 4, sizeof *v);
  if (v == NULL)
    return NULL;
  size_t k = 0;
  for (size_t i = 0; i < n; i++)
    v[k++] = env[i];
  if (!env_has(env, "PATH"))
    v[k++] = "PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin";
  if (!env_has(env, "HOME")) {
    snprintf(home_buf, home_len, "HOME=%s", u->home[0] ? u->home : "/");
    v[k++] = home_buf;
  }
  if (tty && !env_has(env, "TERM"))
    v[k++] = "TERM=xterm";
  return v;
}

/* The container's cgroup: every session's processes join it when the
 * container has a process limit (Compose's pids_limit), so exec sessions
 * and health checks count against it as they do under Docker. */
#define CTR_CGROUP "/sys/fs/cgroup/stack-ctr"

static int write_text(const char *path, const char *text) {
  int fd = open(path, O_WRONLY | O_CLOEXEC);
  if (fd < 0)
    return -errno;
  ssize_t n = write(fd, text, strlen(text));
  int r = n < 0 ? -errno : 0;
  close(fd);
  return r;
}

/* Makes the cgroup with pids.max set; the child joins it (join_cgroup()). */
static int prepare_cgroup(uint64_t pids_max, char *msg, size_t msglen) {
  if (mkdir(CTR_CGROUP, 0755) < 0 && errno != EEXIST) {
    snprintf(msg, msglen, "create the container's cgroup: %s", strerror(errno));
    return -errno;
  }
  int r = write_text("/sys/fs/cgroup/cgroup.subtree_control", "+pids");
  char v[32];
  snprintf(v, sizeof v, "%llu", (unsigned long long)pids_max);
  if (r == 0)
    r = write_text(CTR_CGROUP "/pids.max", v);
  if (r < 0)
    snprintf(msg, msglen, "set the process limit %s: %s", v, strerror(-r));
  return r;
}

static void child(const struct proto_start *st, int tty, const char *pts, int fds[3], int errfd) {
  sigset_t all;
  sigfillset(&all);
  for (int s = 1; s < NSIG; s++)
    signal(s, SIG_DFL);
  sigprocmask(SIG_UNBLOCK, &all, NULL);
  setsid();
  if (tty) {
    int t = open(pts, O_RDWR);
    if (t < 0)
      child_fail(errfd, errno, "open %s: %s", pts);
    ioctl(t, TIOCSCTTY, 0);
    fds[0] = fds[1] = fds[2] = t;
  }
  for (int i = 0; i < 3; i++)
    if (dup2(fds[i], i) < 0)
      child_fail(errfd, errno, "dup2 %s: %s", "stdio");
  /* everything of ours is close-on-exec already; this catches what the
   * kernel or a library might have left, in two syscalls */
  if (errfd > 3)
    syscall(SYS_close_range, 3u, (unsigned)errfd - 1, 0u);
  syscall(SYS_close_range, (unsigned)errfd + 1, ~0u, 0u);

  /* "0": the writer itself, before it runs anything of the container's */
  int joined = st->pids_max ? write_text(CTR_CGROUP "/cgroup.procs", "0") : 0;
  if (joined < 0)
    child_fail(errfd, -joined, "join the container's cgroup %s: %s", CTR_CGROUP);

  struct user_ids u;
  char msg[256];
  int r = user_resolve(st->user, &u, msg, sizeof msg);
  if (r < 0)
    child_fail(errfd, -r, "%s (%s)", msg);
  umask(st->umask == 0xffffffffu ? 022 : (mode_t)(st->umask & 0777));
  for (uint32_t i = 0; i < st->n_rlimits; i++) {
    struct rlimit rl = {(rlim_t)st->rlimits[i].soft, (rlim_t)st->rlimits[i].hard};
    if (setrlimit((int)st->rlimits[i].resource, &rl) < 0)
      child_fail(errfd, errno, "setrlimit %s: %s", "resource");
  }
  const char *wd = st->workdir[0] ? st->workdir : "/";
  /* Docker creates a missing working directory */
  if (chdir(wd) < 0) {
    if (errno != ENOENT || init_mkdir_p(wd, 0755) < 0 || chdir(wd) < 0)
      child_fail(errfd, errno, "chdir to %s: %s", wd);
  }
  /* Capabilities the process may not have leave the bounding set: a root
   * process gets exactly the rest at exec, a file's capabilities are
   * capped by it too.  (The caps setgroups/setuid below need stay in this
   * process's effective set until then.) */
  for (int cap = 0; cap < 64 && st->caps != PROTO_CAPS_ALL; cap++) {
    if (st->caps & (1ULL << cap))
      continue;
    if (prctl(PR_CAPBSET_DROP, cap, 0, 0, 0) < 0 && errno != EINVAL) {
      char num[16];
      snprintf(num, sizeof num, "%d", cap);
      child_fail(errfd, errno, "drop capability %s: %s", num);
    }
  }
  if (setgroups((size_t)u.ngroups, u.groups) < 0)
    child_fail(errfd, errno, "setgroups for %s: %s", st->user);
  if (setgid(u.gid) < 0)
    child_fail(errfd, errno, "setgid for %s: %s", st->user);
  if (setuid(u.uid) < 0)
    child_fail(errfd, errno, "setuid for %s: %s", st->user);
  if ((st->flags & PROTO_START_NO_NEW_PRIVS) && prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) < 0)
    child_fail(errfd, errno, "set no-new-privileges for %s: %s", st->argv[0]);
  char home[300];
  char **env = build_env(st->env, &u, tty, home, sizeof home);
  if (env == NULL)
    child_fail(errfd, ENOMEM, "environment for %s: %s", st->argv[0]);
  environ = env;
  execvp(st->argv[0], st->argv);
  int e = errno;
  child_fail(errfd, e,
             e == ENOENT ? "exec %s: executable file not found in $PATH (%s)" : "exec %s: %s",
             st->argv[0]);
}

static int set_nonblock(int fd) {
  int fl = fcntl(fd, F_GETFL);
  return fl < 0 ? -errno : fcntl(fd, F_SETFL, fl | O_NONBLOCK) < 0 ? -errno : 0;
}

int spawn_session(struct init *in, struct session *s, const struct proto_start *st, char *msg,
                  size_t msglen) {
  int tty = (st->flags & PROTO_START_TTY) != 0;
  int cfds[3] = {-1, -1, -1}; /* the child's ends */
  int pfds[3] = {-1, -1, -1}; /* ours: stdin write, stdout read, stderr read */
  int errp[2] = {-1, -1};
  char pts[64] = "";
  int r = 0;
  if (st->pids_max && (r = prepare_cgroup(st->pids_max, msg, msglen)) < 0)
    return r;
  if (tty) {
    int m = posix_openpt(O_RDWR | O_NOCTTY | O_CLOEXEC);
    if (m < 0 || grantpt(m) < 0 || unlockpt(m) < 0 || ptsname_r(m, pts, sizeof pts) != 0) {
      r = -errno;
      snprintf(msg, msglen, "allocate a pty: %s", strerror(errno));
      if (m >= 0)
        close(m);
      return r;
    }
    struct winsize ws = {.ws_row = (unsigned short)st->rows, .ws_col = (unsigned short)st->cols};
    if (ws.ws_row && ws.ws_col)
      ioctl(m, TIOCSWINSZ, &ws);
    pfds[0] = m;
    pfds[1] = dup(m);
    fcntl(pfds[1], F_SETFD, FD_CLOEXEC);
  } else {
    int p[2];
    if (st->flags & PROTO_START_STDIN) {
      if (pipe2(p, O_CLOEXEC) < 0)
        goto fail_errno;
      cfds[0] = p[0];
      pfds[0] = p[1];
    } else if ((cfds[0] = open("/dev/null", O_RDONLY | O_CLOEXEC)) < 0) {
      goto fail_errno;
    }
    for (int i = 1; i < 3; i++) {
      if (pipe2(p, O_CLOEXEC) < 0)
        goto fail_errno;
      pfds[i] = p[0];
      cfds[i] = p[1];
    }
  }
  if (pipe2(errp, O_CLOEXEC) < 0)
    goto fail_errno;
  for (int i = 0; i < 3; i++)
    if (pfds[i] >= 0)
      set_nonblock(pfds[i]);

  pid_t pid = fork();
  if (pid < 0)
    goto fail_errno;
  if (pid == 0) {
    close(errp[0]);
    child(st, tty, pts, cfds, errp[1]);
  }
  close(errp[1]);
  errp[1] = -1;
  for (int i = 0; i < 3; i++)
    if (cfds[i] >= 0)
      close(cfds[i]);
  struct child_err ce;
  ssize_t n;
  do
    n = read(errp[0], &ce, sizeof ce);
  while (n < 0 && errno == EINTR);
  close(errp[0]);
  s->pid = pid;
  s->tty = tty;
  s->in_fd = pfds[0];
  s->out_fd = pfds[1];
  s->err_fd = pfds[2];
  if (n == (ssize_t)sizeof ce) {
    /* the child exits 127; session_finish() reaps it and reports */
    ce.msg[sizeof ce.msg - 1] = 0;
    snprintf(msg, msglen, "%s", ce.msg);
    return ce.err == ENOENT ? -ENOENT : -(ce.err ? ce.err : EIO);
  }
  if (s->out_fd >= 0)
    session_watch(in, s, s->out_fd, EPOLLIN);
  if (s->err_fd >= 0)
    session_watch(in, s, s->err_fd, EPOLLIN);
  return 0;

fail_errno:
  r = -errno;
  snprintf(msg, msglen, "start %s: %s", st->argv[0], strerror(errno));
  for (int i = 0; i < 3; i++) {
    if (cfds[i] >= 0)
      close(cfds[i]);
    if (pfds[i] >= 0)
      close(pfds[i]);
  }
  if (errp[0] >= 0)
    close(errp[0]);
  if (errp[1] >= 0)
    close(errp[1]);
  return r;
}
