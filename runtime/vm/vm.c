#include "runtime/vm/vm.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <linux/if.h>
#include <linux/if_tun.h>
#include <pthread.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/pidfd.h>
#include <sys/types.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <unistd.h>

#include "guest/proto.h"
#include "runtime/util/cleanup.h"
#include "runtime/util/error.h"
#include "runtime/util/fsutil.h"
#include "runtime/util/xalloc.h"
#include "runtime/vm/jail.h"
#include "runtime/vm/jail_cgroup.h"
#include "runtime/vm/jail_str.h"
#include "runtime/vm/kernel.h"
#include "runtime/vm/qemu.h"
#include "runtime/vm/qmp.h"
#include "runtime/vm/template.h"

#define VM_STDERR_KEEP 16384

struct vm {
  uv_poll_t proc; /* QEMU's pidfd: readable once it has exited */
  int pidfd;
  char *cgroup; /* the directory of its cgroup (jail_cgroup.h), or NULL */
  uv_pipe_t err_pipe;
  vm_exit_cb on_exit;
  void *data;
  char *name;
  char *console_path;
  char *qmp_path;
  char *control_path; /* NULL without a control channel */
  /* QMP: loading a template's state (spec->incoming), and for the VM's
   * life with spec->qmp_event; NULL once closed */
  struct qmp *qmp;
  bool qmp_keep;  /* spec->qmp_event: open until QEMU exits */
  bool restoring; /* the restore's migrate-incoming is not answered yet */
  bool ignore_shared; /* the restore maps the template's RAM file */
  void (*restored)(void *data, int status, const char *error);
  void (*qmp_event)(void *data, const char *event, const cJSON *event_data);
  char errbuf[VM_STDERR_KEEP + 1];
  size_t errlen;
  int pid;
  int64_t exit_status;
  int term_signal;
  bool exited;     /* the process exit was seen */
  bool stderr_eof; /* QEMU's stderr was read to the end */
  bool reported;   /* on_exit was called */
  bool freeing;    /* vm_free() was called; memory goes when handles close */
  bool adopted;    /* started by another process (vm_adopt()): not our child */
  int open_handles;
};

/* PIDFD_GET_INFO (Linux 6.15), which Debian 12's headers lack: the first
 * version of struct pidfd_info (64 bytes; the kernel takes any size from
 * that one up). */
struct stack_pidfd_info {
  uint64_t mask, cgroupid;
  uint32_t pid, tgid, ppid, ruid, rgid, euid, egid, suid, sgid, fsuid, fsgid;
  int32_t exit_code;
};
#define STACK_PIDFD_GET_INFO _IOWR(0xFF, 11, struct stack_pidfd_info)
#define STACK_PIDFD_INFO_EXIT (1ULL << 3)

unsigned vm_default_cpus(void) {
  long n = sysconf(_SC_NPROCESSORS_ONLN);
  if (n < 1)
    n = 1;
  return n > VM_MAX_DEFAULT_CPUS ? VM_MAX_DEFAULT_CPUS : (unsigned)n;
}

int vm_pid(const struct vm *vm) { return vm->exited ? 0 : vm->pid; }
int vm_running(const struct vm *vm) { return !vm->exited; }
const char *vm_stderr(const struct vm *vm) { return vm->errbuf; }
const char *vm_console_path(const struct vm *vm) { return vm->console_path; }
const char *vm_qmp_path(const struct vm *vm) { return vm->qmp_path; }
const char *vm_control_path(const struct vm *vm) { return vm->control_path; }
struct qmp *vm_qmp(const struct vm *vm) { return vm->qmp_keep ? vm->qmp : NULL; }

static int unix_addr(const char *path, struct sockaddr_un *sa, struct stack_error **err) {
  memset(sa, 0, sizeof(*sa));
  sa->sun_family = AF_UNIX;
  if (strlen(path) >= sizeof(sa->sun_path))
    return stack_error_set(err, -ENAMETOOLONG,
                           "socket path %s is longer than %zu bytes: use a shorter STACK_RUN_DIR",
                           path, sizeof(sa->sun_path) - 1);
  strcpy(sa->sun_path, path);
  return 0;
}

