/* Boots the real guest kernel in QEMU with a tiny static init and checks
 * that it reaches /init, talks on the control port, powers off, that QEMU's
 * exit (clean, killed, failed) is reported with its stderr, that the console
 * log is written, that the disks appear as asked, and that QMP works.
 * Every VM runs under a timeout and is killed by vm_free() whatever happens. */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "helper_tinyvm.h"
#include "runtime/util/cleanup.h"
#include "runtime/util/error.h"
#include "runtime/util/fsutil.h"
#include "runtime/util/sbuf.h"
#include "runtime/util/uv_alloc.h"
#include "runtime/util/xalloc.h"
#include "runtime/vm/kernel.h"
#include "runtime/vm/qmp.h"
#include "runtime/vm/vm.h"
#include "test.h"

#define VM_TIMEOUT_MS 60000

static char tmpdir[] = "/tmp/stack-vmtest.XXXXXX";
static struct vm_host host;
static char *initrd;

static void cleanup_tmp(void) { fs_rm_rf(tmpdir, NULL); }

struct run {
  uv_loop_t loop;
  struct vm *vm;
  uv_timer_t timer;
  uv_pipe_t ctl;
  bool ctl_open;
  struct sbuf out; /* what the guest sent on the control port */
  bool exited, timed_out;
  int64_t status;
  int sig;
  /* What to do once the guest's TINYINIT line arrived. */
  enum { ON_LINE_NOTHING, ON_LINE_KILL, ON_LINE_QMP, ON_LINE_INSPECT } on_line;
  /* ON_LINE_INSPECT: looks at the running QEMU, which is killed after */
  void (*inspect)(struct run *r, int pid);
  uint64_t want_caps;
  const char *state_dir;
  bool line_seen;
  struct qmp *qmp;
  struct sbuf qmp_log; /* "command:result" steps */
  int qmp_step;
  bool qmp_reconnected;
  vm_exit_cb exit_hook; /* replaces on_exit_cb when set */
};

static void on_exit_cb(struct vm *vm, int64_t status, int sig, void *data) {
  struct run *r = data;
  (void)vm;
  r->exited = true;
  r->status = status;
  r->sig = sig;
  uv_timer_stop(&r->timer);
  if (r->ctl_open) {
    uv_close((uv_handle_t *)&r->ctl, NULL);
    r->ctl_open = false;
  }
  if (r->qmp) {
    qmp_close(r->qmp);
    r->qmp = NULL;
  }
}

static void on_timeout(uv_timer_t *t) {
  struct run *r = t->data;
  r->timed_out = true;
  vm_kill(r->vm, SIGKILL, NULL);
}

static void qmp_next(struct run *r);

static void on_qmp_reply(struct qmp *q, int status, const cJSON *ret, const char *desc,
                         void *data) {
  struct run *r = data;
  (void)q;
  const cJSON *st = ret ? cJSON_GetObjectItemCaseSensitive(ret, "status") : NULL;
  sbuf_printf(&r->qmp_log, "%d:%s:%s;", r->qmp_step, status == 0 ? "ok" : desc,
              cJSON_IsString(st) ? st->valuestring : "");
  r->qmp_step++;
  if (status == 0)
    qmp_next(r);
}

/* query-status, stop, query-status, cont, query-status, quit. */
static void qmp_next(struct run *r) {
  if (!r->qmp)
    return;
  switch (r->qmp_step) {
  case 0:
  case 2:
  case 4:
    qmp_query_status(r->qmp, on_qmp_reply, r, NULL);
    break;
  case 1:
    qmp_stop(r->qmp, on_qmp_reply, r, NULL);
    break;
  case 3:
    qmp_cont(r->qmp, on_qmp_reply, r, NULL);
    break;
  case 5:
    qmp_quit(r->qmp, on_qmp_reply, r, NULL);
    break;
  default:
    break;
  }
}

static void on_qmp_state(struct qmp *q, int status, void *data) {
  struct run *r = data;
  if (status != 0)
    return;
  if (!r->qmp_reconnected) {
    /* Close the first connection: QEMU must listen again for the next. */
    r->qmp_reconnected = true;
    qmp_close(q);
    _cleanup_error_ struct stack_error *err = NULL;
    int rc = qmp_connect(&r->loop, vm_qmp_path(r->vm), on_qmp_state, NULL, r, &r->qmp, &err);
    CHECK_MSG(rc == 0, "%s", err ? err->msg : "");
    return;
  }
  qmp_next(r);
}

