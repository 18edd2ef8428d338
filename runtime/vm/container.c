#include "runtime/vm/container.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/pidfd.h>
#include <sys/random.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <cjson/cJSON.h>

#include "guest/proto.h"
#include "runtime/image/image.h"
#include "runtime/util/cleanup.h"
#include "runtime/util/error.h"
#include "runtime/util/fdio.h"
#include "runtime/util/fs_space.h"
#include "runtime/util/fsutil.h"
#include "runtime/util/paths.h"
#include "runtime/util/state_path.h"
#include "runtime/util/sbuf.h"
#include "runtime/util/xalloc.h"
#include "runtime/vm/channel.h"
#include "runtime/vm/boot_queue.h"
#include "runtime/vm/jail_cgroup.h"
#include "runtime/vm/kernel.h"
#include "runtime/vm/qemu_probe.h"
#include "runtime/vm/qmp.h"
#include "runtime/vm/template.h"
#include "runtime/vm/vm.h"

/* From QEMU's start to the guest's HELLO: ~0.3 s normally, seconds on a
 * loaded machine under TCG; a guest silent this long is stuck. */
#define BOOT_TIMEOUT_MS 60000
/* Lines of the guest's console quoted when the VM dies. */
#define CONSOLE_TAIL_BYTES 1024

struct exec_session {
  uint16_t id; /* 0 = free slot */
  const struct container_exec_io *io;
  void *data;
  uint64_t deadline; /* uv_now() by which the guest must start it; 0 once started */
};

/* A container_pause() or container_resume() waiting for QEMU's answer. */
struct vm_op {
  struct container *c; /* NULL once container_free() answered it */
  bool pause;
  container_done_cb cb;
  void *data;
  bool sending;    /* inside qmp_execute(): a failure now is returned, not called back */
  int early_error; /* that failure */
  struct vm_op *next;
};

/* A TOP request waiting for its PROCS. */
struct top_request {
  uint16_t id; /* 0 = free slot */
  container_top_cb cb;
  void *data;
  uint64_t deadline; /* uv_now() by which the guest must answer */
};

struct container {
  uv_loop_t *loop;
  char id[65];
  char *name;
  char *owner; /* container_opts.owner, or NULL */
  char *image_ref;
  /* adopted (container_adopt()): the VM is another process's; the guest
   * has not answered ATTACH yet while waiting_attach */
  bool adopted, waiting_attach;
  /* adopted: QEMU said its VM is paused (a guest that cannot answer yet) */
  bool adopted_paused;
  char *state_dir, *run_dir;
  struct vm *vm;
  struct channel *ch;
  /* the VM to start, kept while a template is being built */
  struct template_wait *twait;
  struct vm_host host;
  char *kernel, *initrd, *root_disk, *disk, *ctl, *qmp, *pid_file;
  uint64_t mem_mib, disk_bytes;
  unsigned tcg_cache_mib;
  bool disk_reused; /* opts->data_disk existed: its files are kept */
  unsigned cpus;
  bool crowded;
  char *clone_of; /* the template state the VM was restored from */
  struct boot_queue *boots;
  struct boot_ticket *ticket; /* a start slot held or waited for */
  char *pending_clone;        /* what boot() restores once the slot is ours */
  char tmacs[PROTO_MAX_IFACES][18];
  uv_timer_t timer; /* the boot's timeout, then exec sessions' start deadlines */
  uv_timer_t space_timer; /* while paused on a full file system */
  bool timer_open;
  int open_timers;
  const struct container_io *io;
  void *data;
  bool remove;
  bool bound_to_host;
  /* what START sends */
  char **argv, **env;
  char *user, *workdir, *hostname, *domainname;
  bool tty, interactive;
  unsigned rows, cols;
  /* stdin that came before START was sent (the guest drops frames for a
   * session it does not know yet) */
  struct sbuf early_stdin;
  bool early_eof, start_sent;
  /* network and limits, copied from the options */
  struct vm_net *vm_nets;
  struct proto_iface ifaces[PROTO_MAX_IFACES];
  size_t n_nets;
  char **strings; /* owns what vm_nets and ifaces point to */
  size_t n_strings;
  char **gateways;
  char *resolv, *hosts_extra;
  struct proto_rlimit rlimits[PROTO_MAX_RLIMITS];
  size_t n_rlimits;
  struct proto_mount mounts[PROTO_MAX_MOUNTS]; /* strings in `strings` */
  size_t n_mounts;
  const char *sysctls[PROTO_MAX_SYSCTLS];
  size_t n_sysctls;
  struct vm_share shares[PROTO_MAX_MOUNTS]; /* strings in `strings` */
  size_t n_shares;
  struct proto_file files[PROTO_MAX_FILES]; /* paths and contents in `strings` */
  size_t n_files;
  uint64_t caps; /* for START, also of exec sessions */
  uint64_t pids_max; /* the same */
  bool no_new_privs; /* the same */
  bool read_only;
  struct exec_session execs[CONTAINER_MAX_EXECS];
  uint16_t next_session;
  struct top_request tops[CONTAINER_MAX_TOPS];
  uint16_t next_top;
  bool running;
  /* the VM's state from QEMU's events (container_vm_state()); vms's
   * strings are these */
  struct container_vm_state vms;
  char *vms_disk, *vms_reason, *vms_fs;
  bool io_stop;        /* QEMU stopped the VM on a failed write: its STOP comes */
  bool pause_asked;    /* a container_pause() in flight: the STOP is ours */
  bool resume_asked;   /* the same for container_resume() and RESUME */
  bool user_paused;    /* paused by request: never resumed by the runner */
  bool auto_resuming;  /* the runner's cont is in flight */
  bool told_io_report; /* a failed write reported to the guest was said once */
  uint64_t space_floor; /* free bytes under the disk when its write failed */
  struct vm_op *ops;
  /* outcome */
  bool have_exit, reported, vm_exited;
  struct container_status status;
  struct container_times times;
};

const char *container_id(const struct container *c) { return c->id; }
const char *container_state_dir(const struct container *c) { return c->state_dir; }
const struct container_times *container_times(const struct container *c) { return &c->times; }
int container_qemu_pid(const struct container *c) { return c->vm ? vm_pid(c->vm) : 0; }

const char *container_qmp_path(const struct container *c) {
  return c->vm ? vm_qmp_path(c->vm) : NULL;
}
const struct container_vm_state *container_vm_state(const struct container *c) {
  return &c->vms;
}

static bool container_id_valid(const char *id) {
  return strlen(id) == 64 && strspn(id, "0123456789abcdef") == 64;
}

/* ---- the command and its environment, from the image and the options ---- */

static size_t strv_len(char *const *v) {
  size_t n = 0;
  while (v && v[n])
    n++;
  return n;
}

static void strv_push(char ***v, size_t *n, const char *s) {
  *v = xrealloc(*v, (*n + 2) * sizeof **v);
  (*v)[(*n)++] = xstrdup(s);
  (*v)[*n] = NULL;
}

char **container_argv(const struct image_config *ic, char *const *entrypoint, char *const *cmd) {
  char **v = NULL;
  size_t n = 0;
  char *const *ep = entrypoint ? entrypoint : ic->entrypoint;
  char *const *c = strv_len(cmd) ? cmd : entrypoint ? NULL : ic->cmd;
  for (size_t i = 0; ep && ep[i]; i++)
    strv_push(&v, &n, ep[i]);
  for (size_t i = 0; c && c[i]; i++)
    strv_push(&v, &n, c[i]);
  return v;
}

/* Sets KEY=... in v, replacing an earlier KEY (later sources win). */
static void env_set(char ***v, size_t *n, const char *kv) {
  const char *eq = strchr(kv, '=');
  size_t klen = eq ? (size_t)(eq - kv) : strlen(kv);
  for (size_t i = 0; i < *n; i++) {
    if (strncmp((*v)[i], kv, klen) == 0 && (*v)[i][klen] == '=') {
      free((*v)[i]);
      (*v)[i] = xstrdup(kv);
      return;
    }
  }
  strv_push(v, n, kv);
}

static char **build_env(const struct image_config *ic, const struct container_opts *o,
                        const char *hostname) {
  char **v = NULL;
  size_t n = 0;
  _cleanup_free_ char *h = xasprintf("HOSTNAME=%s", hostname);
  env_set(&v, &n, h);
  for (size_t i = 0; ic->env && ic->env[i]; i++)
    if (strchr(ic->env[i], '='))
      env_set(&v, &n, ic->env[i]);
  for (size_t i = 0; o->env && o->env[i]; i++)
    if (strchr(o->env[i], '='))
      env_set(&v, &n, o->env[i]);
  if (v == NULL)
    v = xcalloc(1, sizeof *v);
  return v;
}

/* ---- state ---- */

