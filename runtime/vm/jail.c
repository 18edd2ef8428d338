#include "runtime/vm/jail.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <linux/capability.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/sysmacros.h>
#include <unistd.h>

#include "runtime/util/cleanup.h"
#include "runtime/util/error.h"
#include "runtime/util/fsutil.h"
#include "runtime/util/paths.h"
#include "runtime/util/xalloc.h"
#include "runtime/vm/jail_cgroup.h"
#include "runtime/vm/jail_seccomp.h"
#include "runtime/vm/jail_str.h"
#include "runtime/vm/kernel.h"

/* pid_max can be at most 4194304 (PID_MAX_LIMIT): uid_base + pid stays
 * below 2^31 (some programs take larger ids for negative ones). */
#define PID_LIMIT 4194304u
#define UID_BASE_MAX (0x7fffffffu - PID_LIMIT)

enum jm_kind { JM_DIR, JM_FILE, JM_LINK };

struct jail_mount {
  char *path;   /* where QEMU sees it: the same path as on the host */
  char *source; /* what is bound there (the same path), or a link's target */
  enum jm_kind kind;
  uint64_t attr; /* MOUNT_ATTR_* for the bind */
  bool skip;     /* already visible through an earlier directory or link */
};

struct jail {
  bool enabled; /* running as root: the full jail; else no_new_privs + seccomp */
  char *exec_path;
  char *root; /* the empty directory the jail's tmpfs is mounted on */
  char *cwd;  /* kept, for relative paths QEMU might meet */
  struct jail_mount *m;
  size_t n, cap;
  char **give; /* files QEMU opens for writing: given to its uid */
  size_t n_give;
  char *console; /* made empty and given to its uid */
  bool kvm;
  uint64_t caps;
  int last_cap; /* the kernel's highest capability number */
  uint32_t uid_base;
  char *cgroup;
  uint64_t memory_max, pids_max;
};

/* ---- the plan (parent) ---- */

int jail_probe(struct vm_host *host, struct stack_error **err) {
  host->jail = geteuid() == 0;
  host->uid_base = JAIL_UID_BASE_DEFAULT;
  long pages = sysconf(_SC_PHYS_PAGES), psz = sysconf(_SC_PAGESIZE);
  host->physmem = pages > 0 && psz > 0 ? (uint64_t)pages * (uint64_t)psz : 0;
  const char *v = getenv("STACK_VM_UID_BASE");
  const char *src = "$STACK_VM_UID_BASE";
  _cleanup_free_ char *cfg = NULL;
  if (!v || !*v) {
    int r = stack_config_get_string("vm_uid_base", &cfg, err);
    if (r < 0)
      return r;
    v = cfg;
    src = "the config file's \"vm_uid_base\"";
  }
  if (v && *v) {
    char *end = NULL;
    errno = 0;
    unsigned long long b = strtoull(v, &end, 0);
    if (errno || !end || *end || b < 65536 || b > UID_BASE_MAX)
      return stack_error_set(err, -EINVAL,
                             "vm_uid_base \"%s\" (from %s): want a number from 65536 to %u; "
                             "each VM's QEMU runs as that number plus its pid, so the %u ids "
                             "from there must belong to nobody else",
                             v, src, UID_BASE_MAX, PID_LIMIT);
    host->uid_base = (uint32_t)b;
  }
  jail_cgroup_probe(host);
  return 0;
}

uint64_t jail_caps(const struct vm_share *shares, size_t n_shares) {
  uint64_t caps = 0;
  for (size_t i = 0; i < n_shares; i++) {
    /* files of every owner, and their times and xattrs */
    caps |= 1ULL << CAP_DAC_OVERRIDE | 1ULL << CAP_FOWNER;
    /* passthrough gives new files the guest's owners */
    if (shares[i].model == VM_SHARE_PASSTHROUGH)
      caps |= 1ULL << CAP_CHOWN;
  }
  return caps;
}