/* A listening socket at path, replacing a stale socket (never another kind
 * of file). */
static int listen_at(const char *path, struct stack_error **err) {
  struct sockaddr_un sa;
  int r = unix_addr(path, &sa, err);
  if (r < 0)
    return r;
  struct stat st;
  if (lstat(path, &st) == 0) {
    if (!S_ISSOCK(st.st_mode))
      return stack_error_set(err, -EEXIST, "%s exists and is not a socket: remove it", path);
    unlink(path);
  }
  _cleanup_close_ int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (fd < 0)
    return stack_error_errno(err, -errno, "socket for %s", path);
  if (bind(fd, (struct sockaddr *)&sa, sizeof(sa)) < 0)
    return stack_error_errno(err, -errno, "cannot bind %s", path);
  if (chmod(path, 0600) < 0 || listen(fd, 4) < 0) {
    int e = -errno;
    unlink(path);
    return stack_error_errno(err, e, "cannot listen on %s", path);
  }
  return steal_fd(&fd);
}

int vm_connect_control(const struct vm *vm, struct stack_error **err) {
  if (!vm->control_path)
    return stack_error_set(err, -ENOTCONN, "VM %s has no control channel", vm->name);
  struct sockaddr_un sa;
  int r = unix_addr(vm->control_path, &sa, err);
  if (r < 0)
    return r;
  _cleanup_close_ int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (fd < 0)
    return stack_error_errno(err, -errno, "socket");
  while (connect(fd, (struct sockaddr *)&sa, sizeof(sa)) < 0) {
    if (errno != EINTR)
      return stack_error_errno(err, -errno, "VM %s: cannot connect to %s", vm->name,
                               vm->control_path);
  }
  return steal_fd(&fd);
}

/* Adds a line to what QEMU said, so that the exit callback's vm_stderr()
 * tells why a restore failed. */
static void note_error(struct vm *vm, const char *msg) {
  size_t n = strlen(msg);
  if (vm->errlen + n + 1 > VM_STDERR_KEEP)
    return;
  memcpy(vm->errbuf + vm->errlen, msg, n);
  vm->errlen += n;
  vm->errbuf[vm->errlen++] = '\n';
  vm->errbuf[vm->errlen] = '\0';
}

static void restore_done(struct vm *vm, int status, const char *error) {
  if (!vm->restoring)
    return;
  vm->restoring = false;
  if (!vm->qmp_keep || status < 0) {
    qmp_close(vm->qmp);
    vm->qmp = NULL;
  }
  if (status < 0) {
    _cleanup_free_ char *m = xasprintf("stack: restoring the VM template failed: %s", error);
    note_error(vm, m);
    if (!vm->exited)
      kill(vm->pid, SIGKILL);
  }
  if (vm->restored)
    vm->restored(vm->data, status, error);
}

static void on_restore_reply(struct qmp *q, int status, const cJSON *ret, const char *error_desc,
                             void *data) {
  (void)q;
  (void)ret;
  struct vm *vm = data;
  restore_done(vm, status, status < 0 ? (error_desc ? error_desc : strerror(-status)) : NULL);
}

static void restore_start(struct qmp *q, struct vm *vm) {
  cJSON *args = cJSON_CreateObject();
  char uri[16];
  snprintf(uri, sizeof uri, "fd:%d", QEMU_FD_INCOMING);
  cJSON_AddStringToObject(args, "uri", uri);
  _cleanup_error_ struct stack_error *e = NULL;
  if (qmp_execute(q, "migrate-incoming", args, on_restore_reply, vm, &e) < 0)
    restore_done(vm, -EIO, e->msg);
}

static void on_restore_caps(struct qmp *q, int status, const cJSON *ret, const char *error_desc,
                            void *data) {
  (void)ret;
  struct vm *vm = data;
  if (status < 0) {
    restore_done(vm, status, error_desc ? error_desc : strerror(-status));
    return;
  }
  restore_start(q, vm);
}