static void on_ctl_read(uv_stream_t *s, ssize_t n, const uv_buf_t *buf) {
  struct run *r = s->data;
  if (n > 0)
    sbuf_append(&r->out, buf->base, (size_t)n);
  free(buf->base);
  if (n < 0) {
    uv_read_stop(s);
    return;
  }
  if (!r->line_seen && r->out.data && strstr(r->out.data, "TINYINIT") &&
      strchr(strstr(r->out.data, "TINYINIT"), '\n')) {
    r->line_seen = true;
    if (r->on_line == ON_LINE_KILL) {
      CHECK(vm_kill(r->vm, SIGKILL, NULL) == 0);
    } else if (r->on_line == ON_LINE_INSPECT) {
      r->inspect(r, vm_pid(r->vm));
      CHECK(vm_kill(r->vm, SIGKILL, NULL) == 0);
    } else if (r->on_line == ON_LINE_QMP) {
      _cleanup_error_ struct stack_error *err = NULL;
      int rc = qmp_connect(&r->loop, vm_qmp_path(r->vm), on_qmp_state, NULL, r, &r->qmp, &err);
      CHECK_MSG(rc == 0, "%s", err ? err->msg : "");
    }
  }
}

/* Boots spec to its end (or the timeout) and fills r. */
static void run_vm(struct run *r, struct vm_spec *spec) {
  memset(r, 0, offsetof(struct run, on_line));
  uv_loop_init(&r->loop);
  uv_timer_init(&r->loop, &r->timer);
  r->timer.data = r;
  spec->host = &host;
  _cleanup_error_ struct stack_error *err = NULL;
  int rc = vm_start(&r->loop, spec, r->exit_hook ? r->exit_hook : on_exit_cb, r, &r->vm, &err);
  CHECK_MSG(rc == 0, "vm_start: %s", err ? err->msg : "");
  if (rc < 0) {
    uv_close((uv_handle_t *)&r->timer, NULL);
    uv_run(&r->loop, UV_RUN_DEFAULT);
    uv_loop_close(&r->loop);
    return;
  }
  int pid = vm_pid(r->vm);
  CHECK(pid > 0);
  uv_timer_start(&r->timer, on_timeout, VM_TIMEOUT_MS, 0);
  if (spec->control_socket) {
    /* Right after vm_start(): the socket already listens. */
    int fd = vm_connect_control(r->vm, &err);
    CHECK_MSG(fd >= 0, "connect control: %s", err ? err->msg : "");
    if (fd >= 0) {
      uv_pipe_init(&r->loop, &r->ctl, 0);
      r->ctl.data = r;
      uv_pipe_open(&r->ctl, fd);
      r->ctl_open = true;
      uv_read_start((uv_stream_t *)&r->ctl, uv_alloc_heap, on_ctl_read);
    }
  }
  uv_run(&r->loop, UV_RUN_DEFAULT);
  CHECK(!r->timed_out);
  if (!r->exited)
    fprintf(stderr, "QEMU stderr: %s\n", vm_stderr(r->vm));
  vm_free(r->vm);
  uv_close((uv_handle_t *)&r->timer, NULL);
  uv_run(&r->loop, UV_RUN_DEFAULT);
  CHECK(uv_loop_close(&r->loop) == 0);
  /* No QEMU left behind. */
  CHECK(kill(pid, 0) < 0 && errno == ESRCH);
}

static void run_free(struct run *r) {
  sbuf_free(&r->out);
  sbuf_free(&r->qmp_log);
}

static char *path_in(const char *dir, const char *name) { return xasprintf("%s/%s", dir, name); }

static char *new_state_dir(const char *name) {
  char *d = path_in(tmpdir, name);
  CHECK(fs_mkdir_p(d, 0700, NULL) == 0);
  return d;
}

/* A VM of the tiny init in mode (tinyinit=<mode>), with its own state dir
 * and control socket. */
struct tiny {
  char *dir, *ctl, *cmdline;
  struct vm_spec spec;
};

static void tiny_init(struct tiny *t, const char *name, const char *mode) {
  t->dir = new_state_dir(name);
  t->ctl = path_in(t->dir, "ctl.sock");
  t->cmdline = xasprintf("tinyinit=%s", mode);
  t->spec = (struct vm_spec){.name = name, .state_dir = t->dir, .initrd = initrd,
                             .cmdline_extra = t->cmdline, .mem_mib = 256,
                             .control_socket = t->ctl};
}

