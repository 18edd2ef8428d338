#include "runtime/vm/jail_cgroup.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <limits.h>
#include <linux/magic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/vfs.h>
#include <unistd.h>

#include "runtime/util/cleanup.h"
#include "runtime/util/fsutil.h"
#include "runtime/util/xalloc.h"
#include "runtime/vm/jail_str.h"
#include "runtime/vm/vm.h"

#define CGROUP_ROOT "/sys/fs/cgroup"

/* Whether the space-separated list (a cgroup.controllers or
 * cgroup.subtree_control file) names word. */
static bool lists(const char *list, const char *word) {
  size_t n = strlen(word);
  for (const char *p = list; p && (p = strstr(p, word)) != NULL; p += n)
    if ((p == list || p[-1] == ' ') && (p[n] == '\0' || p[n] == ' ' || p[n] == '\n'))
      return true;
  return false;
}

static char *read_small(const char *dir, const char *file) {
  _cleanup_free_ char *path = fs_path_join(dir, file);
  char *text = NULL;
  if (fs_read_file(path, 4096, &text, NULL, NULL) < 0)
    return NULL;
  return text;
}

/* Enables controller for dir's children, first in dir's parent when dir
 * itself does not have it. */
static bool enable(const char *dir, const char *controller) {
  _cleanup_free_ char *have = read_small(dir, "cgroup.controllers");
  _cleanup_free_ char *plus = xasprintf("+%s", controller);
  if (!lists(have, controller)) {
    _cleanup_free_ char *parent = xstrdup(dir);
    char *slash = strrchr(parent, '/');
    if (slash == NULL || slash == parent)
      return false;
    *slash = '\0';
    _cleanup_free_ char *ctl = fs_path_join(parent, "cgroup.subtree_control");
    js_write_file(ctl, plus);
  }
  _cleanup_free_ char *sub = read_small(dir, "cgroup.subtree_control");
  if (lists(sub, controller))
    return true;
  _cleanup_free_ char *ctl = fs_path_join(dir, "cgroup.subtree_control");
  js_write_file(ctl, plus);
  free(sub);
  sub = read_small(dir, "cgroup.subtree_control");
  return lists(sub, controller);
}

/* Where the per-VM cgroups go, or NULL (*note says why). */
static char *cgroup_dir(char *note, size_t cap) {
  const char *env = getenv("STACK_CGROUP");
  if (env && (!*env || strcmp(env, "off") == 0 || strcmp(env, "0") == 0)) {
    snprintf(note, cap, "off ($STACK_CGROUP)");
    return NULL;
  }
  if (env)
    return xstrdup(env);
  struct statfs s;
  if (statfs(CGROUP_ROOT, &s) < 0 || s.f_type != CGROUP2_SUPER_MAGIC) {
    snprintf(note, cap,
             "none: cgroup v2 is not mounted on " CGROUP_ROOT
             " (this host uses cgroup v1), so VMs run without per-VM memory and pids limits");
    return NULL;
  }
  return xstrdup(CGROUP_ROOT "/stack");
}

void jail_cgroup_probe(struct vm_host *host) {
  host->cgroup[0] = '\0';
  host->cgroup_memory = host->cgroup_pids = false;
  host->cgroup_note[0] = '\0';
  if (!host->jail) {
    snprintf(host->cgroup_note, sizeof host->cgroup_note,
             "none: stack does not run as root");
    return;
  }
  _cleanup_free_ char *dir = cgroup_dir(host->cgroup_note, sizeof host->cgroup_note);
  if (dir == NULL)
    return;
  if (strlen(dir) >= sizeof host->cgroup - 24) {
    snprintf(host->cgroup_note, sizeof host->cgroup_note, "none: %.60s... is too long", dir);
    return;
  }
  struct statfs s;
  if ((mkdir(dir, 0755) < 0 && errno != EEXIST) || statfs(dir, &s) < 0 ||
      s.f_type != CGROUP2_SUPER_MAGIC) {
    snprintf(host->cgroup_note, sizeof host->cgroup_note,
             "none: cannot make %.100s a cgroup v2 directory: %s", dir, strerror(errno));
    return;
  }
  snprintf(host->cgroup, sizeof host->cgroup, "%s", dir);
  host->cgroup_memory = enable(dir, "memory");
  host->cgroup_pids = enable(dir, "pids");
  if (!host->cgroup_memory || !host->cgroup_pids)
    snprintf(host->cgroup_note, sizeof host->cgroup_note,
             "the %s controller%s not available in %.100s: no %s limit", 
             !host->cgroup_memory && !host->cgroup_pids ? "memory and pids"
             : !host->cgroup_memory                     ? "memory"
                                                        : "pids",
             !host->cgroup_memory && !host->cgroup_pids ? "s are" : " is", dir,
             !host->cgroup_memory && !host->cgroup_pids ? "memory or pids"
             : !host->cgroup_memory                     ? "memory"
                                                        : "pids");
}