static void on_qmp_state(struct qmp *q, int status, void *data) {
  struct vm *vm = data;
  if (status < 0) {
    if (vm->restoring) {
      restore_done(vm, status, "QEMU's QMP connection closed");
      return;
    }
    /* QEMU is going away: its exit callback says how */
    qmp_close(vm->qmp);
    vm->qmp = NULL;
    return;
  }
  if (!vm->restoring)
    return;
  if (!vm->ignore_shared) {
    restore_start(q, vm);
    return;
  }
  /* the RAM is the template's file, not in the state */
  _cleanup_error_ struct stack_error *e = NULL;
  if (qmp_execute(q, "migrate-set-capabilities", qmp_ignore_shared_args(), on_restore_caps, vm,
                  &e) < 0)
    restore_done(vm, -EIO, e->msg);
}

static void on_qmp_event(struct qmp *q, const char *event, const cJSON *event_data,
                         void *data) {
  (void)q;
  struct vm *vm = data;
  if (vm->qmp_event && !vm->freeing)
    vm->qmp_event(vm->data, event, event_data);
}

static void vm_release(struct vm *vm) {
  free(vm->cgroup);
  free(vm->name);
  free(vm->console_path);
  free(vm->qmp_path);
  free(vm->control_path);
  free(vm);
}

static void on_handle_closed(uv_handle_t *h) {
  struct vm *vm = h->data;
  if (--vm->open_handles == 0 && vm->freeing)
    vm_release(vm);
}

/* The exit is reported once both the process is gone and its stderr has
 * been read to the end, so that vm_stderr() is complete in the callback. */
static void maybe_report(struct vm *vm) {
  if (!vm->exited || !vm->stderr_eof || vm->reported || vm->freeing)
    return;
  vm->reported = true;
  if (vm->on_exit)
    vm->on_exit(vm, vm->exit_status, vm->term_signal, vm->data);
}

/* How a QEMU that is not our child ended, as wait() would say: from the
 * pidfd once its parent reaped it, or from /proc while it is a zombie
 * (the pidfd pins the pid: a process still there is that one).  false if
 * the kernel does not tell. */
static bool adopted_status(struct vm *vm, int *ws) {
  struct stack_pidfd_info info = {.mask = STACK_PIDFD_INFO_EXIT};
  if (ioctl(vm->pidfd, STACK_PIDFD_GET_INFO, &info) == 0 && (info.mask & STACK_PIDFD_INFO_EXIT)) {
    *ws = info.exit_code;
    return true;
  }
  if (pidfd_send_signal(vm->pidfd, 0, NULL, 0) < 0)
    return false;
  char path[64];
  snprintf(path, sizeof path, "/proc/%d/stat", vm->pid);
  _cleanup_free_ char *stat = NULL;
  if (fs_read_file(path, 4096, &stat, NULL, NULL) < 0)
    return false;
  const char *p = strrchr(stat, ')');
  if (p == NULL || p[1] != ' ' || p[2] != 'Z')
    return false;
  /* field 52, exit_code: the 50th after the state (field 3) */
  p += 2;
  for (int field = 3; field < 52 && p; field++)
    if ((p = strchr(p, ' ')) != NULL)
      p++;
  if (p == NULL)
    return false;
  *ws = (int)strtol(p, NULL, 10);
  return true;
}

static void on_proc_closed(uv_handle_t *h) {
  struct vm *vm = h->data;
  close(vm->pidfd);
  vm->pidfd = -1;
  on_handle_closed(h);
}

/* QEMU's pidfd is readable: it has exited; reap it (it is our child, and
 * nothing else waits for it: libuv reaps only what uv_spawn() started). */