static void write_state(struct container *c, const char *status) {
  cJSON *j = cJSON_CreateObject();
  cJSON_AddStringToObject(j, "id", c->id);
  cJSON_AddStringToObject(j, "name", c->name);
  cJSON_AddStringToObject(j, "image", c->image_ref);
  cJSON *a = cJSON_AddArrayToObject(j, "command");
  for (size_t i = 0; c->argv && c->argv[i]; i++)
    cJSON_AddItemToArray(a, cJSON_CreateString(c->argv[i]));
  cJSON_AddStringToObject(j, "status", status);
  if (c->owner)
    cJSON_AddStringToObject(j, "owner", c->owner);
  /* what exec sessions inherit, for a process that adopts the VM later
   * (container_adopt()); 64-bit values as strings (JSON numbers are
   * doubles) */
  cJSON *x = cJSON_AddObjectToObject(j, "exec");
  cJSON *env = cJSON_AddArrayToObject(x, "env");
  for (size_t i = 0; c->env && c->env[i]; i++)
    cJSON_AddItemToArray(env, cJSON_CreateString(c->env[i]));
  cJSON_AddStringToObject(x, "user", c->user ? c->user : "");
  cJSON_AddStringToObject(x, "workdir", c->workdir ? c->workdir : "");
  char num[32];
  snprintf(num, sizeof num, "%llx", (unsigned long long)c->caps);
  cJSON_AddStringToObject(x, "caps", num);
  snprintf(num, sizeof num, "%llu", (unsigned long long)c->pids_max);
  cJSON_AddStringToObject(x, "pids_max", num);
  cJSON_AddBoolToObject(x, "no_new_privs", c->no_new_privs);
  cJSON *rl = cJSON_AddArrayToObject(x, "rlimits");
  for (size_t i = 0; i < c->n_rlimits; i++) {
    cJSON *o = cJSON_CreateObject();
    cJSON_AddNumberToObject(o, "resource", c->rlimits[i].resource);
    snprintf(num, sizeof num, "%llu", (unsigned long long)c->rlimits[i].soft);
    cJSON_AddStringToObject(o, "soft", num);
    snprintf(num, sizeof num, "%llu", (unsigned long long)c->rlimits[i].hard);
    cJSON_AddStringToObject(o, "hard", num);
    cJSON_AddItemToArray(rl, o);
  }
  /* for container_gc(): whose state this is while it lives */
  cJSON_AddBoolToObject(j, "remove", c->remove);
  cJSON_AddNumberToObject(j, "owner_pid", (double)getpid());
  if (c->vm && vm_pid(c->vm) > 0)
    cJSON_AddNumberToObject(j, "qemu_pid", (double)vm_pid(c->vm));
  if (c->have_exit || c->status.error)
    cJSON_AddNumberToObject(j, "exit_code", c->status.exit_code);
  if (c->status.error)
    cJSON_AddStringToObject(j, "error", c->status.error);
  cJSON_AddNumberToObject(j, "updated", (double)time(NULL));
  _cleanup_free_ char *text = cJSON_Print(j);
  cJSON_Delete(j);
  /* Replaced atomically but not fsync'ed: it is rewritten at every step of
   * the hot path, and a crash only loses the latest status. */
  _cleanup_free_ char *path = fs_path_join(c->state_dir, "container.json");
  _cleanup_free_ char *tmp = fs_path_join(c->state_dir, ".container.json.tmp");
  _cleanup_close_ int fd = text ? open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644) : -1;
  if (fd >= 0 && (fd_write_all(fd, text, strlen(text)) < 0 || rename(tmp, path) < 0))
    unlink(tmp);
}

/* ---- the end ---- */

static struct exec_session *exec_find(struct container *c, uint16_t session) {
  for (int i = 0; session && i < CONTAINER_MAX_EXECS; i++)
    if (c->execs[i].id == session)
      return &c->execs[i];
  return NULL;
}

/* Ends an exec session (its slot is free before the callback runs, so the
 * callback may start another). */
static void exec_done(struct container *c, struct exec_session *x,
                      const struct container_status *st) {
  struct exec_session copy = *x;
  x->id = 0;
  if (copy.io->exited)
    copy.io->exited(copy.data, st);
  (void)c;
}

/* The container stopped: sessions still open end with an error. */
static void exec_abort_all(struct container *c, const char *why) {
  struct container_status st = {.exit_code = CONTAINER_EXIT_FAILED, .error = (char *)why};
  for (int i = 0; i < CONTAINER_MAX_EXECS; i++)
    if (c->execs[i].id)
      exec_done(c, &c->execs[i], &st);
}

/* Unanswered TOP requests end with why (each slot is free before its
 * callback runs). */
static void top_abort_all(struct container *c, const char *why) {
  for (int i = 0; i < CONTAINER_MAX_TOPS; i++) {
    struct top_request t = c->tops[i];
    if (t.id == 0)
      continue;
    c->tops[i].id = 0;
    t.cb(t.data, NULL, why);
  }
}

static void report(struct container *c) {
  if (c->reported || !c->vm_exited)
    return;
  c->reported = true;
  write_state(c, c->status.error ? "failed" : "exited");
  if (c->io->exited)
    c->io->exited(c->data, &c->status);
}

/* The container failed (not the process): remember the first reason and
 * stop the VM. */
