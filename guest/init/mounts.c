/* Mounts: the early file systems of the initramfs, then the container's
 * root (an overlay of the read-only image disk and the writable disk). */
#include <errno.h>
#include <fcntl.h>
#include <linux/fs.h>
#include <stdio.h>
#include <sys/ioctl.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <unistd.h>

#include "init.h"

struct early_mount {
  const char *src, *dst, *type;
  unsigned long flags;
  const char *data;
};

static const struct early_mount early[] = {
    {"proc", "/proc", "proc", MS_NOSUID | MS_NODEV | MS_NOEXEC, NULL},
    {"sysfs", "/sys", "sysfs", MS_NOSUID | MS_NODEV | MS_NOEXEC, NULL},
    {"devtmpfs", "/dev", "devtmpfs", MS_NOSUID, "mode=0755"},
    {"devpts", "/dev/pts", "devpts", MS_NOSUID | MS_NOEXEC, "newinstance,ptmxmode=0666,mode=0620,gid=5"},
    {"shm", "/dev/shm", "tmpfs", MS_NOSUID | MS_NODEV, "mode=1777"},
    {"mqueue", "/dev/mqueue", "mqueue", MS_NOSUID | MS_NODEV | MS_NOEXEC, NULL},
    {"cgroup2", "/sys/fs/cgroup", "cgroup2", MS_NOSUID | MS_NODEV | MS_NOEXEC, NULL},
};

int mounts_early(void) {
  int r = 0;
  for (size_t i = 0; i < sizeof early / sizeof early[0]; i++) {
    const struct early_mount *m = &early[i];
    mkdir(m->dst, 0755);
    if (mount(m->src, m->dst, m->type, m->flags, m->data) < 0 && errno != EBUSY) {
      fprintf(stderr, "stack-init: mount %s: %s\n", m->dst, strerror(errno));
      r = -errno;
    }
  }
  /* the container sees /dev/ptmx of its own devpts instance */
  unlink("/dev/ptmx");
  if (symlink("pts/ptmx", "/dev/ptmx") < 0)
    r = -errno;
  symlink("/proc/self/fd", "/dev/fd");
  symlink("/proc/self/fd/0", "/dev/stdin");
  symlink("/proc/self/fd/1", "/dev/stdout");
  symlink("/proc/self/fd/2", "/dev/stderr");
  return r;
}

static int fail(char *msg, size_t len, const char *what, const char *path) {
  int e = errno;
  snprintf(msg, len, "%s %s: %s", what, path, strerror(e));
  return -e;
}

/* Makes dir under the new root if missing (the image may lack it: the
 * overlay's upper layer takes it). */
static void ensure_dir(const char *root, const char *dir) {
  char p[256];
  snprintf(p, sizeof p, "%s%s", root, dir);
  mkdir(p, 0755);
}

/* Drops what the kernel cached of dev: a VM restored from a template read
 * the template's placeholder disks when it probed them (partition scan),
 * and must see the container's own. */
static void drop_block_cache(const char *dev) {
  int fd = open(dev, O_RDONLY | O_CLOEXEC);
  if (fd >= 0) {
    ioctl(fd, BLKFLSBUF, 0);
    close(fd);
  }
}

int mounts_overlay(const char *root_dev, const char *data_dev, char *msg, size_t msglen) {
  if (!root_dev[0]) {
    snprintf(msg, msglen, "no root disk");
    return -EINVAL;
  }
  drop_block_cache(root_dev);
  if (data_dev[0])
    drop_block_cache(data_dev);
  mkdir("/mnt", 0755);
  mkdir("/mnt/ro", 0755);
  mkdir("/mnt/rw", 0755);
  mkdir("/newroot", 0755);
  if (mount(root_dev, "/mnt/ro", "ext4", MS_RDONLY, "noload") < 0)
    return fail(msg, msglen, "mount image disk", root_dev);
  if (data_dev[0]) {
    if (mount(data_dev, "/mnt/rw", "ext4", MS_NOATIME, NULL) < 0)
      return fail(msg, msglen, "mount data disk", data_dev);
  } else if (mount("tmpfs", "/mnt/rw", "tmpfs", 0, "mode=0755") < 0) {
    return fail(msg, msglen, "mount", "tmpfs upper layer");
  }
  mkdir("/mnt/rw/upper", 0755);
  mkdir("/mnt/rw/work", 0755);
  if (mount("overlay", "/newroot", "overlay", 0,
            "lowerdir=/mnt/ro,upperdir=/mnt/rw/upper,workdir=/mnt/rw/work") < 0)
    return fail(msg, msglen, "mount", "overlay root");
  return 0;
}