static void on_proc_exit(uv_poll_t *p, int status, int events) {
  (void)status;
  (void)events;
  struct vm *vm = p->data;
  int ws = 0;
  pid_t r;
  if (vm->adopted) {
    /* its parent (init, or a subreaper) reaps it */
    r = adopted_status(vm, &ws) ? vm->pid : -1;
  } else {
    while ((r = waitpid(vm->pid, &ws, WNOHANG)) < 0 && errno == EINTR)
      ;
    if (r == 0)
      return; /* not yet */
  }
  uv_poll_stop(p);
  vm->exited = true;
  vm->exit_status = r > 0 && WIFEXITED(ws) ? WEXITSTATUS(ws) : vm->adopted && r < 0 ? -1 : 0;
  vm->term_signal = r > 0 && WIFSIGNALED(ws) ? WTERMSIG(ws) : 0;
  if (vm->cgroup)
    jail_cgroup_remove(vm->cgroup, vm->pid);
  else if (vm->adopted)
    jail_cgroup_release(vm->pid);
  if (vm->freeing)
    uv_close((uv_handle_t *)&vm->proc, on_proc_closed);
  else
    maybe_report(vm);
}

static void on_alloc(uv_handle_t *h, size_t suggested, uv_buf_t *buf) {
  struct vm *vm = h->data;
  (void)suggested;
  /* Keep the newest bytes: drop the oldest half when full. */
  if (vm->errlen >= VM_STDERR_KEEP) {
    size_t keep = VM_STDERR_KEEP / 2;
    memmove(vm->errbuf, vm->errbuf + vm->errlen - keep, keep);
    vm->errlen = keep;
  }
  *buf = uv_buf_init(vm->errbuf + vm->errlen, (unsigned)(VM_STDERR_KEEP - vm->errlen));
}

static void on_stderr(uv_stream_t *s, ssize_t n, const uv_buf_t *buf) {
  struct vm *vm = s->data;
  (void)buf;
  if (n > 0) {
    vm->errlen += (size_t)n;
    vm->errbuf[vm->errlen] = '\0';
    return;
  }
  if (n < 0) {
    uv_read_stop(s);
    vm->stderr_eof = true;
    maybe_report(vm);
  }
}

/* Attaches to the tap name (net/ made it persistent), or makes a throw-away
 * one that goes with the last fd (a template's): QEMU gets the fd. */
static int open_tap(const char *name, struct stack_error **err) {
  _cleanup_close_ int fd = open("/dev/net/tun", O_RDWR | O_CLOEXEC);
  if (fd < 0)
    return stack_error_errno(err, -errno, "cannot open /dev/net/tun for tap %s", name);
  struct ifreq ifr = {0};
  ifr.ifr_flags = IFF_TAP | IFF_NO_PI | IFF_VNET_HDR;
  snprintf(ifr.ifr_name, sizeof ifr.ifr_name, "%s", name);
  if (ioctl(fd, TUNSETIFF, &ifr) < 0)
    return stack_error_errno(err, -errno, "cannot attach to tap %s", name);
  return steal_fd(&fd);
}

/* path made absolute with its symbolic links resolved, so that QEMU's
 * command line names exactly what its jail shows; a file not made yet
 * keeps its name in its resolved directory. */
static char *canon(const char *path) {
  if (path == NULL)
    return NULL;
  char *r = realpath(path, NULL);
  if (r)
    return r;
  _cleanup_free_ char *dir = xstrdup(path);
  char *slash = strrchr(dir, '/');
  const char *base = slash ? slash + 1 : path;
  if (slash)
    *slash = '\0';
  _cleanup_free_ char *rdir = realpath(slash ? (*dir ? dir : "/") : ".", NULL);
  return rdir ? fs_path_join(rdir, base) : xstrdup(path);
}

/* The spec with canonical paths (kept strings in *strings). */
struct canon_spec {
  struct vm_spec spec;
  struct vm_share shares[PROTO_MAX_MOUNTS];
  const char *jail_paths[8];
  char *strings[8 + PROTO_MAX_MOUNTS + 8];
  size_t n;
};

static const char *keep_canon(struct canon_spec *c, const char *path) {
  if (path == NULL)
    return NULL;
  return c->strings[c->n++] = canon(path);
}