static void tiny_free(struct tiny *t) {
  free(t->dir);
  free(t->ctl);
  free(t->cmdline);
}

#define _cleanup_tiny_ __attribute__((cleanup(tiny_free)))

static void test_poweroff(void) {
  _cleanup_tiny_ struct tiny t;
  tiny_init(&t, "poweroff", "poweroff");
  struct run r = {0};
  run_vm(&r, &t.spec);
  CHECK(r.exited);
  CHECK_INTEQ(r.status, 0);
  CHECK_INTEQ(r.sig, 0);
  CHECK_MSG(r.out.data && strstr(r.out.data, "TINYINIT "), "control port got: %s",
            r.out.data ? r.out.data : "(nothing)");
  _cleanup_free_ char *console = NULL;
  _cleanup_free_ char *log = path_in(t.dir, "console.log");
  CHECK(fs_read_file(log, 0, &console, NULL, NULL) == 0);
  CHECK_MSG(console && strstr(console, "TINYINIT "), "console.log: %s",
            console ? console : "(none)");
  /* vm_free() removed the sockets. */
  CHECK(!fs_exists(t.ctl));
  _cleanup_free_ char *qmp = path_in(t.dir, "qmp.sock");
  CHECK(!fs_exists(qmp));
  run_free(&r);
}

static void test_kill(void) {
  _cleanup_tiny_ struct tiny t;
  tiny_init(&t, "kill", "hang");
  struct run r = {.on_line = ON_LINE_KILL};
  run_vm(&r, &t.spec);
  CHECK(r.line_seen);
  CHECK(r.exited);
  CHECK_INTEQ(r.sig, SIGKILL);
  run_free(&r);
}

static void test_disks(void) {
  _cleanup_tiny_ struct tiny t;
  tiny_init(&t, "disks", "disks");
  _cleanup_free_ char *root = path_in(t.dir, "root.img");
  _cleanup_free_ char *data = path_in(t.dir, "data.img");
  _cleanup_error_ struct stack_error *err = NULL;
  CHECK_MSG(vm_create_data_disk(root, 64 << 20, &err) == 0, "%s", err ? err->msg : "");
  CHECK_MSG(vm_create_data_disk(data, 8ULL << 30, &err) == 0, "%s", err ? err->msg : "");
  CHECK(vm_create_data_disk(data, 8ULL << 30, NULL) == -EEXIST);
  t.spec.cpus = 2;
  t.spec.root_disk = root;
  t.spec.data_disk = data;
  /* A read-only disk is shared by every VM's QEMU, each with its own uid:
   * one that only root may read is refused, saying why. */
  if (geteuid() == 0) {
    uv_loop_t loop;
    uv_loop_init(&loop);
    struct vm *vm = NULL;
    t.spec.host = &host;
    CHECK(vm_start(&loop, &t.spec, NULL, NULL, &vm, &err) == -EACCES);
    CHECK_MSG(err && strstr(err->msg, "root.img is not readable by all (mode 0600)") &&
                  strstr(err->msg, "chmod a+r"),
              "%s", err ? err->msg : "");
    CHECK(uv_loop_close(&loop) == 0);
  }
  /* as the image store makes them */
  CHECK(chmod(root, 0644) == 0);
  struct run r = {0};
  run_vm(&r, &t.spec);
  CHECK_INTEQ(r.status, 0);
  const char *out = r.out.data ? r.out.data : "";
  /* vm.h promises root = /dev/vda, data = /dev/vdb (the guest init relies on it). */
  CHECK_MSG(strstr(out, "DISK vda root 1\n") && strstr(out, "DISK vdb data 0\n"), "guest saw: %s",
            out);
  /* The data disk is a clean ext4 (what e2fsck says), and stays sparse. */
  _cleanup_free_ char *fsck = xasprintf("e2fsck -fn %s >/dev/null 2>&1", data);
  CHECK_INTEQ(system(fsck), 0);
  /* The sparse 8 GiB data disk stays small on the host. */
  struct stat st;
  CHECK(stat(data, &st) == 0 && st.st_blocks * 512 < (64 << 20));
  run_free(&r);
}

static char tap[16];
static void del_tap(void) {
  _cleanup_free_ char *cmd = xasprintf("ip link del %s 2>/dev/null", tap);
  if (system(cmd) != 0)
    fprintf(stderr, "could not remove tap %s\n", tap);
}