int mounts_switch(char *msg, size_t msglen) {
  /* /run and /tmp stay the image's own directories, as with Docker (the
   * initramfs never needs them); the kernel file systems move over with
   * their submounts. */
  static const char *const moved[] = {"/dev", "/proc", "/sys"};
  for (size_t i = 0; i < 3; i++) {
    char dst[64];
    ensure_dir("/newroot", moved[i]);
    snprintf(dst, sizeof dst, "/newroot%s", moved[i]);
    if (mount(moved[i], dst, NULL, MS_MOVE, NULL) < 0)
      return fail(msg, msglen, "move mount", moved[i]);
  }
  if (chdir("/newroot") < 0)
    return fail(msg, msglen, "chdir", "/newroot");
  if (mount(".", "/", NULL, MS_MOVE, NULL) < 0)
    return fail(msg, msglen, "move mount", "/newroot");
  if (chroot(".") < 0)
    return fail(msg, msglen, "chroot", "/newroot");
  if (chdir("/") < 0)
    return fail(msg, msglen, "chdir", "/");
  return 0;
}

int init_mkdir_parent(const char *path) {
  char dir[4096];
  if (snprintf(dir, sizeof dir, "%s", path) >= (int)sizeof dir)
    return -ENAMETOOLONG;
  char *slash = strrchr(dir, '/');
  if (slash == NULL || slash == dir)
    return 0;
  *slash = 0;
  return init_mkdir_p(dir, 0755);
}

int init_mkdir_p(const char *path, mode_t mode) {
  char p[4096];
  if (snprintf(p, sizeof p, "%s", path) >= (int)sizeof p)
    return -ENAMETOOLONG;
  for (char *s = p + 1; *s; s++) {
    if (*s == '/') {
      *s = 0;
      if (mkdir(p, mode) < 0 && errno != EEXIST)
        return -errno;
      *s = '/';
    }
  }
  if (mkdir(p, mode) < 0 && errno != EEXIST)
    return -errno;
  return 0;
}

/* fstype "bind": source (a path in the guest: a file or directory of a
 * staging share) bind-mounted on target, made as an empty file or a
 * directory to match; options "ro" makes it read-only. */
static int bind_one(const struct proto_mount *m, char *msg, size_t msglen) {
  struct stat st;
  if (stat(m->source, &st) < 0)
    return fail(msg, msglen, "bind mount source", m->source);
  if (S_ISDIR(st.st_mode)) {
    int r = init_mkdir_p(m->target, 0755);
    if (r < 0) {
      errno = -r;
      return fail(msg, msglen, "mkdir", m->target);
    }
  } else {
    int r = init_mkdir_parent(m->target);
    if (r < 0) {
      errno = -r;
      return fail(msg, msglen, "mkdir the directory of", m->target);
    }
    int fd = open(m->target, O_WRONLY | O_CREAT | O_CLOEXEC | O_NOFOLLOW, 0644);
    if (fd < 0 && errno != EISDIR)
      return fail(msg, msglen, "create mount point", m->target);
    if (fd >= 0)
      close(fd);
  }
  if (mount(m->source, m->target, NULL, MS_BIND, NULL) < 0)
    return fail(msg, msglen, "bind mount", m->target);
  if (strcmp(m->options, "ro") == 0 &&
      mount(NULL, m->target, NULL, MS_REMOUNT | MS_BIND | MS_RDONLY, NULL) < 0)
    return fail(msg, msglen, "remount read-only", m->target);
  return 0;
}

/* fstype "umount": a staging mount goes once its binds are made (they keep
 * what they show), with its directory and, when empty, the parent. */
static void unstage(const char *target) {
  umount2(target, MNT_DETACH);
  rmdir(target);
  char dir[4096];
  snprintf(dir, sizeof dir, "%s", target);
  char *slash = strrchr(dir, '/');
  if (slash && slash != dir) {
    *slash = 0;
    rmdir(dir);
  }
}