static void add(struct jail *j, const char *path, const char *source, enum jm_kind kind,
                uint64_t attr) {
  j->m = xgrow(j->m, &j->cap, j->n + 1, sizeof *j->m);
  j->m[j->n++] = (struct jail_mount){xstrdup(path), xstrdup(source), kind, attr, false};
}

static void give(struct jail *j, const char *path) {
  j->give = xrealloc(j->give, (j->n_give + 1) * sizeof *j->give);
  j->give[j->n_give++] = xstrdup(path);
}

/* Whether path is dir or lies below it. */
static bool under(const char *path, const char *dir) {
  size_t n = strlen(dir);
  if (n == 1 && dir[0] == '/')
    return true;
  return strncmp(path, dir, n) == 0 && (path[n] == '/' || path[n] == '\0');
}

static int by_path(const void *a, const void *b) {
  return strcmp(((const struct jail_mount *)a)->path, ((const struct jail_mount *)b)->path);
}

#define RO_SYS (MOUNT_ATTR_RDONLY | MOUNT_ATTR_NOSUID | MOUNT_ATTR_NODEV)
#define RO_DATA (MOUNT_ATTR_RDONLY | MOUNT_ATTR_NOSUID | MOUNT_ATTR_NODEV | MOUNT_ATTR_NOEXEC)
#define RW_DATA (MOUNT_ATTR_NOSUID | MOUNT_ATTR_NODEV | MOUNT_ATTR_NOEXEC)

/* What the dynamic loader and QEMU's start read: /usr and the top-level
 * links into it (or the directories, where /usr is not merged), the
 * loader's cache, the time zone. */
static void add_system(struct jail *j) {
  static const char *const dirs[] = {"/usr", "/bin", "/sbin", "/lib", "/lib32", "/lib64", "/libx32"};
  for (size_t i = 0; i < sizeof dirs / sizeof dirs[0]; i++) {
    struct stat st;
    if (lstat(dirs[i], &st) < 0)
      continue;
    if (S_ISLNK(st.st_mode)) {
      char target[PATH_MAX];
      ssize_t n = readlink(dirs[i], target, sizeof target - 1);
      if (n > 0) {
        target[n] = '\0';
        add(j, dirs[i], target, JM_LINK, 0);
      }
    } else if (S_ISDIR(st.st_mode)) {
      add(j, dirs[i], dirs[i], JM_DIR, RO_SYS);
    }
  }
  static const char *const files[] = {"/etc/ld.so.cache", "/etc/localtime"};
  for (size_t i = 0; i < sizeof files / sizeof files[0]; i++) {
    struct stat st;
    if (stat(files[i], &st) == 0 && S_ISREG(st.st_mode))
      add(j, files[i], files[i], JM_FILE, RO_DATA);
  }
}

/* A file the VM opens by name; a missing one is left out (QEMU then says
 * which).  One it only reads is shared by every VM: all must be able to
 * read it. */
static int add_file(struct jail *j, const char *path, uint64_t attr, struct stack_error **err) {
  struct stat st;
  if (!path || !*path || stat(path, &st) < 0 || S_ISDIR(st.st_mode))
    return 0;
  if ((attr & MOUNT_ATTR_RDONLY) && !(st.st_mode & S_IROTH))
    return stack_error_set(err, -EACCES,
                           "%s is not readable by all (mode %04o): each VM's QEMU runs as its "
                           "own unprivileged user and reads it; make it readable (chmod a+r)",
                           path, (unsigned)(st.st_mode & 07777));
  add(j, path, path, JM_FILE, attr);
  return 0;
}

const char *jail_exec_path(const struct jail *j) { return j->exec_path; }
const char *jail_cgroup_dir(const struct jail *j) { return j->cgroup ? j->cgroup : ""; }