/* QEMU opens a host tap by name and the guest sees eth0 with our MAC. */
static void test_net(void) {
  snprintf(tap, sizeof(tap), "stkvt%x", (unsigned)getpid() & 0xffffff);
  _cleanup_free_ char *cmd = xasprintf("ip tuntap add dev %s mode tap", tap);
  if (system(cmd) != 0) {
    CHECK_MSG(geteuid() != 0, "cannot create tap %s as root", tap);
    fprintf(stderr, "test_net skipped: cannot create a tap (not root)\n");
    return;
  }
  atexit(del_tap);
  _cleanup_tiny_ struct tiny t;
  tiny_init(&t, "net", "net");
  struct vm_net net = {.tap = tap, .mac = "52:54:00:ab:cd:ef"};
  t.spec.nets = &net;
  t.spec.n_nets = 1;
  struct run r = {0};
  run_vm(&r, &t.spec);
  CHECK_INTEQ(r.status, 0);
  const char *out = r.out.data ? r.out.data : "";
  CHECK_MSG(strstr(out, "NET eth0 52:54:00:ab:cd:ef\n"), "guest saw: %s", out);
  run_free(&r);
}

static char *slurp(const char *path) {
  char *text = NULL;
  if (fs_read_file(path, 0, &text, NULL, NULL) < 0)
    return xstrdup("");
  return text;
}

/* The value of "Key:" in /proc/PID/status (tabs and spaces squeezed). */
static char *status_field(const char *status, const char *key) {
  const char *p = strstr(status, key);
  if (!p)
    return xstrdup("");
  p += strlen(key);
  while (*p == ':' || *p == '\t' || *p == ' ')
    p++;
  return xstrndup(p, strcspn(p, "\n"));
}

static bool same_ns(int pid, const char *ns) {
  char a[64] = "", b[64] = "";
  _cleanup_free_ char *pa = xasprintf("/proc/%d/ns/%s", pid, ns);
  _cleanup_free_ char *pb = xasprintf("/proc/self/ns/%s", ns);
  return readlink(pa, a, sizeof a - 1) > 0 && readlink(pb, b, sizeof b - 1) > 0 &&
         strcmp(a, b) == 0;
}

/* QEMU runs jailed (runtime/vm/jail.h): its own uid, the capabilities its
 * shares need and no other, no_new_privs and seccomp, its own mount,
 * network and IPC namespaces showing only its files, read-only where it
 * only reads. */
static int jailed_pid;

static void inspect_jail(struct run *r, int pid) {
  jailed_pid = pid;
  _cleanup_free_ char *path = xasprintf("/proc/%d/status", pid);
  _cleanup_free_ char *status = slurp(path);
  uint32_t id = host.uid_base + (uint32_t)pid;
  _cleanup_free_ char *want_id = xasprintf("%u\t%u\t%u\t%u", id, id, id, id);
  _cleanup_free_ char *uid = status_field(status, "\nUid");
  _cleanup_free_ char *gid = status_field(status, "\nGid");
  _cleanup_free_ char *groups = status_field(status, "\nGroups");
  CHECK_STREQ(uid, want_id);
  CHECK_STREQ(gid, want_id);
  CHECK_STREQ(groups, "");
  _cleanup_free_ char *want_caps = xasprintf("%016llx", (unsigned long long)r->want_caps);
  static const char *const sets[] = {"\nCapInh", "\nCapPrm", "\nCapEff", "\nCapBnd", "\nCapAmb"};
  for (size_t i = 0; i < 5; i++) {
    _cleanup_free_ char *v = status_field(status, sets[i]);
    CHECK_MSG(strcmp(v, i == 0 && !r->want_caps ? "0000000000000000" : want_caps) == 0,
              "%s: %s, want %s", sets[i] + 1, v, want_caps);
  }
  _cleanup_free_ char *nnp = status_field(status, "\nNoNewPrivs");
  _cleanup_free_ char *sec = status_field(status, "\nSeccomp");
  CHECK_STREQ(nnp, "1");
  CHECK_STREQ(sec, "2");
  CHECK(!same_ns(pid, "mnt") && !same_ns(pid, "net") && !same_ns(pid, "ipc"));
  /* what it sees: its files, no more */
  _cleanup_free_ char *root = xasprintf("/proc/%d/root", pid);
  _cleanup_free_ char *console = xasprintf("%s%s/console.log", root, r->state_dir);
  _cleanup_free_ char *other = xasprintf("%s%s/poweroff", root, tmpdir);
  _cleanup_free_ char *passwd = xasprintf("%s/etc/passwd", root);
  _cleanup_free_ char *home = xasprintf("%s/root", root);
  _cleanup_free_ char *usr = xasprintf("%s/usr/stack-jail-test", root);
  _cleanup_free_ char *kvm = xasprintf("%s/dev/null", root);
  CHECK_MSG(fs_exists(console), "%s", console);
  CHECK(!fs_exists(other) && !fs_exists(passwd) && !fs_exists(home));
  CHECK(fs_exists(kvm));
  /* read-only even for root */
  CHECK(open(usr, O_WRONLY | O_CREAT | O_CLOEXEC, 0600) < 0 && errno == EROFS);
  _cleanup_free_ char *minfo_path = xasprintf("/proc/%d/mountinfo", pid);
  _cleanup_free_ char *minfo = slurp(minfo_path);
  CHECK_MSG(strstr(minfo, " / / ro,nosuid,nodev,noexec") != NULL, "%s", minfo);
  CHECK_MSG(strstr(minfo, "/proc rw,nosuid,nodev,noexec") && strstr(minfo, "hidepid="), "%s",
            minfo);
  /* its per-VM cgroup, when the host has one */
  _cleanup_free_ char *cg_path = xasprintf("/proc/%d/cgroup", pid);
  _cleanup_free_ char *cg = slurp(cg_path);
  _cleanup_free_ char *vmcg = xasprintf("/vm-%d\n", pid);
  CHECK_MSG(!host.cgroup[0] || strstr(cg, vmcg), "%s", cg);
}