static void fail(struct container *c, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void fail(struct container *c, const char *fmt, ...) {
  if (!c->have_exit && c->status.error == NULL) {
    va_list ap;
    va_start(ap, fmt);
    c->status.error = xvasprintf(fmt, ap);
    va_end(ap);
    c->status.exit_code = CONTAINER_EXIT_FAILED;
  }
  if (c->vm && !c->vm_exited)
    vm_kill(c->vm, SIGKILL, NULL);
}

static void on_boot_timeout(uv_timer_t *t) {
  struct container *c = t->data;
  if (c->times.hello == 0)
    fail(c, "the guest did not start within %d s; its kernel messages are in %s",
         BOOT_TIMEOUT_MS / 1000, vm_console_path(c->vm));
}

/* The end of the console log (the guest kernel's last words), or "". */
static char *console_tail(struct container *c) {
  _cleanup_free_ char *text = NULL;
  size_t len = 0;
  if (fs_read_file(vm_console_path(c->vm), 1 << 20, &text, &len, NULL) < 0 || len == 0)
    return xstrdup("");
  const char *p = len > CONSOLE_TAIL_BYTES ? text + len - CONSOLE_TAIL_BYTES : text;
  if (p != text && strchr(p, '\n'))
    p = strchr(p, '\n') + 1;
  return xasprintf("; the guest's last messages:\n%s", p);
}

/* The signal QEMU says it ended on: it catches SIGTERM, SIGINT and SIGHUP,
 * shuts the VM down and exits 0, saying "terminating on signal N" (QEMU
 * 2.x to 10); 0 if it says nothing of the kind. */
static int qemu_terminating_signal(const char *qerr) {
  const char *p = strstr(qerr, "terminating on signal ");
  if (p == NULL)
    return 0;
  long sig = strtol(p + strlen("terminating on signal "), NULL, 10);
  return sig > 0 && sig < 65 ? (int)sig : 0;
}

static void on_vm_exit(struct vm *vm, int64_t exit_status, int term_signal, void *data) {
  (void)vm;
  struct container *c = data;
  c->vm_exited = true;
  c->running = false;
  c->times.vm_exited = uv_hrtime();
  boot_queue_leave(c->ticket);
  c->ticket = NULL;
  exec_abort_all(c, "the container's VM stopped");
  top_abort_all(c, "the container's VM stopped");
  if (c->timer_open) {
    uv_timer_stop(&c->timer);
    uv_timer_stop(&c->space_timer);
  }
  if (c->clone_of && c->times.configured == 0 && !c->have_exit && c->status.error == NULL &&
      !term_signal) {
    /* QEMU could not restore the template (or its guest died before it
     * was configured): it must not fail the next container too, which
     * builds it anew */
    unlink(c->clone_of);
    const char *qerr = vm_stderr(c->vm);
    fail(c,
         "the VM could not be restored from its template %s (QEMU exit status %lld)%s%s; the "
         "template was removed and the next start builds it again (STACK_TEMPLATES=0 boots "
         "without templates)",
         c->clone_of, (long long)exit_status, *qerr ? "; QEMU said: " : "", qerr);
  }
  if (!c->have_exit && c->status.error == NULL && c->adopted && exit_status < 0 && !term_signal) {
    /* not our child, and the kernel did not say how it ended: as Docker
     * marks a container that died while its daemon was away */
    fail(c, "the VM ended without its process's exit status (QEMU was started by an earlier "
            "supervisor, and this kernel does not tell how it ended)");
    c->status.exit_code = 255;
  }
  if (!c->have_exit && c->status.error == NULL) {
    const char *qerr = vm_stderr(c->vm);
    int sig = term_signal ? term_signal : qemu_terminating_signal(qerr);
    if (sig && c->times.started) {
      /* Killed from outside while the process ran: its end, as Docker
       * reports a killed container's (128 + signal: kill -9 is 137); a
       * failure for restart policies all the same. */
      fail(c, "the VM was killed by signal %d (%s) while the process ran (exit code %d)%s%s",
           sig, strsignal(sig), 128 + sig, *qerr ? "; QEMU said: " : "", qerr);
      c->status.exit_code = 128 + sig;
      c->status.signal = sig;
    } else if (term_signal)
      fail(c, "the VM stopped before the process exited: QEMU was killed by signal %d (%s)%s%s",
           term_signal, strsignal(term_signal), *qerr ? "; QEMU said: " : "", qerr);
    else {
      _cleanup_free_ char *tail = console_tail(c);
      fail(c, "the VM stopped before the process exited (QEMU exit status %lld)%s%s%s",
           (long long)exit_status, *qerr ? "; QEMU said: " : "", qerr, tail);
    }
  }
  report(c);
}

/* ---- paused and resumed: QEMU's events on the VM's QMP connection ---- */

static void vms_clear_io(struct container *c) {
  free(c->vms_disk);
  free(c->vms_reason);
  free(c->vms_fs);
  c->vms_disk = c->vms_reason = c->vms_fs = NULL;
  c->vms.disk = c->vms.reason = c->vms.fs = NULL;
  c->vms.nospace = false;
}

static void notify_vm_state(struct container *c) {
  if (c->io->vm_state)
    c->io->vm_state(c->data, &c->vms);
}

/* The free space under the VM's disk beyond what it had when a write
 * failed (c->space_floor): the file system's own floor (blocks kept for
 * root or for its metadata, which QEMU may or may not take) is whatever it
 * was then, so no guess about the file system or QEMU's privileges is
 * needed.  -errno when it cannot be read. */
static int space_beyond_floor(const struct container *c, struct fs_space *out) {
  int r = fs_space_get(c->vms_disk, true, out, NULL);
  if (r < 0)
    return r;
  out->avail = out->avail > c->space_floor ? out->avail - c->space_floor : 0;
  return 0;
}

/* The VM is paused on a full file system, not by request: worth
 * checking its free space. */
static bool waits_for_space(const struct container *c) {
  return c->vms.paused && c->vms.nospace && !c->user_paused && c->vms_disk && !c->vm_exited;
}

static void on_space_check(uv_timer_t *t);

static void space_check_arm(struct container *c) {
  if (!waits_for_space(c))
    uv_timer_stop(&c->space_timer);
  else if (!uv_is_active((uv_handle_t *)&c->space_timer))
    uv_timer_start(&c->space_timer, on_space_check, CONTAINER_SPACE_CHECK_MS,
                   CONTAINER_SPACE_CHECK_MS);
}

/* QEMU answered a stop or cont (or could not: the VM went away). */
static void on_op_reply(struct qmp *q, int status, const cJSON *ret, const char *desc,
                        void *data) {
  (void)q, (void)ret;
  struct vm_op *op = data;
  if (op->sending) {
    op->early_error = status < 0 ? status : -EIO;
    return;
  }
  struct container *c = op->c;
  if (status < 0 && status != -EIO)
    desc = "the container's VM stopped";
  if (c) {
    for (struct vm_op **pp = &c->ops; *pp; pp = &(*pp)->next)
      if (*pp == op) {
        *pp = op->next;
        break;
      }
    if (op->cb == NULL && !op->pause) { /* the runner's own resume */
      c->auto_resuming = false;
      if (status < 0)
        fprintf(stderr, "stack: %s: resuming the VM failed: %s\n", c->name, desc);
    }
    if (op->pause && c->pause_asked) {
      /* no STOP came: the VM was paused already (QEMU stopped it on a
       * failed write); from now on it waits for a request to resume */
      c->pause_asked = false;
      if (status == 0) {
        c->user_paused = true;
        c->vms.by_request = true;
        space_check_arm(c);
        notify_vm_state(c);
      }
    }
    if (!op->pause)
      c->resume_asked = false;
  }
  if (op->cb)
    op->cb(op->data, status, status == 0 ? NULL : desc ? desc : strerror(-status));
  free(op);
}

/* Sends stop (pause) or cont on the VM's QMP connection; cb NULL: the
 * runner's own resume. */
static int vm_op_send(struct container *c, bool pause, container_done_cb cb, void *data,
                      struct stack_error **err) {
  struct qmp *q = c->vm && !c->vm_exited ? vm_qmp(c->vm) : NULL;
  if (q == NULL)
    return stack_error_set(err, -ESRCH, "container %s: its VM is not running", c->name);
  struct vm_op *op = xcalloc(1, sizeof *op);
  op->c = c;
  op->pause = pause;
  op->cb = cb;
  op->data = data;
  op->sending = true;
  int r = pause ? qmp_stop(q, on_op_reply, op, err) : qmp_cont(q, on_op_reply, op, err);
  op->sending = false;
  if (r < 0 || op->early_error < 0) {
    r = r < 0 ? r : stack_error_set(err, op->early_error, "its VM's QMP connection closed");
    free(op);
    return stack_error_prefix(err, "container %s", c->name);
  }
  op->next = c->ops;
  c->ops = op;
  if (pause)
    c->pause_asked = true;
  else if (cb)
    c->resume_asked = true;
  return 0;
}

static void on_space_check(uv_timer_t *t) {
  struct container *c = t->data;
  if (!waits_for_space(c)) {
    uv_timer_stop(t);
    return;
  }
  struct fs_space sp;
  if (c->auto_resuming || space_beyond_floor(c, &sp) < 0 || !fs_space_room(&sp))
    return;
  if (vm_op_send(c, false, NULL, NULL, NULL) == 0)
    c->auto_resuming = true;
}

static void on_qmp_event(void *data, const char *event, const cJSON *event_data) {
  struct container *c = data;
  if (strcmp(event, "BLOCK_IO_ERROR") == 0) {
    struct qmp_io_error e;
    if (qmp_io_error_parse(event_data, &e) < 0)
      return;
    const char *path = strcmp(e.device, "data") == 0   ? c->disk
                       : strcmp(e.device, "root") == 0 ? c->root_disk
                                                       : NULL;
    if (strcmp(e.action, "stop") != 0) {
      if (!c->told_io_report)
        fprintf(stderr, "stack: %s: a %s of disk %s failed (%s); the guest got the error\n",
                c->name, *e.operation ? e.operation : "transfer", path ? path : e.device,
                *e.reason ? e.reason : "I/O error");
      c->told_io_report = true;
      return;
    }
    /* QEMU keeps the failed request and stops the VM (STOP follows, or
     * came already for an earlier request); cont retries it */
    bool had = c->vms_disk != NULL;
    if (had && c->vms.nospace && e.nospace)
      return;
    vms_clear_io(c);
    c->vms_disk = xstrdup(path ? path : *e.device ? e.device : "(unnamed)");
    c->vms_reason = xstrdup(*e.reason ? e.reason : e.nospace ? strerror(ENOSPC) : "I/O error");
    c->vms_fs = path ? fs_mount_point(path) : NULL;
    c->vms.disk = c->vms_disk;
    c->vms.reason = c->vms_reason;
    c->vms.fs = c->vms_fs;
    c->vms.nospace = e.nospace && path != NULL;
    struct fs_space sp;
    c->space_floor = c->vms.nospace && fs_space_get(path, true, &sp, NULL) == 0 ? sp.avail : 0;
    c->io_stop = true;
    if (c->vms.paused) { /* a write in flight failed after the stop */
      space_check_arm(c);
      if (!had)
        notify_vm_state(c);
    }
    return;
  }
  if (strcmp(event, "STOP") == 0) {
    c->vms.paused = true;
    c->vms.by_request = c->pause_asked;
    if (c->pause_asked)
      c->user_paused = true;
    c->pause_asked = false;
    if (!c->io_stop)
      vms_clear_io(c);
    c->io_stop = false;
    space_check_arm(c);
    write_state(c, "paused");
    notify_vm_state(c);
    return;
  }
  /* a restored clone starts with a RESUME: only a paused VM resumes */
  if (strcmp(event, "RESUME") == 0 && c->vms.paused) {
    c->vms.paused = false;
    c->vms.by_request = c->resume_asked;
    c->resume_asked = false;
    c->user_paused = false;
    c->io_stop = false;
    vms_clear_io(c);
    space_check_arm(c);
    write_state(c, c->running ? "running" : "created");
    notify_vm_state(c);
  }
}

/* Why the VM does not run, for errors: "container X is paused: ...". */
static char *paused_text(const struct container *c) {
  if (c->vms.disk && c->vms.nospace && !c->user_paused)
    return xasprintf("container %s is paused: its disk %s is full (%s); free space on %s, then "
                     "unpause it (it also resumes by itself once there is room)",
                     c->name, c->vms.disk, c->vms.reason, c->vms.fs ? c->vms.fs : c->vms.disk);
  if (c->vms.disk)
    return xasprintf("container %s is paused: a write to its disk %s failed (%s); unpause it "
                     "to retry",
                     c->name, c->vms.disk, c->vms.reason);
  return xasprintf("container %s is paused: unpause it first", c->name);
}

int container_pause(struct container *c, container_done_cb cb, void *data,
                    struct stack_error **err) {
  return vm_op_send(c, true, cb, data, err);
}

static void done_nothing(void *data, int status, const char *error) {
  (void)data, (void)status, (void)error;
}

int container_resume(struct container *c, bool force, container_done_cb cb, void *data,
                     struct stack_error **err) {
  if (!force && c->vms.paused && c->vms.nospace && c->vms_disk) {
    struct fs_space sp;
    if (space_beyond_floor(c, &sp) == 0 && sp.avail < (1u << 20))
      return stack_error_set(err, -ENOSPC,
                             "container %s: its disk %s is still full (%llu bytes freed on %s "
                             "since it filled up): free space there first (the VM resumes by "
                             "itself once there is room)",
                             c->name, c->vms_disk, (unsigned long long)sp.avail,
                             c->vms.fs ? c->vms.fs : c->vms_disk);
  }
  return vm_op_send(c, false, cb ? cb : done_nothing, data, err);
}

/* ---- exec sessions the guest does not start ---- */

static void on_exec_deadline(uv_timer_t *t);

/* The timer (free once the guest said HELLO) goes off at the first start
 * deadline. */
static void exec_deadline_arm(struct container *c) {
  uint64_t first = 0;
  for (int i = 0; i < CONTAINER_MAX_EXECS; i++) {
    const struct exec_session *x = &c->execs[i];
    if (x->id && x->deadline && (first == 0 || x->deadline < first))
      first = x->deadline;
  }
  for (int i = 0; i < CONTAINER_MAX_TOPS; i++)
    if (c->tops[i].id && (first == 0 || c->tops[i].deadline < first))
      first = c->tops[i].deadline;
  if (first == 0 || c->vm_exited)
    return;
  uint64_t now = uv_now(c->loop);
  uv_timer_start(&c->timer, on_exec_deadline, first > now ? first - now : 0, 0);
}

static void on_exec_deadline(uv_timer_t *t) {
  struct container *c = t->data;
  uint64_t now = uv_now(c->loop);
  for (int i = 0; i < CONTAINER_MAX_EXECS; i++) {
    struct exec_session *x = &c->execs[i];
    if (!x->id || !x->deadline || x->deadline > now)
      continue;
    /* should the guest start it after all, it ends at once */
    if (c->ch)
      channel_send_signal(c->ch, x->id, SIGKILL);
    _cleanup_free_ char *paused = c->vms.paused ? paused_text(c) : NULL;
    _cleanup_free_ char *why =
        paused ? xasprintf("the command did not start within %d s: %s",
                           CONTAINER_EXEC_START_TIMEOUT_MS / 1000, paused)
               : xasprintf("the command did not start within %d s: the guest of container %s "
                           "does not answer (hung or overloaded; its kernel messages are in %s)",
                           CONTAINER_EXEC_START_TIMEOUT_MS / 1000, c->name,
                           c->vm ? vm_console_path(c->vm) : "its console log");
    struct container_status st = {.exit_code = CONTAINER_EXIT_FAILED, .error = why};
    exec_done(c, x, &st);
  }
  for (int i = 0; i < CONTAINER_MAX_TOPS; i++) {
    struct top_request req = c->tops[i];
    if (req.id == 0 || req.deadline > now)
      continue;
    c->tops[i].id = 0; /* its late answer is dropped */
    _cleanup_free_ char *paused = c->vms.paused ? paused_text(c) : NULL;
    _cleanup_free_ char *why =
        paused ? xasprintf("the guest did not list its processes within %d s: %s",
                           CONTAINER_EXEC_START_TIMEOUT_MS / 1000, paused)
               : xasprintf("the guest of container %s did not list its processes within %d s "
                           "(hung or overloaded; its kernel messages are in %s)",
                           c->name, CONTAINER_EXEC_START_TIMEOUT_MS / 1000,
                           c->vm ? vm_console_path(c->vm) : "its console log");
    req.cb(req.data, NULL, why);
  }
  exec_deadline_arm(c);
}

/* ---- the guest's side of the conversation ---- */

static void send_start(struct container *c);

static void send_configure(struct container *c);

static void on_hello(void *data, uint32_t version, uint32_t caps, const char *kernel) {
  (void)caps;
  (void)kernel;
  struct container *c = data;
  c->times.hello = uv_hrtime();
  uv_timer_stop(&c->timer);
  if (version != PROTO_VERSION) {
    fail(c, "the guest init speaks protocol version %u, this stack speaks %u: rebuild the "
            "initramfs (guest_initramfs target)",
         version, PROTO_VERSION);
    return;
  }
  send_configure(c);
}

/* CONFIGURE then START.  A clone's guest said its HELLO to the template's
 * builder long ago and waits for exactly this. */
static void send_configure(struct container *c) {
  struct proto_configure *cf = xcalloc(1, sizeof *cf);
  uint8_t seed[32];
  if (getrandom(seed, sizeof seed, 0) != (ssize_t)sizeof seed)
    memset(seed, 0, sizeof seed);
  struct timespec now;
  clock_gettime(CLOCK_REALTIME, &now);
  /* the container's own addresses name it, as with Docker; without a
   * network it is 127.0.1.1 */
  struct sbuf hosts = SBUF_INIT;
  sbuf_puts(&hosts, "127.0.0.1\tlocalhost\n::1\tlocalhost ip6-localhost ip6-loopback\n");
  /* with a domain name, the full name first, as Docker writes it */
  _cleanup_free_ char *names = c->domainname
                                   ? xasprintf("%s.%s %s", c->hostname, c->domainname, c->hostname)
                                   : xstrdup(c->hostname);
  bool named = false;
  for (size_t i = 0; i < c->n_nets; i++) {
    for (uint32_t j = 0; j < c->ifaces[i].n_addrs; j++) {
      const char *a = c->ifaces[i].addrs[j];
      sbuf_printf(&hosts, "%.*s\t%s\n", (int)strcspn(a, "/"), a, names);
      named = true;
    }
  }
  if (!named)
    sbuf_printf(&hosts, "127.0.1.1\t%s\n", names);
  if (c->hosts_extra)
    sbuf_puts(&hosts, c->hosts_extra);
  cf->hostname = c->hostname;
  cf->domainname = c->domainname;
  cf->hosts = hosts.data;
  cf->resolv = c->resolv ? c->resolv : "";
  cf->n_ifaces = (uint32_t)c->n_nets;
  memcpy(cf->ifaces, c->ifaces, sizeof c->ifaces);
  for (size_t i = 0; c->gateways && c->gateways[i] && i < PROTO_MAX_ROUTES; i++) {
    cf->routes[i] = (struct proto_route){"default", c->gateways[i], ""};
    cf->n_routes++;
  }
  cf->root_dev = "/dev/vda";
  cf->data_dev = "/dev/vdb";
  cf->realtime_sec = (uint64_t)now.tv_sec;
  cf->realtime_nsec = (uint32_t)now.tv_nsec;
  cf->seed = seed;
  cf->seed_len = sizeof seed;
  cf->flags = (c->bound_to_host ? PROTO_CONFIGURE_HOST_BOUND : 0) |
              (c->read_only ? PROTO_CONFIGURE_READ_ONLY : 0);
  cf->n_mounts = (uint32_t)c->n_mounts;
  memcpy(cf->mounts, c->mounts, c->n_mounts * sizeof *c->mounts);
  cf->n_sysctls = (uint32_t)c->n_sysctls;
  memcpy(cf->sysctls, c->sysctls, c->n_sysctls * sizeof *c->sysctls);
  cf->n_files = (uint32_t)c->n_files;
  memcpy(cf->files, c->files, c->n_files * sizeof *c->files);
  _cleanup_error_ struct stack_error *e = NULL;
  if (channel_send_configure(c->ch, cf, &e) < 0)
    fail(c, "%s", e->msg);
  else
    send_start(c);
  free(cf);
  sbuf_free(&hosts);
}

/* START goes right behind CONFIGURE: the guest handles frames in order, so
 * the round trip to CONFIGURED is not waited for (a failed configuration
 * makes the guest refuse the START, and CONFIGURED says why). */
static void send_start(struct container *c) {
  struct proto_start st = {
      .argv = c->argv,
      .env = c->env,
      .user = c->user,
      .workdir = c->workdir,
      .flags = (c->tty ? PROTO_START_TTY : 0) | (c->interactive ? PROTO_START_STDIN : 0) |
               (c->no_new_privs ? PROTO_START_NO_NEW_PRIVS : 0),
      .umask = 0xffffffffu,
      .rows = c->rows,
      .cols = c->cols,
      .n_rlimits = (uint32_t)c->n_rlimits,
      .caps = c->caps,
      .pids_max = c->pids_max,
  };
  memcpy(st.rlimits, c->rlimits, sizeof c->rlimits);
  _cleanup_error_ struct stack_error *e = NULL;
  if (channel_send_start(c->ch, 0, &st, &e) < 0) {
    fail(c, "%s", e->msg);
    return;
  }
  c->start_sent = true;
  if (c->early_stdin.len)
    channel_send_stdin(c->ch, 0, c->early_stdin.data, c->early_stdin.len);
  if (c->early_eof)
    channel_send_stdin(c->ch, 0, NULL, 0);
  sbuf_free(&c->early_stdin);
  for (size_t i = 0; i < c->n_strings; i++)
    free(c->strings[i]);
  free(c->strings);
  free(c->vm_nets);
  strv_free(c->gateways);
  free(c->resolv);
  free(c->hosts_extra);
}

/* A copy the container owns (ifaces and vm_nets point to these). */
static const char *keep(struct container *c, const char *s) {
  c->strings = xrealloc(c->strings, (c->n_strings + 1) * sizeof *c->strings);
  return c->strings[c->n_strings++] = xstrdup(s ? s : "");
}

static int copy_net(struct container *c, const struct container_opts *o,
                    struct stack_error **err) {
  if (o->n_nets > PROTO_MAX_IFACES)
    return stack_error_set(err, -E2BIG, "%zu networks: a container joins at most %d", o->n_nets,
                           PROTO_MAX_IFACES);
  if (o->n_rlimits > PROTO_MAX_RLIMITS)
    return stack_error_set(err, -E2BIG, "%zu ulimits: at most %d", o->n_rlimits,
                           PROTO_MAX_RLIMITS);
  c->n_rlimits = o->n_rlimits;
  if (o->n_rlimits)
    memcpy(c->rlimits, o->rlimits, o->n_rlimits * sizeof *o->rlimits);
  if (o->n_mounts > PROTO_MAX_MOUNTS)
    return stack_error_set(err, -E2BIG, "%zu mounts: at most %d", o->n_mounts, PROTO_MAX_MOUNTS);
  for (size_t i = 0; i < o->n_mounts; i++) {
    const struct proto_mount *m = &o->mounts[i];
    if (m->target == NULL || m->target[0] != '/')
      return stack_error_set(err, -EINVAL, "mount target %s: must be an absolute path",
                             m->target ? m->target : "(none)");
    c->mounts[i] = (struct proto_mount){keep(c, m->source), keep(c, m->target),
                                        keep(c, m->fstype), keep(c, m->options)};
  }
  c->n_mounts = o->n_mounts;
  if (o->n_shares > PROTO_MAX_MOUNTS)
    return stack_error_set(err, -E2BIG, "%zu shared directories: at most %d", o->n_shares,
                           PROTO_MAX_MOUNTS);
  for (size_t i = 0; i < o->n_shares; i++)
    c->shares[i] = (struct vm_share){keep(c, o->shares[i].path), keep(c, o->shares[i].tag),
                                     o->shares[i].readonly, o->shares[i].model};
  c->n_shares = o->n_shares;
  if (o->n_files > PROTO_MAX_FILES)
    return stack_error_set(err, -E2BIG, "%zu files: at most %d", o->n_files, PROTO_MAX_FILES);
  for (size_t i = 0; i < o->n_files; i++) {
    const struct proto_file *f = &o->files[i];
    char *content = xmalloc(f->len + 1);
    memcpy(content, f->content, f->len);
    c->strings = xrealloc(c->strings, (c->n_strings + 1) * sizeof *c->strings);
    c->strings[c->n_strings++] = content;
    c->files[i] = *f;
    c->files[i].path = keep(c, f->path);
    c->files[i].content = (const uint8_t *)content;
  }
  c->n_files = o->n_files;
  c->caps = o->limit_caps ? o->caps : PROTO_CAPS_ALL;
  c->pids_max = o->pids_max;
  c->no_new_privs = o->no_new_privs;
  for (size_t i = 0; o->sysctls && o->sysctls[i]; i++) {
    if (i >= PROTO_MAX_SYSCTLS)
      return stack_error_set(err, -E2BIG, "more than %d sysctls", PROTO_MAX_SYSCTLS);
    c->sysctls[c->n_sysctls++] = keep(c, o->sysctls[i]);
  }
  c->read_only = o->read_only;
  c->n_nets = o->n_nets;
  c->vm_nets = xcalloc(o->n_nets + 1, sizeof *c->vm_nets);
  for (size_t i = 0; i < o->n_nets; i++) {
    const struct container_net *n = &o->nets[i];
    if (n->mac == NULL || n->tap == NULL)
      return stack_error_set(err, -EINVAL, "network %zu: a tap and a MAC address are required",
                             i);
    c->vm_nets[i].tap = keep(c, n->tap);
    c->vm_nets[i].mac = keep(c, n->mac);
    struct proto_iface *f = &c->ifaces[i];
    f->mac = c->vm_nets[i].mac;
    f->name = keep(c, n->ifname);
    f->mtu = n->mtu;
    for (size_t j = 0; n->addrs && n->addrs[j]; j++) {
      if (j >= PROTO_MAX_ADDRS)
        return stack_error_set(err, -E2BIG, "network %zu: at most %d addresses", i,
                               PROTO_MAX_ADDRS);
      f->addrs[f->n_addrs++] = keep(c, n->addrs[j]);
    }
  }
  size_t ng = 0;
  for (size_t i = 0; o->gateways && o->gateways[i]; i++)
    strv_push(&c->gateways, &ng, o->gateways[i]);
  c->resolv = o->resolv_conf ? xstrdup(o->resolv_conf) : NULL;
  struct sbuf h = SBUF_INIT;
  for (size_t i = 0; o->extra_hosts && o->extra_hosts[i]; i++)
    sbuf_printf(&h, "%s\n", o->extra_hosts[i]);
  c->hosts_extra = h.data;
  return 0;
}

static void on_configured(void *data, int32_t error, const char *message) {
  struct container *c = data;
  c->times.configured = uv_hrtime();
  uv_timer_stop(&c->timer); /* a clone's boot timeout runs until here */
  if (error < 0)
    fail(c, "the guest could not set up the container: %s", message);
}

static void on_started(void *data, uint16_t session, uint32_t pid) {
  (void)pid;
  struct container *c = data;
  if (session != 0) {
    struct exec_session *x = exec_find(c, session);
    if (x)
      x->deadline = 0;
    return;
  }
  c->running = true;
  c->times.started = uv_hrtime();
  boot_queue_leave(c->ticket); /* started: the next VM may start */
  c->ticket = NULL;
  write_state(c, "running");
  if (c->io->started)
    c->io->started(c->data);
}

static void on_output(void *data, uint16_t session, int fd, const uint8_t *p, size_t n) {
  struct container *c = data;
  if (session == 0) {
    if (c->io->output)
      c->io->output(c->data, fd, p, n);
    return;
  }
  struct exec_session *x = exec_find(c, session);
  if (x && x->io->output)
    x->io->output(x->data, fd, p, n);
}

/* A guest EXIT as a status (st->error is borrowed from e). */
static void exit_status(const struct proto_exit *e, struct container_status *st) {
  memset(st, 0, sizeof *st);
  if (e->kind == PROTO_EXIT_SIGNAL) {
    st->signal = e->code;
    st->exit_code = 128 + (e->code & 0x7f);
  } else if (e->kind == PROTO_EXIT_FAILED) {
    st->exit_code = e->code == ENOENT ? CONTAINER_EXIT_NOTFOUND : CONTAINER_EXIT_NOEXEC;
    st->error = (char *)e->message;
  } else {
    st->exit_code = e->code & 0xff;
  }
}

static void on_exited(void *data, uint16_t session, const struct proto_exit *e) {
  struct container *c = data;
  if (session != 0) {
    struct exec_session *x = exec_find(c, session);
    if (x) {
      struct container_status st;
      exit_status(e, &st);
      exec_done(c, x, &st);
    }
    return;
  }
  if (c->have_exit || c->status.error) /* the container failed first (fail()) */
    return;
  c->times.exited = uv_hrtime();
  c->have_exit = true;
  c->running = false;
  struct container_status st;
  exit_status(e, &st);
  c->status.exit_code = st.exit_code;
  c->status.signal = st.signal;
  if (st.error) {
    free(c->status.error);
    c->status.error = xstrdup(st.error);
  }
  exec_abort_all(c, "the container's main process exited");
  /* The guest killed every process and synced the disks (QEMU flushed them
   * to the host files) before it reported: nothing is left to save, so
   * QEMU is stopped now rather than after a SHUTDOWN round trip, another
   * sync and the guest's reboot (10-50 ms under TCG). */
  vm_kill(c->vm, SIGKILL, NULL);
}

static void on_log(void *data, const char *message) {
  struct container *c = data;
  fprintf(stderr, "stack: %s: guest: %s\n", c->name, message);
}

static void on_closed(void *data, int error, const char *message) {
  struct container *c = data;
  /* at EOF the VM is going away: its exit callback says how; so too when
   * QEMU drops the connection of a VM it could not restore */
  if (error < 0 && !(c->clone_of && c->times.configured == 0 && error == -EIO))
    fail(c, "the guest broke the control protocol: %s", message);
}

static void on_procs(void *data, uint16_t id, const struct proto_procs *procs) {
  struct container *c = data;
  for (int i = 0; id && i < CONTAINER_MAX_TOPS; i++) {
    if (c->tops[i].id != id)
      continue;
    struct top_request t = c->tops[i];
    c->tops[i].id = 0;
    t.cb(t.data, procs, NULL);
    return;
  }
  /* an answer nobody asked for (or asked for no more): dropped */
}

static void on_attached(void *data, const struct proto_attached *a);

static const struct channel_ops container_channel_ops = {
    .attached = on_attached,
    .hello = on_hello,
    .configured = on_configured,
    .started = on_started,
    .output = on_output,
    .exited = on_exited,
    .log = on_log,
    .closed = on_closed,
    .procs = on_procs,
};

/* ---- a VM another process started ---- */

/* The guest answered ATTACH: where it stands. */
static void on_attached(void *data, const struct proto_attached *a) {
  struct container *c = data;
  if (!c->waiting_attach)
    return; /* nobody asked (any more) */
  c->waiting_attach = false;
  uv_timer_stop(&c->timer);
  c->times.hello = c->times.configured = uv_hrtime();
  if (!(a->state & PROTO_ATTACHED_STARTED)) {
    fail(c, "its start was cut short: the supervisor that started the VM died before the "
            "process ran");
    return;
  }
  c->start_sent = true;
  c->times.started = uv_hrtime();
  /* the sessions of the host that died run on in the guest: new ids come
   * after theirs, and their frames are dropped (exec_find() knows none) */
  c->next_session = (uint16_t)a->last_session;
  if (a->state & PROTO_ATTACHED_EXITED) {
    struct proto_exit e = {a->exit_kind, a->exit_code, ""};
    struct container_status st;
    exit_status(&e, &st);
    c->times.exited = uv_hrtime();
    c->have_exit = true;
    c->status.exit_code = st.exit_code;
    c->status.signal = st.signal;
    /* the guest synced its disks when the process ended */
    vm_kill(c->vm, SIGKILL, NULL);
    return;
  }
  c->running = true;
  write_state(c, "running");
  if (c->io->attached)
    c->io->attached(c->data);
  else if (c->io->started)
    c->io->started(c->data);
}

static void on_attach_slow(uv_timer_t *t) {
  struct container *c = t->data;
  if (!c->waiting_attach)
    return;
  if (c->adopted_paused) {
    /* a paused guest answers once it runs again (unpause) */
    fprintf(stderr,
            "stack: %s: the guest has not answered for %d s since its VM was adopted (it is "
            "paused); still waiting\n",
            c->name, BOOT_TIMEOUT_MS / 1000);
    uv_timer_start(&c->timer, on_attach_slow, BOOT_TIMEOUT_MS, 0);
    return;
  }
  c->waiting_attach = false;
  fail(c, "the guest did not answer within %d s after its VM was adopted; its kernel messages "
          "are in %s",
       BOOT_TIMEOUT_MS / 1000, vm_console_path(c->vm));
}

/* QEMU's run state of an adopted VM: one that was never restored from its
 * template (the supervisor died between spawning it and restoring it)
 * waits in -incoming defer forever, and its guest never answers. */
static void on_adopt_status(struct qmp *q, int status, const cJSON *ret, const char *error_desc,
                            void *data) {
  (void)q, (void)error_desc;
  if (status < 0)
    return; /* QMP closed (perhaps by container_free()): c may be gone */
  struct container *c = data;
  const char *st = cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(ret, "status"));
  if (st == NULL || !c->waiting_attach)
    return;
  if (strcmp(st, "inmigrate") == 0 || strcmp(st, "prelaunch") == 0 ||
      strcmp(st, "restore-vm") == 0) {
    c->waiting_attach = false;
    uv_timer_stop(&c->timer);
    fail(c, "its start was cut short: the supervisor that started the VM died before the VM "
            "was restored from its template (QEMU state %s)",
         st);
  } else if (strcmp(st, "paused") == 0 || strcmp(st, "io-error") == 0) {
    c->adopted_paused = true;
  }
}