static int canon_spec(const struct vm_spec *spec, struct canon_spec *c, struct stack_error **err) {
  if (spec->n_shares > PROTO_MAX_MOUNTS)
    return stack_error_set(err, -E2BIG, "%zu shared directories: at most %d", spec->n_shares,
                           PROTO_MAX_MOUNTS);
  c->spec = *spec;
  c->spec.initrd = keep_canon(c, spec->initrd);
  c->spec.root_disk = keep_canon(c, spec->root_disk);
  c->spec.data_disk = keep_canon(c, spec->data_disk);
  c->spec.state_dir = keep_canon(c, spec->state_dir);
  c->spec.ram_file = keep_canon(c, spec->ram_file);
  for (size_t i = 0; i < spec->n_shares; i++) {
    c->shares[i] = spec->shares[i];
    c->shares[i].path = keep_canon(c, spec->shares[i].path);
  }
  c->spec.shares = c->shares;
  size_t k = 0;
  for (; spec->jail_paths && spec->jail_paths[k]; k++) {
    if (k + 1 >= sizeof c->jail_paths / sizeof c->jail_paths[0])
      return stack_error_set(err, -E2BIG, "too many jail paths");
    c->jail_paths[k] = keep_canon(c, spec->jail_paths[k]);
  }
  c->jail_paths[k] = NULL;
  c->spec.jail_paths = c->jail_paths;
  return 0;
}

static void canon_free(struct canon_spec *c) {
  for (size_t i = 0; i < c->n; i++)
    free(c->strings[i]);
  c->n = 0;
}

/* The fds QEMU starts with: slot i of want becomes fd i. */
#define VM_FDS (QEMU_FD_TAP0 + PROTO_MAX_IFACES)

struct launch {
  const char *path;
  const char *pid_file;
  char **argv;
  const struct jail *jail;
  int want[VM_FDS]; /* -1 = closed */
  int nwant;
};

/* The child: its own session, default signals, the fds in place, the
 * jail, QEMU.  Between fork and exec: async-signal-safe calls only. */