int jail_new(const struct jail_opts *o, struct jail **out, struct stack_error **err) {
  const struct vm_spec *spec = o->spec;
  const struct vm_host *host = o->host;
  _cleanup_free_ char *real = realpath(o->qemu, NULL);
  if (real == NULL)
    return stack_error_errno(err, -errno, "cannot find %s", o->qemu);
  struct jail *j = xcalloc(1, sizeof *j);
  j->exec_path = steal_pointer(&real);
  j->enabled = host->jail;
  j->caps = jail_caps(spec->shares, spec->n_shares);
  j->uid_base = host->uid_base;
  /* the bounding set is emptied up to the kernel's last capability */
  j->last_cap = 63;
  _cleanup_free_ char *last = NULL;
  if (fs_read_file("/proc/sys/kernel/cap_last_cap", 64, &last, NULL, NULL) == 0) {
    int n = atoi(last);
    if (n > 0 && n < 64)
      j->last_cap = n;
  }
  if (!j->enabled) {
    *out = j;
    return 0;
  }
  struct stat st;
  int r;
  char cwd[PATH_MAX];
  if (getcwd(cwd, sizeof cwd))
    j->cwd = xstrdup(cwd);

  add_system(j);
  /* QEMU from elsewhere than /usr: its installation prefix (its data
   * files are found relative to the binary) */
  bool seen = false;
  for (size_t i = 0; i < j->n; i++)
    seen |= j->m[i].kind == JM_DIR && under(j->exec_path, j->m[i].path);
  if (!seen) {
    _cleanup_free_ char *prefix = xstrdup(j->exec_path);
    for (int up = 0; up < 2; up++) {
      char *slash = strrchr(prefix, '/');
      if (slash && slash != prefix)
        *slash = '\0';
    }
    add(j, prefix, prefix, JM_DIR, RO_SYS);
  }
  if ((r = add_file(j, o->kernel, RO_DATA, err)) < 0 ||
      (r = add_file(j, spec->initrd, RO_DATA, err)) < 0 ||
      (r = add_file(j, spec->root_disk, RO_DATA, err)) < 0) {
    jail_free(j);
    return r;
  }
  /* a template's RAM file: the build's guest writes it, clones read it */
  if (spec->ram == VM_RAM_TEMPLATE_CLONE && (r = add_file(j, spec->ram_file, RO_DATA, err)) < 0) {
    jail_free(j);
    return r;
  }
  if (spec->ram == VM_RAM_TEMPLATE_BUILD && spec->ram_file && fs_exists(spec->ram_file)) {
    add_file(j, spec->ram_file, RW_DATA, NULL);
    give(j, spec->ram_file);
  }
  if (spec->data_disk && fs_exists(spec->data_disk)) {
    add_file(j, spec->data_disk, RW_DATA, NULL);
    give(j, spec->data_disk);
  }
  for (size_t i = 0; spec->jail_paths && spec->jail_paths[i]; i++) {
    add_file(j, spec->jail_paths[i], RW_DATA, NULL);
    give(j, spec->jail_paths[i]);
  }
  if (o->console) {
    j->console = xstrdup(o->console);
    add(j, o->console, o->console, JM_FILE, RW_DATA);
  }
  for (size_t i = 0; i < spec->n_shares; i++)
    if (stat(spec->shares[i].path, &st) == 0 && S_ISDIR(st.st_mode))
      add(j, spec->shares[i].path, spec->shares[i].path, JM_DIR,
          spec->shares[i].readonly ? RO_DATA : RW_DATA);

  /* The jail's tmpfs goes on /proc, in QEMU's namespace only (the host's
   * /proc is no use there, and nothing QEMU opens lies in it): a directory
   * every Linux has, which no bind source hides.  Should a share lie in
   * /proc all the same, an empty directory of stack's own serves. */
  bool in_proc = false;
  for (size_t i = 0; i < j->n; i++)
    in_proc |= under(j->m[i].source, "/proc");
  if (!in_proc) {
    j->root = xstrdup("/proc");
  } else {
    _cleanup_free_ char *run = stack_run_dir();
    j->root = fs_path_join(run, ".jail");
    if (stat(j->root, &st) < 0 && (r = fs_mkdir_p(j->root, 0755, err)) < 0) {
      jail_free(j);
      return r;
    }
  }
  /* parents first; what a directory (or link) already shows is not bound
   * again, and the jail's own directories are never made inside one */
  qsort(j->m, j->n, sizeof *j->m, by_path);
  for (size_t i = 0; i < j->n; i++)
    for (size_t k = 0; k < i && !j->m[i].skip; k++)
      if (!j->m[k].skip && j->m[k].kind != JM_FILE && under(j->m[i].path, j->m[k].path))
        j->m[i].skip = true;
  j->kvm = host->accel == VM_ACCEL_KVM;
  if (host->cgroup[0]) {
    j->cgroup = xstrdup(host->cgroup);
    j->memory_max = host->cgroup_memory
                        ? jail_cgroup_memory_max(host, spec->mem_mib, spec->tcg_cache_mib)
                        : 0;
    j->pids_max = host->cgroup_pids ? JAIL_CGROUP_PIDS_MAX : 0;
  }
  *out = j;
  return 0;
}