/* What container.json recorded for exec sessions (write_state()); what is
 * missing keeps its default. */
static void read_exec_defaults(struct container *c, const cJSON *j) {
  const cJSON *v;
  v = cJSON_GetObjectItemCaseSensitive(j, "image");
  c->image_ref = xstrdup(cJSON_IsString(v) ? v->valuestring : "");
  v = cJSON_GetObjectItemCaseSensitive(j, "owner");
  c->owner = cJSON_IsString(v) ? xstrdup(v->valuestring) : NULL;
  size_t n = 0;
  cJSON_ArrayForEach(v, cJSON_GetObjectItemCaseSensitive(j, "command")) if (cJSON_IsString(v))
      strv_push(&c->argv, &n, v->valuestring);
  const cJSON *x = cJSON_GetObjectItemCaseSensitive(j, "exec");
  n = 0;
  cJSON_ArrayForEach(v, cJSON_GetObjectItemCaseSensitive(x, "env")) if (cJSON_IsString(v))
      strv_push(&c->env, &n, v->valuestring);
  v = cJSON_GetObjectItemCaseSensitive(x, "user");
  c->user = xstrdup(cJSON_IsString(v) ? v->valuestring : "");
  v = cJSON_GetObjectItemCaseSensitive(x, "workdir");
  c->workdir = xstrdup(cJSON_IsString(v) ? v->valuestring : "");
  v = cJSON_GetObjectItemCaseSensitive(x, "caps");
  c->caps = cJSON_IsString(v) ? strtoull(v->valuestring, NULL, 16) : PROTO_CAPS_ALL;
  v = cJSON_GetObjectItemCaseSensitive(x, "pids_max");
  c->pids_max = cJSON_IsString(v) ? strtoull(v->valuestring, NULL, 10) : 0;
  c->no_new_privs = cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(x, "no_new_privs"));
  cJSON_ArrayForEach(v, cJSON_GetObjectItemCaseSensitive(x, "rlimits")) {
    const cJSON *res = cJSON_GetObjectItemCaseSensitive(v, "resource");
    const cJSON *soft = cJSON_GetObjectItemCaseSensitive(v, "soft");
    const cJSON *hard = cJSON_GetObjectItemCaseSensitive(v, "hard");
    if (c->n_rlimits >= PROTO_MAX_RLIMITS || !cJSON_IsNumber(res) || !cJSON_IsString(soft) ||
        !cJSON_IsString(hard))
      continue;
    c->rlimits[c->n_rlimits++] = (struct proto_rlimit){(uint32_t)res->valueint,
                                                       strtoull(soft->valuestring, NULL, 10),
                                                       strtoull(hard->valuestring, NULL, 10)};
  }
}