static void child(struct launch *l) {
  struct sigaction dfl = {.sa_handler = SIG_DFL};
  for (int sig = 1; sig < NSIG; sig++)
    sigaction(sig, &dfl, NULL);
  sigset_t none;
  sigemptyset(&none);
  sigprocmask(SIG_SETMASK, &none, NULL);
  setsid();
  /* out of the way of the target numbers first, then into place */
  for (int i = 0; i < l->nwant; i++)
    if (l->want[i] >= 0 && l->want[i] < l->nwant &&
        (l->want[i] = fcntl(l->want[i], F_DUPFD, l->nwant)) < 0)
      _exit(127);
  for (int i = 0; i < l->nwant; i++) {
    if (l->want[i] < 0)
      close(i);
    else if (dup2(l->want[i], i) < 0)
      _exit(127);
  }
  if (close_range((unsigned)l->nwant, ~0U, 0) < 0) /* before Linux 5.9 */
    for (int fd = l->nwant; fd < 65536; fd++)
      close(fd);
  if (l->pid_file) {
    /* before QEMU runs, whatever happens to our parent from now on */
    int fd = open(l->pid_file, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
    char num[21];
    if (fd < 0)
      _exit(127);
    js_write(fd, js_u64(num, (uint64_t)getpid()));
    js_write(fd, "\n");
    close(fd);
  }
  if (jail_enter(l->jail) < 0)
    _exit(127);
  extern char **environ;
  execve(l->path, l->argv, environ);
  js_report("cannot run", l->path, errno);
  _exit(127);
}

int vm_start(uv_loop_t *loop, const struct vm_spec *spec_in, vm_exit_cb on_exit, void *data,
             struct vm **out, struct stack_error **err) {
  const char *name = spec_in->name && *spec_in->name ? spec_in->name : "vm";
  struct vm_host probed;
  const struct vm_host *host = spec_in->host;
  int r;
  if (!host) {
    if ((r = vm_host_probe(&probed, err)) < 0)
      return r;
    host = &probed;
  }
  if (!spec_in->state_dir)
    return stack_error_set(err, -EINVAL, "VM %s: no state directory", name);
  if (spec_in->n_nets > PROTO_MAX_IFACES)
    return stack_error_set(err, -E2BIG, "VM %s: %zu networks: at most %d", name, spec_in->n_nets,
                           PROTO_MAX_IFACES);
  const char *qemu_name = spec_in->qemu && *spec_in->qemu ? spec_in->qemu : "qemu-system-x86_64";
  _cleanup_free_ char *qemu = fs_which(qemu_name);
  if (qemu == NULL)
    return stack_error_set(err, -ENOENT, "VM %s: cannot find %s in $PATH (install qemu-system-x86)",
                           name, qemu_name);
  _cleanup_free_ char *kernel_found = NULL;
  if ((r = kernel_find(spec_in->kernel, &kernel_found, NULL, err)) < 0)
    return stack_error_prefix(err, "VM %s", name);
  _cleanup_free_ char *kernel = canon(kernel_found);
  struct canon_spec cs = {0};
  if ((r = canon_spec(spec_in, &cs, err)) < 0) {
    canon_free(&cs);
    return stack_error_prefix(err, "VM %s", name);
  }
  const struct vm_spec *spec = &cs.spec;

  struct vm *vm = xcalloc(1, sizeof(*vm));
  vm->pidfd = -1;
  vm->on_exit = on_exit;
  vm->data = data;
  vm->name = xstrdup(name);
  vm->console_path = xasprintf("%s/console.log", spec->state_dir);
  vm->qmp_path = spec->qmp_socket ? xstrdup(spec->qmp_socket)
                                  : xasprintf("%s/qmp.sock", spec->state_dir);
  vm->control_path = spec->control_socket ? xstrdup(spec->control_socket) : NULL;

  _cleanup_strv_ char **argv = NULL;
  _cleanup_free_ char *ram_file = NULL;
  _cleanup_close_ int qmp_fd = -1, ctl_fd = -1, in_fd = -1, null_fd = -1;
  int err_fds[2] = {-1, -1};
  int taps[PROTO_MAX_IFACES];
  size_t n_taps = 0;
  struct jail *jail = NULL;
  if (spec->incoming && (in_fd = open(spec->incoming, O_RDONLY | O_CLOEXEC)) < 0) {
    r = stack_error_errno(err, -errno, "cannot open the VM template %s", spec->incoming);
    goto fail;
  }
  if (spec->incoming && spec->ram == VM_RAM_TEMPLATE_CLONE && !spec->ram_file) {
    struct stat st;
    if (fstat(in_fd, &st) < 0) {
      r = stack_error_errno(err, -errno, "cannot stat the VM template %s", spec->incoming);
      goto fail;
    }
    ram_file = template_ram_path(spec->incoming, (unsigned long long)st.st_ino);
    if (access(ram_file, R_OK) < 0) {
      r = stack_error_errno(err, -errno, "the VM template %s has no RAM file %s", spec->incoming,
                            ram_file);
      goto fail;
    }
    cs.spec.ram_file = ram_file;
  }
  vm->ignore_shared = spec->incoming && spec->ram == VM_RAM_TEMPLATE_CLONE;
  if ((r = qemu_build_argv(spec, host, kernel, vm->console_path, &argv, err)) < 0)
    goto fail;
  for (; n_taps < spec->n_nets; n_taps++)
    if ((taps[n_taps] = open_tap(spec->nets[n_taps].tap, err)) < 0) {
      r = taps[n_taps];
      goto fail;
    }
  struct jail_opts jo = {
      .spec = spec, .host = host, .qemu = qemu, .kernel = kernel, .console = vm->console_path};
  if ((r = jail_new(&jo, &jail, err)) < 0)
    goto fail;
  if ((null_fd = open("/dev/null", O_RDWR | O_CLOEXEC)) < 0 || pipe2(err_fds, O_CLOEXEC) < 0) {
    r = stack_error_errno(err, -errno, "cannot open /dev/null or make a pipe");
    goto fail;
  }
  if ((qmp_fd = listen_at(vm->qmp_path, err)) < 0) {
    r = qmp_fd;
    goto fail;
  }
  if (vm->control_path && (ctl_fd = listen_at(vm->control_path, err)) < 0) {
    r = ctl_fd;
    goto fail_qmp;
  }

  struct launch l = {
      .path = jail_exec_path(jail), .pid_file = spec_in->pid_file, .argv = argv, .jail = jail};
  l.nwant = QEMU_FD_TAP0 + (int)n_taps;
  int want[] = {null_fd, null_fd, err_fds[1], qmp_fd, ctl_fd, in_fd};
  for (int i = 0; i < QEMU_FD_TAP0; i++)
    l.want[i] = want[i];
  for (size_t i = 0; i < n_taps; i++)
    l.want[QEMU_FD_TAP0 + i] = taps[i];
  /* no signal handler of ours may run in the child before it resets them */
  sigset_t all, old;
  sigfillset(&all);
  pthread_sigmask(SIG_SETMASK, &all, &old);
  pid_t pid = fork();
  if (pid == 0)
    child(&l);
  int fork_errno = errno;
  pthread_sigmask(SIG_SETMASK, &old, NULL);
  if (pid < 0) {
    r = stack_error_errno(err, -fork_errno, "cannot start %s", qemu);
    goto fail_ctl;
  }
  vm->pid = pid;
  if ((vm->pidfd = pidfd_open(pid, 0)) < 0) {
    r = stack_error_errno(err, -errno, "pidfd_open (Linux 5.3 or later is needed)");
    kill(pid, SIGKILL);
    while (waitpid(pid, NULL, 0) < 0 && errno == EINTR)
      ;
    goto fail_ctl;
  }
  if (jail_cgroup_dir(jail)[0])
    vm->cgroup = xstrdup(jail_cgroup_dir(jail));
  jail_free(jail);
  jail = NULL;
  close(err_fds[1]);
  for (size_t i = 0; i < n_taps; i++)
    close(taps[i]);
  canon_free(&cs);

  vm->proc.data = vm;
  vm->err_pipe.data = vm;
  uv_poll_init(loop, &vm->proc, vm->pidfd);
  uv_poll_start(&vm->proc, UV_READABLE, on_proc_exit);
  uv_pipe_init(loop, &vm->err_pipe, 0);
  uv_pipe_open(&vm->err_pipe, err_fds[0]);
  vm->open_handles = 2;
  uv_read_start((uv_stream_t *)&vm->err_pipe, on_alloc, on_stderr);
  vm->qmp_keep = spec_in->qmp_event != NULL;
  vm->qmp_event = spec_in->qmp_event;
  if (spec_in->incoming || vm->qmp_keep) {
    /* The QMP connection queues in the listening socket until QEMU's main
     * loop runs; by then the control socket (connected by the caller right
     * after this returns, and accepted in the same loop iteration) is open,
     * so the restored guest finds its host connected. */
    vm->restored = spec_in->restored;
    vm->restoring = spec_in->incoming != NULL;
    _cleanup_error_ struct stack_error *e = NULL;
    if (qmp_connect(loop, vm->qmp_path, on_qmp_state, on_qmp_event, vm, &vm->qmp, &e) < 0) {
      vm->qmp = NULL;
      note_error(vm, e->msg);
      kill(vm->pid, SIGKILL);
    }
  }
  *out = vm;
  return 0;

fail_ctl:
  if (vm->control_path)
    unlink(vm->control_path);
fail_qmp:
  unlink(vm->qmp_path);
fail:
  for (size_t i = 0; i < n_taps; i++)
    close(taps[i]);
  if (err_fds[0] >= 0) {
    close(err_fds[0]);
    close(err_fds[1]);
  }
  jail_free(jail);
  canon_free(&cs);
  vm_release(vm);
  return stack_error_prefix(err, "VM %s", name);
}

int vm_kill(struct vm *vm, int signum, struct stack_error **err) {
  if (vm->exited)
    return stack_error_set(err, -ESRCH, "VM %s: QEMU has already exited", vm->name);
  /* not reaped yet: the pid is still ours (the pidfd holds an adopted one) */
  if ((vm->adopted ? pidfd_send_signal(vm->pidfd, signum, NULL, 0) : kill(vm->pid, signum)) < 0)
    return stack_error_errno(err, -errno, "VM %s: cannot signal QEMU (pid %d)", vm->name,
                             vm->pid);
  return 0;
}

void vm_free(struct vm *vm) {
  if (!vm)
    return;
  vm->freeing = true;
  qmp_close(vm->qmp);
  vm->qmp = NULL;
  if (vm->control_path)
    unlink(vm->control_path);
  unlink(vm->qmp_path);
  /* A running QEMU is killed and its handle closed only once it has been
   * reaped (on_proc_exit): closing it earlier would leave a zombie. */
  if (vm->exited)
    uv_close((uv_handle_t *)&vm->proc, on_proc_closed);
  else if (vm->adopted)
    pidfd_send_signal(vm->pidfd, SIGKILL, NULL, 0);
  else
    kill(vm->pid, SIGKILL);
  if (!vm->adopted && !uv_is_closing((uv_handle_t *)&vm->err_pipe))
    uv_close((uv_handle_t *)&vm->err_pipe, on_handle_closed);
}

bool vm_pid_has_mark(int pid, const char *mark) {
  char path[64];
  snprintf(path, sizeof path, "/proc/%d/cmdline", pid);
  _cleanup_free_ char *cmd = NULL;
  size_t len = 0;
  /* a zombie's command line is empty */
  if (pid <= 0 || fs_read_file(path, 1 << 20, &cmd, &len, NULL) < 0 || len == 0)
    return false;
  for (size_t i = 0; i < len; i++)
    if (cmd[i] == '\0')
      cmd[i] = ' ';
  return strstr(cmd, mark) != NULL;
}

int vm_pid_file_read(const char *path) {
  _cleanup_free_ char *text = NULL;
  int r = fs_read_file(path, 64, &text, NULL, NULL);
  if (r < 0)
    return r;
  char *end;
  long pid = strtol(text, &end, 10);
  if (end == text || (*end && *end != '\n') || pid <= 0 || pid > 4194304)
    return -EINVAL;
  return (int)pid;
}

int vm_adopt(uv_loop_t *loop, const struct vm_adopt_spec *spec, vm_exit_cb on_exit, void *data,
             struct vm **out, struct stack_error **err) {
  const char *name = spec->name && *spec->name ? spec->name : "vm";
  _cleanup_close_ int pidfd = spec->pid > 0 ? pidfd_open(spec->pid, 0) : -1;
  /* the pidfd first: a process that is still there after the check is
   * the one the check read */
  if (pidfd < 0 || !vm_pid_has_mark(spec->pid, spec->cmdline_mark) ||
      pidfd_send_signal(pidfd, 0, NULL, 0) < 0)
    return stack_error_set(err, -ESRCH, "VM %s: QEMU (pid %d) no longer runs", name, spec->pid);
  struct vm *vm = xcalloc(1, sizeof(*vm));
  vm->adopted = true;
  vm->pid = spec->pid;
  vm->pidfd = steal_fd(&pidfd);
  vm->on_exit = on_exit;
  vm->data = data;
  vm->name = xstrdup(name);
  vm->console_path = xasprintf("%s/console.log", spec->state_dir);
  vm->qmp_path = spec->qmp_socket ? xstrdup(spec->qmp_socket)
                                  : xasprintf("%s/qmp.sock", spec->state_dir);
  vm->control_path = spec->control_socket ? xstrdup(spec->control_socket) : NULL;
  vm->stderr_eof = true; /* its stderr went to the process that started it */
  vm->proc.data = vm;
  uv_poll_init(loop, &vm->proc, vm->pidfd);
  uv_poll_start(&vm->proc, UV_READABLE, on_proc_exit);
  vm->open_handles = 1;
  vm->qmp_keep = spec->qmp_event != NULL;
  vm->qmp_event = spec->qmp_event;
  _cleanup_error_ struct stack_error *e = NULL;
  if (vm->qmp_keep &&
      qmp_connect(loop, vm->qmp_path, on_qmp_state, on_qmp_event, vm, &vm->qmp, &e) < 0) {
    /* the guest channel may still answer: the VM stays, without QMP */
    fprintf(stderr, "stack: VM %s: %s\n", name, e->msg);
    vm->qmp = NULL;
  }
  *out = vm;
  return 0;
}