void jail_free(struct jail *j) {
  if (!j)
    return;
  for (size_t i = 0; i < j->n; i++) {
    free(j->m[i].path);
    free(j->m[i].source);
  }
  free(j->m);
  for (size_t i = 0; i < j->n_give; i++)
    free(j->give[i]);
  free(j->give);
  free(j->exec_path);
  free(j->root);
  free(j->cwd);
  free(j->console);
  free(j->cgroup);
  free(j);
}

/* ---- entering it (child, between fork and exec: async-signal-safe) ---- */

/* root + path into buf. */
static bool jpath(char *buf, const char *root, const char *path) {
  buf[0] = '\0';
  return js_cat(buf, PATH_MAX, root) && js_cat(buf, PATH_MAX, path);
}

/* mkdir -p of the directories above p below its first skip bytes (the
 * jail's root): the deepest first, since an earlier entry has mostly made
 * the rest. */
static int mkparents(char *p, size_t skip) {
  char *slash = strrchr(p + skip + 1, '/');
  if (slash == NULL)
    return 0;
  *slash = '\0';
  int r = mkdir(p, 0755);
  if (r < 0 && errno == ENOENT && mkparents(p, skip) == 0)
    r = mkdir(p, 0755);
  int e = errno;
  *slash = '/';
  errno = e;
  return r < 0 && e != EEXIST ? -1 : 0;
}

static int bind_entry(const struct jail_mount *m, const char *target) {
  if (mount(m->source, target, NULL, MS_BIND | MS_REC, NULL) < 0) {
    js_report("cannot bind", m->source, errno);
    return -1;
  }
  struct mount_attr a = {.attr_set = m->attr};
  if (mount_setattr(AT_FDCWD, target, AT_RECURSIVE, &a, sizeof a) == 0)
    return 0;
  if (errno != ENOSYS) {
    js_report("cannot set the mount flags of", m->source, errno);
    return -1;
  }
  /* before Linux 5.12: the top mount only */
  unsigned long f = MS_REMOUNT | MS_BIND;
  f |= m->attr & MOUNT_ATTR_RDONLY ? MS_RDONLY : 0;
  f |= m->attr & MOUNT_ATTR_NOSUID ? MS_NOSUID : 0;
  f |= m->attr & MOUNT_ATTR_NODEV ? MS_NODEV : 0;
  f |= m->attr & MOUNT_ATTR_NOEXEC ? MS_NOEXEC : 0;
  if (mount(NULL, target, NULL, f, NULL) < 0) {
    js_report("cannot set the mount flags of", m->source, errno);
    return -1;
  }
  return 0;
}

/* /dev: a tmpfs with the nodes QEMU opens (the host's /dev/kvm is
 * root's: the jail's is QEMU's own, as Firecracker's jailer makes it). */