/* The state directory and sockets of container id. */
static int container_paths(const char *id, char **state_dir, char **run_dir,
                           struct stack_error **err) {
  if (!container_id_valid(id))
    return stack_error_set(err, -EINVAL, "container id %s: want 64 lowercase hex digits", id);
  _cleanup_free_ char *root = stack_data_root();
  _cleanup_free_ char *run = stack_run_dir();
  char short_id[13];
  snprintf(short_id, sizeof short_id, "%.12s", id);
  int r = state_path_join(root, (const char *const[]){"containers", id, NULL}, state_dir, err);
  if (r == 0 && run_dir &&
      (r = state_path_join(run, (const char *const[]){short_id, NULL}, run_dir, err)) < 0) {
    free(*state_dir);
    *state_dir = NULL;
  }
  return r;
}

int container_vm_pid(const char *id) {
  _cleanup_free_ char *dir = NULL;
  if (container_paths(id, &dir, NULL, NULL) < 0)
    return -EINVAL;
  _cleanup_free_ char *pid_file = fs_path_join(dir, "qemu.pid");
  int pid = vm_pid_file_read(pid_file);
  if (pid < 0)
    return pid == -ENOENT ? -ESRCH : pid;
  _cleanup_free_ char *mark = xasprintf("/%s/console.log", id);
  return vm_pid_has_mark(pid, mark) ? pid : -ESRCH;
}