static void test_jail(void) {
  if (geteuid() != 0) {
    fprintf(stderr, "test_jail skipped: not root, QEMU runs as this user\n");
    return;
  }
  _cleanup_tiny_ struct tiny t;
  tiny_init(&t, "jail", "hang");
  struct run r = {.on_line = ON_LINE_INSPECT, .inspect = inspect_jail, .state_dir = t.dir};
  run_vm(&r, &t.spec);
  CHECK(r.line_seen && r.exited);
  run_free(&r);
  /* a host directory shared: the capabilities passthrough needs */
  _cleanup_free_ char *share = new_state_dir("jail-share");
  struct vm_share sh = {.path = share, .tag = "vol0"};
  t.spec.shares = &sh;
  t.spec.n_shares = 1;
  struct run r2 = {.on_line = ON_LINE_INSPECT, .inspect = inspect_jail, .state_dir = t.dir,
                   .want_caps = 1 << 0 | 1 << 1 | 1 << 3}; /* CHOWN, DAC_OVERRIDE, FOWNER */
  run_vm(&r2, &t.spec);
  CHECK(r2.line_seen && r2.exited);
  run_free(&r2);
  /* a volume (mapped-xattr): no CHOWN */
  sh.model = VM_SHARE_MAPPED;
  struct run r3 = {.on_line = ON_LINE_INSPECT, .inspect = inspect_jail, .state_dir = t.dir,
                   .want_caps = 1 << 1 | 1 << 3};
  run_vm(&r3, &t.spec);
  CHECK(r3.line_seen && r3.exited);
  run_free(&r3);
  /* its cgroup went with it */
  if (host.cgroup[0]) {
    _cleanup_free_ char *cg = xasprintf("%s/vm-%d", host.cgroup, jailed_pid);
    CHECK_MSG(!fs_exists(cg), "%s is left", cg);
  }
}

/* Where the host mounts cgroup v2 (hybrid hosts: /sys/fs/cgroup/unified),
 * or NULL. */
static char *cgroup2_mount(void) {
  _cleanup_free_ char *mi = slurp("/proc/self/mountinfo");
  for (char *line = strtok(mi, "\n"); line; line = strtok(NULL, "\n")) {
    char *sep = strstr(line, " - cgroup2 ");
    if (!sep)
      continue;
    char mnt[512];
    if (sscanf(line, "%*s %*s %*s %*s %511s", mnt) == 1)
      return xstrdup(mnt);
  }
  return NULL;
}

/* The per-VM cgroup on whatever cgroup v2 this host has (here even one
 * without the memory and pids controllers): QEMU runs in <dir>/vm-<pid>
 * from its first instruction, and the directory goes with it. */