static int make_dev(const char *root, uint32_t id, bool kvm) {
  static const struct {
    const char *name;
    unsigned major, minor;
  } nodes[] = {{"/null", 1, 3}, {"/zero", 1, 5}, {"/random", 1, 8}, {"/urandom", 1, 9}};
  char dev[PATH_MAX], p[PATH_MAX];
  if (!jpath(dev, root, "/dev") || mkdir(dev, 0755) < 0 ||
      mount("tmpfs", dev, "tmpfs", MS_NOSUID | MS_NOEXEC, "mode=0755,size=16k,nr_inodes=16") < 0) {
    js_report("cannot make", "/dev", errno);
    return -1;
  }
  for (size_t i = 0; i < sizeof nodes / sizeof nodes[0]; i++) {
    jpath(p, dev, nodes[i].name);
    if (mknod(p, S_IFCHR | 0666, makedev(nodes[i].major, nodes[i].minor)) < 0 ||
        chmod(p, 0666) < 0) {
      js_report("cannot make", p, errno);
      return -1;
    }
  }
  if (kvm) {
    jpath(p, dev, "/kvm");
    if (mknod(p, S_IFCHR | 0600, makedev(10, 232)) < 0 || chown(p, id, id) < 0) {
      js_report("cannot make", p, errno);
      return -1;
    }
  }
  return 0;
}

/* /proc of its own: 9p goes through /proc/self/fd, QEMU reads
 * /proc/self/status.  hidepid: no other process is visible. */
static int make_proc(const char *root) {
  char p[PATH_MAX];
  static const char *const opts[] = {"hidepid=invisible,subset=pid", "hidepid=2", NULL};
  if (!jpath(p, root, "/proc") || mkdir(p, 0555) < 0) {
    js_report("cannot make", "/proc", errno);
    return -1;
  }
  int e = 0;
  for (size_t i = 0; i < sizeof opts / sizeof opts[0]; i++) {
    if (mount("proc", p, "proc", MS_NOSUID | MS_NODEV | MS_NOEXEC, opts[i]) == 0)
      return 0;
    e = errno;
  }
  js_report("cannot mount", "/proc", e);
  return -1;
}

static int enter_mounts(const struct jail *j, uint32_t id) {
  char p[PATH_MAX];
  /* a network namespace with nothing in it: QEMU's taps and sockets come
   * as fds (a socket file still connects), so a broken-into QEMU reaches
   * no host port, no abstract socket, nothing outside */
  if (unshare(CLONE_NEWNS | CLONE_NEWNET | CLONE_NEWIPC) < 0) {
    js_report("cannot make namespaces (stack needs CAP_SYS_ADMIN)", NULL, errno);
    return -1;
  }
  /* nothing done here reaches the host's mounts */
  if (mount(NULL, "/", NULL, MS_REC | MS_SLAVE, NULL) < 0) {
    js_report("cannot make the mounts private", NULL, errno);
    return -1;
  }
  if (mount("tmpfs", j->root, "tmpfs", MS_NOSUID | MS_NODEV | MS_NOEXEC,
            "mode=0755,size=64k,nr_inodes=4096") < 0) {
    js_report("cannot mount a tmpfs on", j->root, errno);
    return -1;
  }
  size_t rl = strlen(j->root);
  for (size_t i = 0; i < j->n; i++) {
    const struct jail_mount *m = &j->m[i];
    if (m->skip)
      continue;
    if (!jpath(p, j->root, m->path) || mkparents(p, rl) < 0 ||
        (m->kind == JM_DIR && mkdir(p, 0755) < 0 && errno != EEXIST)) {
      js_report("cannot make", m->path, errno);
      return -1;
    }
    if (m->kind == JM_LINK) {
      if (symlink(m->source, p) < 0) {
        js_report("cannot make the link", m->path, errno);
        return -1;
      }
      continue;
    }
    if (m->kind == JM_FILE && mknod(p, S_IFREG | 0600, 0) < 0 && errno != EEXIST) {
      js_report("cannot make", m->path, errno);
      return -1;
    }
    if (bind_entry(m, p) < 0)
      return -1;
  }
  bool cwd_seen = false;
  for (size_t i = 0; j->cwd && i < j->n; i++)
    cwd_seen |= !j->m[i].skip && j->m[i].kind != JM_FILE && under(j->cwd, j->m[i].path);
  if (j->cwd && !cwd_seen && jpath(p, j->root, j->cwd) && mkparents(p, rl) == 0)
    mkdir(p, 0755);
  if (make_dev(j->root, id, j->kvm) < 0 || make_proc(j->root) < 0)
    return -1;
  if (chdir(j->root) < 0 || syscall(SYS_pivot_root, ".", ".") < 0 || umount2(".", MNT_DETACH) < 0 ||
      chdir("/") < 0) {
    js_report("cannot change the root to", j->root, errno);
    return -1;
  }
  if (mount(NULL, "/", NULL, MS_REMOUNT | MS_RDONLY | MS_NOSUID | MS_NODEV | MS_NOEXEC, NULL) <
          0 ||
      mount(NULL, "/dev", NULL, MS_REMOUNT | MS_RDONLY | MS_NOSUID | MS_NOEXEC, NULL) < 0) {
    js_report("cannot make the jail read-only", NULL, errno);
    return -1;
  }
  if (j->cwd && chdir(j->cwd) < 0)
    chdir("/");
  return 0;
}