int container_vm_kill(const char *id, int wait_ms) {
  int pid = container_vm_pid(id);
  if (pid < 0)
    return 0;
  _cleanup_close_ int fd = pidfd_open(pid, 0);
  _cleanup_free_ char *mark = xasprintf("/%s/console.log", id);
  if (fd < 0 || !vm_pid_has_mark(pid, mark))
    return 0;
  if (pidfd_send_signal(fd, SIGKILL, NULL, 0) < 0)
    return errno == ESRCH ? 0 : -errno;
  struct pollfd p = {.fd = fd, .events = POLLIN};
  int n;
  while ((n = poll(&p, 1, wait_ms)) < 0 && errno == EINTR)
    ;
  if (n == 0)
    return -ETIMEDOUT;
  jail_cgroup_release(pid);
  return 1;
}

char **container_list_owned(const char *owner) {
  _cleanup_free_ char *root = stack_data_root();
  _cleanup_free_ char *dir = fs_path_join(root, "containers");
  char **v = xcalloc(1, sizeof *v);
  size_t n = 0;
  DIR *d = opendir(dir);
  if (d == NULL)
    return v;
  struct dirent *de;
  while ((de = readdir(d)) != NULL) {
    if (!container_id_valid(de->d_name))
      continue;
    _cleanup_free_ char *json = xasprintf("%s/%s/container.json", dir, de->d_name);
    _cleanup_free_ char *text = NULL;
    if (fs_read_file(json, 1 << 20, &text, NULL, NULL) < 0)
      continue;
    cJSON *j = cJSON_Parse(text);
    const cJSON *o = cJSON_GetObjectItemCaseSensitive(j, "owner");
    if (cJSON_IsString(o) && strcmp(o->valuestring, owner) == 0)
      strv_push(&v, &n, de->d_name);
    cJSON_Delete(j);
  }
  closedir(d);
  return v;
}

int container_adopt(uv_loop_t *loop, const struct container_adopt_opts *o,
                    const struct container_io *io, void *data, struct container **out,
                    struct stack_error **err) {
  struct container *c = xcalloc(1, sizeof *c);
  c->loop = loop;
  c->io = io;
  c->data = data;
  c->adopted = true;
  c->remove = o->remove;
  c->times.start = uv_hrtime();
  _cleanup_free_ char *json = NULL, *text = NULL, *mark = NULL;
  int r;
  if ((r = container_paths(o->id, &c->state_dir, &c->run_dir, err)) < 0) {
    c->remove = false;
    goto fail;
  }
  memcpy(c->id, o->id, 65);
  c->name = xstrdup(o->name ? o->name : c->id);
  json = fs_path_join(c->state_dir, "container.json");
  if ((r = fs_read_file(json, 1 << 20, &text, NULL, err)) < 0)
    goto fail;
  cJSON *j = cJSON_Parse(text);
  read_exec_defaults(c, j);
  cJSON_Delete(j);
  c->ctl = fs_path_join(c->run_dir, "ctl.sock");
  c->qmp = fs_path_join(c->run_dir, "qmp.sock");
  c->pid_file = fs_path_join(c->state_dir, "qemu.pid");
  int pid = o->pid > 0 ? o->pid : vm_pid_file_read(c->pid_file);
  mark = xasprintf("/%s/console.log", c->id);
  struct vm_adopt_spec spec = {
      .name = c->name,
      .pid = pid,
      .cmdline_mark = mark,
      .state_dir = c->state_dir,
      .control_socket = c->ctl,
      .qmp_socket = c->qmp,
      .qmp_event = on_qmp_event,
  };
  if ((r = vm_adopt(loop, &spec, on_vm_exit, c, &c->vm, err)) < 0) {
    c->remove = false; /* not ours to remove: the caller decides */
    goto fail;
  }
  uv_timer_init(loop, &c->timer);
  c->timer.data = c;
  uv_timer_init(loop, &c->space_timer);
  c->space_timer.data = c;
  c->timer_open = true;
  c->open_timers = 2;
  int fd = vm_connect_control(c->vm, err);
  if (fd < 0) {
    r = fd;
    goto fail;
  }
  if ((r = channel_open(loop, fd, &container_channel_ops, c, &c->ch, err)) < 0 ||
      (r = channel_attach(c->ch, err)) < 0)
    goto fail;
  c->waiting_attach = true;
  uv_timer_start(&c->timer, on_attach_slow, BOOT_TIMEOUT_MS, 0);
  struct qmp *q = vm_qmp(c->vm);
  if (q)
    qmp_query_status(q, on_adopt_status, c, NULL);
  *out = c;
  return 0;
fail:
  stack_error_prefix(err, "container %s", c->name ? c->name : o->id);
  container_free(c);
  return r;
}

/* ---- life cycle ---- */

int container_write_stdin(struct container *c, const void *p, size_t n) {
  /* kept until START is sent, also while a template is being built */
  if (c->start_sent)
    return c->ch ? channel_send_stdin(c->ch, 0, p, n) : -EPIPE;
  if (c->vm_exited)
    return -EPIPE;
  if (n == 0)
    c->early_eof = true;
  else
    sbuf_append(&c->early_stdin, p, n);
  return 0;
}

int container_signal(struct container *c, int signum) {
  return c->ch ? channel_send_signal(c->ch, 0, signum) : -EPIPE;
}

int container_resize(struct container *c, unsigned rows, unsigned cols) {
  return c->ch ? channel_send_resize(c->ch, 0, rows, cols) : -EPIPE;
}

int container_exec(struct container *c, const struct container_exec_opts *o,
                   const struct container_exec_io *io, void *data, uint16_t *session,
                   struct stack_error **err) {
  if (!c->running || c->ch == NULL)
    return stack_error_set(err, -EAGAIN, "container %s is not running", c->name);
  if (c->vms.paused) {
    _cleanup_free_ char *why = paused_text(c);
    return stack_error_set(err, -EAGAIN, "%s", why);
  }
  if (o->argv == NULL || o->argv[0] == NULL)
    return stack_error_set(err, -EINVAL, "exec in %s: no command given", c->name);
  struct exec_session *x = NULL;
  for (int i = 0; x == NULL && i < CONTAINER_MAX_EXECS; i++)
    if (c->execs[i].id == 0)
      x = &c->execs[i];
  if (x == NULL)
    return stack_error_set(err, -EBUSY, "container %s runs %d exec sessions already: wait for one",
                           c->name, CONTAINER_MAX_EXECS);
  /* ids are not reused soon, so late frames of an ended session never reach
   * a new one */
  do
    c->next_session = (uint16_t)(c->next_session + 1);
  while (c->next_session == 0 || exec_find(c, c->next_session));
  char **env = NULL;
  size_t n = 0;
  for (size_t i = 0; c->env && c->env[i]; i++)
    env_set(&env, &n, c->env[i]);
  for (size_t i = 0; o->env && o->env[i]; i++)
    if (strchr(o->env[i], '='))
      env_set(&env, &n, o->env[i]);
  struct proto_start st = {
      .argv = o->argv,
      .env = env,
      .user = o->user ? o->user : c->user,
      .workdir = o->workdir ? o->workdir : c->workdir,
      .flags = (o->tty ? PROTO_START_TTY : 0) | (o->interactive ? PROTO_START_STDIN : 0) |
               (c->no_new_privs ? PROTO_START_NO_NEW_PRIVS : 0),
      .umask = 0xffffffffu,
      .rows = o->rows,
      .cols = o->cols,
      .n_rlimits = (uint32_t)c->n_rlimits,
      .caps = c->caps,
      .pids_max = c->pids_max,
  };
  memcpy(st.rlimits, c->rlimits, sizeof c->rlimits);
  int r = channel_send_start(c->ch, c->next_session, &st, err);
  strv_free(env);
  if (r < 0)
    return stack_error_prefix(err, "exec in %s", c->name);
  x->id = c->next_session;
  x->io = io;
  x->data = data;
  x->deadline = uv_now(c->loop) + CONTAINER_EXEC_START_TIMEOUT_MS;
  if (!uv_is_active((uv_handle_t *)&c->timer))
    exec_deadline_arm(c);
  *session = x->id;
  return 0;
}