static void test_jail_cgroup(void) {
  _cleanup_free_ char *mnt = geteuid() == 0 ? cgroup2_mount() : NULL;
  if (!mnt) {
    fprintf(stderr, "test_jail_cgroup skipped: no cgroup v2 (or not root)\n");
    return;
  }
  _cleanup_free_ char *dir = xasprintf("%s/stack-test-%d", mnt, (int)getpid());
  if (mkdir(dir, 0755) < 0) {
    fprintf(stderr, "test_jail_cgroup skipped: cannot create %s: %s\n", dir, strerror(errno));
    return;
  }
  struct vm_host saved = host;
  snprintf(host.cgroup, sizeof host.cgroup, "%s", dir);
  host.cgroup_memory = host.cgroup_pids = false;
  _cleanup_tiny_ struct tiny t;
  tiny_init(&t, "jail-cgroup", "hang");
  struct run r = {.on_line = ON_LINE_INSPECT, .inspect = inspect_jail, .state_dir = t.dir};
  run_vm(&r, &t.spec);
  CHECK(r.line_seen && r.exited);
  _cleanup_free_ char *cg = xasprintf("%s/vm-%d", dir, jailed_pid);
  CHECK_MSG(!fs_exists(cg), "%s is left", cg);
  run_free(&r);
  host = saved;
  CHECK(rmdir(dir) == 0);
}

static void test_qmp(void) {
  _cleanup_tiny_ struct tiny t;
  tiny_init(&t, "qmp", "hang");
  struct run r = {.on_line = ON_LINE_QMP};
  run_vm(&r, &t.spec);
  CHECK(r.exited);
  CHECK_INTEQ(r.sig, 0);
  CHECK_INTEQ(r.status, 0);
  CHECK_STREQ(r.qmp_log.data, "0:ok:running;1:ok:;2:ok:paused;3:ok:;4:ok:running;5:ok:;");
  run_free(&r);
}

/* QEMU refuses the kernel: the exit is reported with QEMU's own message. */
static void bad_kernel_exit(struct vm *vm, int64_t status, int sig, void *data) {
  struct run *r = data;
  on_exit_cb(vm, status, sig, data);
  sbuf_puts(&r->out, vm_stderr(vm));
}

static void test_bad_kernel(void) {
  _cleanup_free_ char *dir = new_state_dir("badkernel");
  _cleanup_free_ char *kernel = path_in(dir, "notakernel");
  CHECK(fs_write_file_atomic(kernel, "not a kernel\n", 13, 0644, NULL) == 0);
  struct vm_spec spec = {.name = "badkernel", .state_dir = dir, .kernel = kernel,
                         .mem_mib = 128};
  struct run r = {.exit_hook = bad_kernel_exit};
  run_vm(&r, &spec);
  CHECK(r.exited);
  CHECK(r.status != 0);
  CHECK_MSG(r.out.data && strstr(r.out.data, "kernel"), "stderr: %s",
            r.out.data ? r.out.data : "");
  run_free(&r);
}

static void test_bad_spec(void) {
  struct vm_net net = {.tap = "tap0,script=/bin/sh", .mac = NULL};
  struct vm_spec spec = {.name = "bad", .state_dir = tmpdir, .initrd = initrd, .nets = &net,
                         .n_nets = 1, .host = &host};
  uv_loop_t loop;
  uv_loop_init(&loop);
  struct vm *vm = NULL;
  _cleanup_error_ struct stack_error *err = NULL;
  CHECK(vm_start(&loop, &spec, NULL, NULL, &vm, &err) == -EINVAL);
  CHECK(err && strstr(err->msg, "tap"));
  CHECK(uv_loop_close(&loop) == 0);
}

int main(void) {
  _cleanup_error_ struct stack_error *err = NULL;
  _cleanup_free_ char *kernel = NULL;
  if (kernel_find(NULL, &kernel, NULL, &err) < 0)
    TEST_SKIP("%s", err->msg);
  if (system("command -v qemu-system-x86_64 >/dev/null && command -v musl-gcc >/dev/null") != 0)
    TEST_SKIP("qemu-system-x86_64 or musl-gcc is missing (scripts/setup.sh installs them)");
  CHECK(mkdtemp(tmpdir) != NULL);
  atexit(cleanup_tmp);
  if (vm_host_probe(&host, &err) < 0 || tinyvm_build_initrd(tmpdir, &initrd, &err) < 0) {
    fprintf(stderr, "%s\n", err->msg);
    return 1;
  }
  test_bad_spec();
  test_poweroff();
  test_kill();
  test_disks();
  test_qmp();
  test_jail();
  test_jail_cgroup();
  test_net();
  test_bad_kernel();
  free(initrd);
  TEST_DONE();
}
