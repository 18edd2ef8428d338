#include "runtime/vm/vm.h"

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include "runtime/util/cleanup.h"
#include "runtime/util/error.h"
#include "runtime/util/xalloc.h"
#include "runtime/vm/kernel.h"
#include "runtime/vm/qemu.h"
#include "runtime/vm/qmp.h"

#define VM_STDERR_KEEP 16384

struct vm {
  uv_process_t proc;
  uv_pipe_t err_pipe;
  vm_exit_cb on_exit;
  void *data;
  char *name;
  char *console_path;
  char *qmp_path;
  char *control_path; /* NULL without a control channel */
  struct qmp *restore_qmp; /* loading a template's state (spec->incoming) */
  void (*restored)(void *data, int status, const char *error);
  char errbuf[VM_STDERR_KEEP + 1];
  size_t errlen;
  int pid;
  int64_t exit_status;
  int term_signal;
  bool exited;     /* the process exit was seen */
  bool stderr_eof; /* QEMU's stderr was read to the end */
  bool reported;   /* on_exit was called */
  bool freeing;    /* vm_free() was called; memory goes when handles close */
  int open_handles;
};

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
  qmp_close(vm->restore_qmp);
  vm->restore_qmp = NULL;
  if (status < 0) {
    _cleanup_free_ char *m = xasprintf("stack: restoring the VM template failed: %s", error);
    note_error(vm, m);
    if (!vm->exited)
      uv_process_kill(&vm->proc, SIGKILL);
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

static void on_restore_qmp(struct qmp *q, int status, void *data) {
  struct vm *vm = data;
  if (status < 0) {
    restore_done(vm, status, "QEMU's QMP connection closed");
    return;
  }
  cJSON *args = cJSON_CreateObject();
  char uri[16];
  snprintf(uri, sizeof uri, "fd:%d", QEMU_FD_INCOMING);
  cJSON_AddStringToObject(args, "uri", uri);
  _cleanup_error_ struct stack_error *e = NULL;
  if (qmp_execute(q, "migrate-incoming", args, on_restore_reply, vm, &e) < 0)
    restore_done(vm, -EIO, e->msg);
}

static void vm_release(struct vm *vm) {
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

static void on_proc_exit(uv_process_t *p, int64_t exit_status, int term_signal) {
  struct vm *vm = p->data;
  vm->exited = true;
  vm->exit_status = exit_status;
  vm->term_signal = term_signal;
  if (vm->freeing)
    uv_close((uv_handle_t *)&vm->proc, on_handle_closed);
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

int vm_start(uv_loop_t *loop, const struct vm_spec *spec, vm_exit_cb on_exit, void *data,
             struct vm **out, struct stack_error **err) {
  const char *name = spec->name && *spec->name ? spec->name : "vm";
  struct vm_host probed;
  const struct vm_host *host = spec->host;
  int r;
  if (!host) {
    if ((r = vm_host_probe(&probed, err)) < 0)
      return r;
    host = &probed;
  }
  if (!spec->state_dir)
    return stack_error_set(err, -EINVAL, "VM %s: no state directory", name);
  _cleanup_free_ char *kernel = NULL;
  if ((r = kernel_find(spec->kernel, &kernel, NULL, err)) < 0)
    return stack_error_prefix(err, "VM %s", name);

  struct vm *vm = xcalloc(1, sizeof(*vm));
  vm->on_exit = on_exit;
  vm->data = data;
  vm->name = xstrdup(name);
  vm->console_path = xasprintf("%s/console.log", spec->state_dir);
  vm->qmp_path = spec->qmp_socket ? xstrdup(spec->qmp_socket)
                                  : xasprintf("%s/qmp.sock", spec->state_dir);
  vm->control_path = spec->control_socket ? xstrdup(spec->control_socket) : NULL;

  _cleanup_strv_ char **argv = NULL;
  _cleanup_close_ int qmp_fd = -1;
  _cleanup_close_ int ctl_fd = -1;
  _cleanup_close_ int in_fd = -1;
  if (spec->incoming && (in_fd = open(spec->incoming, O_RDONLY | O_CLOEXEC)) < 0) {
    r = stack_error_errno(err, -errno, "cannot open the VM template %s", spec->incoming);
    goto fail;
  }
  if ((r = qemu_build_argv(spec, host, kernel, vm->console_path, &argv, err)) < 0)
    goto fail;
  if ((qmp_fd = listen_at(vm->qmp_path, err)) < 0) {
    r = qmp_fd;
    goto fail;
  }
  if (vm->control_path && (ctl_fd = listen_at(vm->control_path, err)) < 0) {
    r = ctl_fd;
    goto fail_qmp;
  }

  uv_stdio_container_t stdio[6] = {
      {.flags = UV_IGNORE},
      {.flags = UV_IGNORE},
      {.flags = UV_CREATE_PIPE | UV_WRITABLE_PIPE, .data.stream = (uv_stream_t *)&vm->err_pipe},
      {.flags = UV_INHERIT_FD, .data.fd = qmp_fd},
      {.flags = ctl_fd >= 0 ? UV_INHERIT_FD : UV_IGNORE, .data.fd = ctl_fd},
      {.flags = UV_INHERIT_FD, .data.fd = in_fd},
  };
  uv_pipe_init(loop, &vm->err_pipe, 0);
  vm->err_pipe.data = vm;
  vm->open_handles = 1;
  uv_process_options_t opts = {
      .exit_cb = on_proc_exit,
      .file = argv[0],
      .args = argv,
      .stdio = stdio,
      .stdio_count = in_fd >= 0 ? 6 : ctl_fd >= 0 ? 5 : 4,
      /* Its own session: a Ctrl-C meant for the guest's process must not kill
       * QEMU, and a supervisor may outlive (or be outlived by) its VMs. */
      .flags = UV_PROCESS_DETACHED,
  };
  vm->proc.data = vm;
  r = uv_spawn(loop, &vm->proc, &opts);
  if (r < 0) {
    stack_error_set(err, r, "VM %s: cannot start %s: %s%s", name, argv[0], uv_strerror(r),
                    r == UV_ENOENT ? " (install qemu-system-x86)" : "");
    /* libuv wants a failed process handle closed too. */
    vm->open_handles++;
    uv_close((uv_handle_t *)&vm->proc, on_handle_closed);
    uv_close((uv_handle_t *)&vm->err_pipe, on_handle_closed);
    vm->freeing = true;
    if (vm->control_path)
      unlink(vm->control_path);
    unlink(vm->qmp_path);
    return r;
  }
  vm->open_handles++;
  vm->pid = vm->proc.pid;
  uv_read_start((uv_stream_t *)&vm->err_pipe, on_alloc, on_stderr);
  if (spec->incoming) {
    /* The QMP connection queues in the listening socket until QEMU's main
     * loop runs; by then the control socket (connected by the caller right
     * after this returns, and accepted in the same loop iteration) is open,
     * so the restored guest finds its host connected. */
    vm->restored = spec->restored;
    _cleanup_error_ struct stack_error *e = NULL;
    if (qmp_connect(loop, vm->qmp_path, on_restore_qmp, NULL, vm, &vm->restore_qmp, &e) < 0) {
      note_error(vm, e->msg);
      uv_process_kill(&vm->proc, SIGKILL);
    }
  }
  *out = vm;
  return 0;

fail_qmp:
  unlink(vm->qmp_path);
fail:
  vm_release(vm);
  return stack_error_prefix(err, "VM %s", name);
}

int vm_kill(struct vm *vm, int signum, struct stack_error **err) {
  if (vm->exited)
    return stack_error_set(err, -ESRCH, "VM %s: QEMU has already exited", vm->name);
  int r = uv_process_kill(&vm->proc, signum);
  if (r < 0)
    return stack_error_set(err, r, "VM %s: cannot signal QEMU (pid %d): %s", vm->name, vm->pid,
                           uv_strerror(r));
  return 0;
}

void vm_free(struct vm *vm) {
  if (!vm)
    return;
  vm->freeing = true;
  qmp_close(vm->restore_qmp);
  vm->restore_qmp = NULL;
  if (vm->control_path)
    unlink(vm->control_path);
  unlink(vm->qmp_path);
  /* A running QEMU is killed and its handle closed only once it has been
   * reaped (on_proc_exit): closing it earlier would leave a zombie. */
  if (vm->exited)
    uv_close((uv_handle_t *)&vm->proc, on_handle_closed);
  else
    uv_process_kill(&vm->proc, SIGKILL);
  if (!uv_is_closing((uv_handle_t *)&vm->err_pipe))
    uv_close((uv_handle_t *)&vm->err_pipe, on_handle_closed);
}