int container_top(struct container *c, container_top_cb cb, void *data,
                  struct stack_error **err) {
  if (!c->running || c->ch == NULL)
    return stack_error_set(err, -EAGAIN, "container %s is not running", c->name);
  if (c->vms.paused) {
    _cleanup_free_ char *why = paused_text(c);
    return stack_error_set(err, -EAGAIN, "%s", why);
  }
  struct top_request *t = NULL;
  for (int i = 0; t == NULL && i < CONTAINER_MAX_TOPS; i++)
    if (c->tops[i].id == 0)
      t = &c->tops[i];
  if (t == NULL)
    return stack_error_set(err, -EBUSY, "container %s: %d process listings are under way already",
                           c->name, CONTAINER_MAX_TOPS);
  uint16_t id = c->next_top;
  bool taken;
  do {
    id = (uint16_t)(id + 1);
    taken = false;
    for (int i = 0; i < CONTAINER_MAX_TOPS; i++)
      taken = taken || c->tops[i].id == id;
  } while (id == 0 || taken);
  int r = channel_send_top(c->ch, id);
  if (r < 0)
    return stack_error_errno(err, r, "container %s: asking the guest for its processes", c->name);
  c->next_top = id;
  *t = (struct top_request){id, cb, data, uv_now(c->loop) + CONTAINER_EXEC_START_TIMEOUT_MS};
  if (!uv_is_active((uv_handle_t *)&c->timer))
    exec_deadline_arm(c);
  return 0;
}

int container_exec_stdin(struct container *c, uint16_t session, const void *p, size_t n) {
  return c->ch && exec_find(c, session) ? channel_send_stdin(c->ch, session, p, n) : -ESRCH;
}

int container_exec_signal(struct container *c, uint16_t session, int signum) {
  return c->ch && exec_find(c, session) ? channel_send_signal(c->ch, session, signum) : -ESRCH;
}

int container_exec_resize(struct container *c, uint16_t session, unsigned rows, unsigned cols) {
  return c->ch && exec_find(c, session) ? channel_send_resize(c->ch, session, rows, cols)
                                        : -ESRCH;
}

size_t container_stdin_pending(const struct container *c) {
  return c->early_stdin.len + (c->ch ? channel_write_queue_size(c->ch) : 0);
}

static void on_timer_closed(uv_handle_t *h) {
  struct container *c = h->data;
  if (--c->open_timers == 0)
    free(c);
}

static void container_release(struct container *c) {
  strv_free(c->argv);
  strv_free(c->env);
  free(c->name);
  free(c->owner);
  free(c->image_ref);
  free(c->user);
  free(c->workdir);
  free(c->hostname);
  free(c->domainname);
  free(c->state_dir);
  free(c->run_dir);
  free(c->status.error);
  free(c->kernel);
  free(c->initrd);
  free(c->root_disk);
  free(c->disk);
  free(c->ctl);
  free(c->qmp);
  free(c->pid_file);
  free(c->clone_of);
  free(c->pending_clone);
  sbuf_free(&c->early_stdin);
  vms_clear_io(c);
}

void container_free(struct container *c) {
  if (c == NULL)
    return;
  top_abort_all(c, "the container stopped");
  template_wait_cancel(c->twait);
  c->twait = NULL;
  boot_queue_leave(c->ticket);
  c->ticket = NULL;
  /* nobody may wait for an answer that cannot come: requests end here */
  for (struct vm_op *op = c->ops; op; op = op->next) {
    container_done_cb cb = op->cb;
    op->c = NULL; /* freed when vm_free() closes QMP */
    op->cb = NULL;
    if (cb)
      cb(op->data, -ESRCH, "the container's VM was stopped");
  }
  c->ops = NULL;
  exec_abort_all(c, "the container's VM was stopped");
  channel_close(c->ch);
  c->ch = NULL;
  if (c->vm)
    vm_free(c->vm);
  c->vm = NULL;
  if (c->run_dir)
    rmdir(c->run_dir);
  if (c->remove && c->state_dir)
    fs_rm_rf(c->state_dir, NULL);
  container_release(c);
  if (c->timer_open) {
    uv_close((uv_handle_t *)&c->timer, on_timer_closed);
    uv_close((uv_handle_t *)&c->space_timer, on_timer_closed);
  } else {
    free(c);
  }
}

/* The VM of the container as vm_start() wants it; for a clone the network
 * devices carry the template's MACs. */
static void vm_spec_of(struct container *c, struct vm_spec *spec) {
  *spec = (struct vm_spec){
      .name = c->name,
      .state_dir = c->state_dir,
      .kernel = c->kernel,
      .initrd = c->initrd,
      .root_disk = c->root_disk,
      .data_disk = c->disk,
      .mem_mib = c->mem_mib,
      .tcg_cache_mib = c->tcg_cache_mib,
      .cpus = c->cpus,
      .crowded = c->crowded,
      .nets = c->vm_nets,
      .n_nets = c->n_nets,
      .shares = c->shares,
      .n_shares = c->n_shares,
      .control_socket = c->ctl,
      .qmp_socket = c->qmp,
      .host = &c->host,
      .pid_file = c->pid_file,
  };
}

static void on_restored(void *data, int status, const char *error) {
  (void)error; /* in vm_stderr(): the exit callback reports it */
  struct container *c = data;
  if (status == 0 && c->times.hello == 0)
    c->times.hello = uv_hrtime();
}

/* Starts the VM: restored from the template state at clone_of, or booted
 * cold (NULL).  The conversation starts at once: a cold guest says HELLO,
 * a clone is sent its CONFIGURE (queued in the socket until it runs). */
static int boot(struct container *c, const char *clone_of, struct stack_error **err) {
  if (clone_of) {
    /* the writable disk as the template's guest left it (mounted) */
    _cleanup_free_ char *base = template_data_disk(clone_of);
    _cleanup_error_ struct stack_error *e = NULL;
    if (fs_copy_sparse(base, c->disk, &e) < 0) {
      fprintf(stderr, "stack: %s: %s; booting the VM cold\n", c->name, e->msg);
      clone_of = NULL;
    }
  }
  int r;
  if (!clone_of && !c->disk_reused && (r = vm_create_data_disk(c->disk, c->disk_bytes, err)) < 0)
    return r;
  struct vm_spec spec;
  vm_spec_of(c, &spec);
  spec.qmp_event = on_qmp_event; /* not a template's: its builder speaks QMP itself */
  struct vm_net nets[PROTO_MAX_IFACES];
  if (clone_of) {
    c->clone_of = xstrdup(clone_of);
    c->times.cloned = true;
    for (size_t i = 0; i < c->n_nets; i++) {
      template_mac(i, c->tmacs[i]);
      nets[i] = (struct vm_net){.tap = c->vm_nets[i].tap, .mac = c->tmacs[i]};
      c->ifaces[i].set_mac = c->ifaces[i].mac;
      c->ifaces[i].mac = c->tmacs[i];
    }
    spec.nets = nets;
    spec.incoming = c->clone_of;
    spec.restored = on_restored;
    /* the template's key says how it was built: its RAM is a file when the
     * host shares template RAM */
    spec.ram = c->host.shared_ram ? VM_RAM_TEMPLATE_CLONE : VM_RAM_ANON;
  }
  r = vm_start(c->loop, &spec, on_vm_exit, c, &c->vm, err);
  if (r == -ENOENT && clone_of) {
    /* a template whose state or RAM file is gone (a half-removed cache):
     * it must not fail the next container too */
    unlink(clone_of);
    stack_error_prefix(err, "the VM template cannot be used and was removed (the next start "
                            "builds it again)");
  }
  if (r < 0)
    return r;
  c->times.vm_spawned = uv_hrtime();
  uv_timer_start(&c->timer, on_boot_timeout, BOOT_TIMEOUT_MS, 0);
  int fd = vm_connect_control(c->vm, err);
  if (fd < 0)
    return fd;
  if ((r = channel_open(c->loop, fd, &container_channel_ops, c, &c->ch, err)) < 0)
    return r;
  if (clone_of)
    send_configure(c);
  return 0;
}

/* boot() once the container's turn came: a failure then is reported like
 * any other, through io->exited. */
static void boot_late(struct container *c, const char *clone_of) {
  _cleanup_error_ struct stack_error *e = NULL;
  if (boot(c, clone_of, &e) < 0) {
    fail(c, "%s", e->msg);
    if (c->vm == NULL) {
      boot_queue_leave(c->ticket);
      c->ticket = NULL;
      c->vm_exited = true;
      c->times.vm_exited = uv_hrtime();
      report(c);
    }
  }
}

static void on_boot_slot(void *data) {
  struct container *c = data;
  boot_late(c, c->pending_clone);
}

/* Boots now, or queues the boot behind the VMs starting already
 * (boot_queue.h): returns 1 when it booted, 0 when it waits. */
static int begin_boot(struct container *c, const char *clone_of, struct stack_error **err) {
  if (c->boots) {
    free(c->pending_clone);
    c->pending_clone = clone_of ? xstrdup(clone_of) : NULL;
    if (boot_queue_enter(c->boots, on_boot_slot, c, &c->ticket) == 0)
      return 0;
  }
  int r = boot(c, clone_of, err);
  return r < 0 ? r : 1;
}