/* Splits a mount's options into mount(2) flags (ro, noexec, nosuid, ...)
 * and the data the file system gets (size=, mode=, ...), in data. */
static unsigned long mount_flags(const char *options, char *data, size_t datalen) {
  static const struct {
    const char *name;
    unsigned long set, clear;
  } words[] = {
      {"ro", MS_RDONLY, 0},          {"rw", 0, MS_RDONLY},
      {"noexec", MS_NOEXEC, 0},      {"exec", 0, MS_NOEXEC},
      {"nosuid", MS_NOSUID, 0},      {"suid", 0, MS_NOSUID},
      {"nodev", MS_NODEV, 0},        {"dev", 0, MS_NODEV},
      {"noatime", MS_NOATIME, 0},    {"atime", 0, MS_NOATIME},
      {"nodiratime", MS_NODIRATIME, 0}, {"diratime", 0, MS_NODIRATIME},
      {"relatime", MS_RELATIME, 0},  {"norelatime", 0, MS_RELATIME},
      {"strictatime", MS_STRICTATIME, 0}, {"sync", MS_SYNCHRONOUS, 0},
      {"async", 0, MS_SYNCHRONOUS},  {"dirsync", MS_DIRSYNC, 0},
  };
  unsigned long flags = 0;
  size_t len = 0;
  data[0] = 0;
  char copy[1024];
  snprintf(copy, sizeof copy, "%s", options);
  char *save = NULL;
  for (char *tok = strtok_r(copy, ",", &save); tok; tok = strtok_r(NULL, ",", &save)) {
    size_t i = 0;
    while (i < sizeof words / sizeof words[0] && strcmp(tok, words[i].name) != 0)
      i++;
    if (i < sizeof words / sizeof words[0]) {
      flags = (flags | words[i].set) & ~words[i].clear;
    } else {
      int n = snprintf(data + len, datalen - len, "%s%s", len ? "," : "", tok);
      if (n > 0 && (size_t)n < datalen - len)
        len += (size_t)n;
    }
  }
  return flags;
}

/* fstype "9p+copy": a new volume; while it is empty, it first gets what
 * the image has at the target (copyup.c), through a staging mount. */
static int populate(const struct proto_mount *m, char *msg, size_t msglen) {
  struct stat st;
  if (stat(m->target, &st) < 0 || !S_ISDIR(st.st_mode))
    return 0; /* nothing of the image's there */
  static const char stage[] = "/.stack-copy";
  if (mkdir(stage, 0700) < 0 && errno != EEXIST)
    return fail(msg, msglen, "mkdir", stage);
  if (mount(m->source, stage, "9p", 0, m->options[0] ? m->options : NULL) < 0) {
    int r = fail(msg, msglen, "mount", stage);
    rmdir(stage);
    return r;
  }
  int r = copyup_is_empty(stage) ? copyup(m->target, stage, msg, msglen) : 0;
  umount2(stage, MNT_DETACH);
  rmdir(stage);
  return r;
}

int mounts_extra(const struct proto_configure *c, char *msg, size_t msglen) {
  for (uint32_t i = 0; i < c->n_mounts; i++) {
    const struct proto_mount *m = &c->mounts[i];
    if (m->target[0] != '/' || strstr(m->target, "..")) {
      snprintf(msg, msglen, "mount target %s: not an absolute path", m->target);
      return -EINVAL;
    }
    if (strcmp(m->fstype, "umount") == 0) {
      unstage(m->target);
      continue;
    }
    if (strcmp(m->fstype, "bind") == 0) {
      int r = bind_one(m, msg, msglen);
      if (r < 0)
        return r;
      continue;
    }
    const char *fstype = m->fstype;
    if (strcmp(fstype, "9p+copy") == 0) {
      int r = populate(m, msg, msglen);
      if (r < 0)
        return r;
      fstype = "9p";
    }
    int r = init_mkdir_p(m->target, 0755);
    if (r < 0) {
      errno = -r;
      return fail(msg, msglen, "mkdir", m->target);
    }
    char data[1024];
    unsigned long flags = mount_flags(m->options, data, sizeof data);
    if (mount(m->source, m->target, fstype, flags, data[0] ? data : NULL) < 0)
      return fail(msg, msglen, "mount", m->target);
  }
  return 0;
}