uint64_t jail_cgroup_memory_max(const struct vm_host *host, uint64_t mem_mib,
                                unsigned tcg_cache_mib) {
  uint64_t ram = (mem_mib ? mem_mib : VM_DEFAULT_MEM_MIB) << 20;
  /* the tb-size the command line gives (qemu.c): QEMU allocates no more */
  uint64_t cache = (uint64_t)vm_tcg_cache_mib(host, tcg_cache_mib) << 20;
  return ram + cache + ((uint64_t)JAIL_QEMU_OVERHEAD_MIB << 20);
}

/* <dir>/vm-<pid>[/file] into buf (PATH_MAX). */
static bool vm_path(char *buf, const char *dir, int pid, const char *file) {
  char num[21];
  buf[0] = '\0';
  bool ok = js_cat(buf, PATH_MAX, dir) && js_cat(buf, PATH_MAX, "/vm-") &&
            js_cat(buf, PATH_MAX, js_u64(num, (uint64_t)pid));
  if (ok && file)
    ok = js_cat(buf, PATH_MAX, "/") && js_cat(buf, PATH_MAX, file);
  return ok;
}

int jail_cgroup_enter(const char *dir, int pid, uint64_t memory_max, uint64_t pids_max) {
  char path[PATH_MAX], num[21];
  if (!vm_path(path, dir, pid, NULL)) {
    js_report("cgroup path too long", dir, ENAMETOOLONG);
    return -1;
  }
  if (mkdir(path, 0755) < 0 && errno != EEXIST) {
    js_report("cannot create the VM's cgroup", path, errno);
    return -1;
  }
  static const char *const files[] = {"memory.max", "pids.max", "cgroup.procs"};
  uint64_t values[] = {memory_max, pids_max, 0};
  for (int i = 0; i < 3; i++) {
    if (i < 2 && values[i] == 0)
      continue;
    vm_path(path, dir, pid, files[i]);
    int r = js_write_file(path, js_u64(num, values[i]));
    if (r < 0) {
      js_report("cannot write", path, -r);
      return -1;
    }
  }
  return 0;
}

void jail_cgroup_remove(const char *dir, int pid) {
  char path[PATH_MAX];
  if (dir && *dir && pid > 0 && vm_path(path, dir, pid, NULL))
    rmdir(path);
}

void jail_cgroup_release(int pid) {
  char note[200];
  _cleanup_free_ char *dir = geteuid() == 0 ? cgroup_dir(note, sizeof note) : NULL;
  jail_cgroup_remove(dir, pid);
}

void jail_cgroup_gc(void) {
  char note[200];
  _cleanup_free_ char *dir = geteuid() == 0 ? cgroup_dir(note, sizeof note) : NULL;
  DIR *d = dir ? opendir(dir) : NULL;
  if (d == NULL)
    return;
  struct dirent *de;
  while ((de = readdir(d)) != NULL) {
    if (strncmp(de->d_name, "vm-", 3) != 0)
      continue;
    /* a child of a live process may be setting it up; one with a process
     * in it is busy (EBUSY) and kept anyway */
    long pid = strtol(de->d_name + 3, NULL, 10);
    if (pid > 0 && (kill((pid_t)pid, 0) == 0 || errno != ESRCH))
      continue;
    _cleanup_free_ char *path = fs_path_join(dir, de->d_name);
    rmdir(path);
  }
  closedir(d);
}