/* The template is saved (or could not be): boot now. */
static void on_template(void *data, const char *state_path, const char *error) {
  struct container *c = data;
  c->twait = NULL;
  if (error)
    fprintf(stderr, "stack: %s: %s; booting the VM cold\n", c->name, error);
  if (c->boots) {
    free(c->pending_clone);
    c->pending_clone = state_path ? xstrdup(state_path) : NULL;
    if (boot_queue_enter(c->boots, on_boot_slot, c, &c->ticket) == 0)
      return;
  }
  boot_late(c, state_path);
}

int container_start(uv_loop_t *loop, const struct image_handle *image,
                    const struct container_opts *o, const struct container_io *io, void *data,
                    struct container **out, struct stack_error **err) {
  struct container *c = xcalloc(1, sizeof *c);
  c->loop = loop;
  c->io = io;
  c->data = data;
  c->remove = o->remove;
  c->bound_to_host = o->bound_to_host;
  c->times.start = uv_hrtime();
  if (o->id) {
    if (!container_id_valid(o->id)) {
      free(c);
      return stack_error_set(err, -EINVAL, "container id %s: want 64 lowercase hex digits", o->id);
    }
    memcpy(c->id, o->id, 65);
  } else {
    uint8_t rnd[32];
    if (getrandom(rnd, sizeof rnd, 0) != (ssize_t)sizeof rnd) {
      free(c);
      return stack_error_errno(err, -errno, "getrandom");
    }
    for (int i = 0; i < 32; i++)
      snprintf(c->id + 2 * i, 3, "%02x", rnd[i]);
  }
  c->owner = o->owner ? xstrdup(o->owner) : NULL;
  c->name = xstrdup(o->name ? o->name : c->id);
  c->image_ref = xstrdup(image->ref ? image->ref : "");
  c->hostname = o->hostname ? xstrdup(o->hostname) : xstrndup(c->id, 12);
  c->domainname = o->domainname && *o->domainname ? xstrdup(o->domainname) : NULL;
  c->argv = container_argv(&image->config, o->entrypoint, o->cmd);
  c->env = build_env(&image->config, o, c->hostname);
  c->user = xstrdup(o->user ? o->user : image->config.user ? image->config.user : "");
  c->workdir = xstrdup(o->workdir           ? o->workdir
                       : image->config.working_dir ? image->config.working_dir
                                                   : "");
  c->tty = o->tty;
  c->interactive = o->interactive;
  c->rows = o->rows;
  c->cols = o->cols;

  int r;
  _cleanup_free_ char *kernel = NULL, *initrd = NULL, *root = NULL, *rundir = NULL,
                      *disk = NULL;
  if (c->argv == NULL) {
    r = stack_error_set(err, -EINVAL,
                        "%s: no command specified: the image has no ENTRYPOINT or CMD; give one "
                        "after the image name",
                        c->image_ref);
    goto fail;
  }
  if (c->workdir[0] && c->workdir[0] != '/') {
    r = stack_error_set(err, -EINVAL, "working directory %s: must be an absolute path",
                        c->workdir);
    goto fail;
  }
  if ((r = copy_net(c, o, err)) < 0)
    goto fail;
  if ((r = kernel_find(o->kernel, &kernel, NULL, err)) < 0)
    goto fail;
  if (o->initramfs)
    initrd = xstrdup(o->initramfs);
  else if ((r = initramfs_find(&initrd, err)) < 0)
    goto fail;

  root = stack_data_root();
  rundir = stack_run_dir();
  char short_id[13];
  snprintf(short_id, sizeof(short_id), "%.12s", c->id);
  if ((r = state_path_join(root, (const char *const[]){"containers", c->id, NULL}, &c->state_dir,
                           err)) < 0 ||
      (r = state_mkdir(root, (const char *const[]){"containers", c->id, NULL}, 0700, err)) < 0 ||
      (r = state_path_join(rundir, (const char *const[]){short_id, NULL}, &c->run_dir, err)) < 0 ||
      (r = state_mkdir(rundir, (const char *const[]){short_id, NULL}, 0700, err)) < 0)
    goto fail;
  write_state(c, "created");

  disk = o->data_disk ? xstrdup(o->data_disk) : fs_path_join(c->state_dir, "data.img");
  c->disk_reused = o->data_disk && fs_exists(o->data_disk);
  c->disk_bytes = o->disk_bytes ? o->disk_bytes : CONTAINER_DISK_DEFAULT;
  if ((r = vm_host_probe(&c->host, err)) < 0)
    goto fail;
  /* a service may keep its template's RAM private (freed memory then goes
   * back to the host) or ask for shared RAM where QEMU can map it */
  if (o->template_ram == VM_TEMPLATE_RAM_PRIVATE)
    c->host.shared_ram = false;
  else if (o->template_ram == VM_TEMPLATE_RAM_SHARED)
    c->host.shared_ram = c->host.qemu_version >= QEMU_VERSION_SHARED_RAM;
  c->kernel = steal_pointer(&kernel);
  c->initrd = steal_pointer(&initrd);
  c->root_disk = xstrdup(image->rootfs_path);
  c->disk = steal_pointer(&disk);
  c->ctl = fs_path_join(c->run_dir, "ctl.sock");
  c->qmp = fs_path_join(c->run_dir, "qmp.sock");
  c->pid_file = fs_path_join(c->state_dir, "qemu.pid");
  c->mem_mib = o->mem_mib;
  c->tcg_cache_mib = o->tcg_cache_mib;
  c->cpus = o->cpus;
  c->crowded = o->crowded;
  c->boots = o->boots;
  uv_timer_init(loop, &c->timer);
  c->timer.data = c;
  uv_timer_init(loop, &c->space_timer);
  c->space_timer.data = c;
  c->timer_open = true;
  c->open_timers = 2;

  /* a writable disk kept from an earlier run holds that run's files: a
   * template's guest has its own disk mounted, so this one boots cold */
  if (o->templates && template_enabled() && !c->disk_reused) {
    struct vm_spec spec;
    vm_spec_of(c, &spec);
    _cleanup_free_ char *state = NULL;
    _cleanup_error_ struct stack_error *te = NULL;
    r = template_get(o->templates, &spec, c->disk_bytes, on_template, c, &state, &c->twait,
                     &te);
    if (r == 0) { /* booted once the template is saved */
      *out = c;
      return 0;
    }
    if (r < 0 && r != -EBUSY)
      fprintf(stderr, "stack: %s: %s; booting the VM cold\n", c->name, te->msg);
    if ((r = begin_boot(c, r == 1 ? state : NULL, err)) < 0)
      goto fail;
  } else if ((r = begin_boot(c, NULL, err)) < 0) {
    goto fail;
  }
  *out = c;
  return 0;
fail:
  stack_error_prefix(err, "container %s", c->name);
  c->remove = true;
  container_free(c);
  return r;
}

/* Whether pid may still run (conservative: a pid that exists, whoever it
 * is now, keeps the state). */
static bool pid_may_live(const cJSON *j, const char *key) {
  const cJSON *v = cJSON_GetObjectItemCaseSensitive(j, key);
  if (!cJSON_IsNumber(v) || v->valuedouble < 1 || v->valuedouble > 4194304)
    return false;
  pid_t pid = (pid_t)v->valuedouble;
  if (kill(pid, 0) < 0 && errno == ESRCH)
    return false;
  /* a zombie nobody reaps (its parent died too) holds nothing */
  _cleanup_free_ char *path = xasprintf("/proc/%d/stat", (int)pid);
  _cleanup_free_ char *stat = NULL;
  if (fs_read_file(path, 4096, &stat, NULL, NULL) < 0)
    return true;
  const char *end = strrchr(stat, ')');
  return !(end && end[1] == ' ' && end[2] == 'Z');
}

int container_gc(void) {
  _cleanup_free_ char *root = stack_data_root();
  _cleanup_free_ char *dir = fs_path_join(root, "containers");
  _cleanup_free_ char *run = stack_run_dir();
  DIR *d = opendir(dir);
  if (d == NULL)
    return 0;
  int removed = 0;
  struct dirent *de;
  while ((de = readdir(d)) != NULL) {
    if (strlen(de->d_name) != 64 || strspn(de->d_name, "0123456789abcdef") != 64)
      continue;
    _cleanup_free_ char *cdir = fs_path_join(dir, de->d_name);
    _cleanup_free_ char *json = fs_path_join(cdir, "container.json");
    _cleanup_free_ char *text = NULL;
    if (fs_read_file(json, 1 << 20, &text, NULL, NULL) < 0)
      continue;
    cJSON *j = cJSON_Parse(text);
    bool dead = j && cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(j, "remove")) &&
                !pid_may_live(j, "owner_pid") && !pid_may_live(j, "qemu_pid");
    cJSON_Delete(j);
    /* a QEMU whose start container.json has not recorded yet wrote its
     * pid file before it ran */
    if (dead) {
      _cleanup_free_ char *pid_file = fs_path_join(cdir, "qemu.pid");
      int pid = vm_pid_file_read(pid_file);
      _cleanup_free_ char *pj = pid > 0 ? xasprintf("{\"qemu_pid\": %d}", pid) : NULL;
      cJSON *pjj = pj ? cJSON_Parse(pj) : NULL;
      dead = !(pjj && pid_may_live(pjj, "qemu_pid"));
      cJSON_Delete(pjj);
    }
    if (!dead)
      continue;
    _cleanup_free_ char *rdir = xasprintf("%s/%.12s", run, de->d_name);
    _cleanup_free_ char *ctl = fs_path_join(rdir, "ctl.sock");
    _cleanup_free_ char *qmp = fs_path_join(rdir, "qmp.sock");
    unlink(ctl);
    unlink(qmp);
    rmdir(rdir);
    if (fs_rm_rf(cdir, NULL) == 0)
      removed++;
  }
  closedir(d);
  /* and the cgroups of VMs that ended while nobody watched */
  jail_cgroup_gc();
  return removed;
}