/* Raw system calls: only this thread exists, and glibc's set*id wrappers
 * would look for others. */
static int drop_credentials(uint64_t caps, uint32_t id, int last_cap) {
  for (int c = 0; c <= last_cap; c++)
    if (!(caps & (1ULL << c)) && prctl(PR_CAPBSET_DROP, c, 0, 0, 0) < 0 && errno != EINVAL) {
      js_report("cannot drop a capability from the bounding set", NULL, errno);
      return -1;
    }
  if ((caps && prctl(PR_SET_KEEPCAPS, 1, 0, 0, 0) < 0) || syscall(SYS_setgroups, 0, NULL) < 0 ||
      syscall(SYS_setresgid, id, id, id) < 0 || syscall(SYS_setresuid, id, id, id) < 0) {
    js_report("cannot change to the VM's uid", NULL, errno);
    return -1;
  }
  if (caps) {
    struct __user_cap_header_struct h = {_LINUX_CAPABILITY_VERSION_3, 0};
    struct __user_cap_data_struct d[2] = {{0}};
    d[0].effective = d[0].permitted = d[0].inheritable = (uint32_t)caps;
    d[1].effective = d[1].permitted = d[1].inheritable = (uint32_t)(caps >> 32);
    if (syscall(SYS_capset, &h, d) < 0) {
      js_report("cannot set the VM's capabilities", NULL, errno);
      return -1;
    }
    /* ambient: kept across exec (QEMU has no file capabilities) */
    for (int c = 0; c <= last_cap; c++)
      if ((caps & (1ULL << c)) && prctl(PR_CAP_AMBIENT, PR_CAP_AMBIENT_RAISE, c, 0, 0) < 0) {
        js_report("cannot keep a capability across exec", NULL, errno);
        return -1;
      }
  }
  return 0;
}

static int lock_down(gid_t gid) {
  if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) < 0) {
    js_report("cannot set no_new_privs", NULL, errno);
    return -1;
  }
  int r = jail_seccomp_install(gid);
  if (r < 0) {
    js_report("cannot install the seccomp filter", NULL, -r);
    return -1;
  }
  return 0;
}

int jail_enter(const struct jail *j) {
  if (!j->enabled)
    return lock_down(getgid());
  int pid = (int)syscall(SYS_getpid);
  uint32_t id = j->uid_base + (uint32_t)pid;
  if (j->cgroup && jail_cgroup_enter(j->cgroup, pid, j->memory_max, j->pids_max) < 0)
    return -1;
  for (size_t i = 0; i < j->n_give; i++)
    if (chown(j->give[i], id, id) < 0) {
      js_report("cannot give the VM", j->give[i], errno);
      return -1;
    }
  if (j->console) {
    int fd = open(j->console, O_WRONLY | O_CREAT | O_TRUNC | O_NOFOLLOW | O_CLOEXEC, 0600);
    if (fd < 0 || fchown(fd, id, id) < 0) {
      js_report("cannot make", j->console, errno);
      if (fd >= 0)
        close(fd);
      return -1;
    }
    close(fd);
  }
  if (enter_mounts(j, id) < 0 || drop_credentials(j->caps, id, j->last_cap) < 0)
    return -1;
  return lock_down(id);
}
