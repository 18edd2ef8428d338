/* The per-container system settings that arrive with CONFIGURE: host name,
 * /etc/hostname, /etc/hosts, /etc/resolv.conf, the clock and the random
 * seed.  A template knows none of these until it is configured: at most the
 * /etc files are mounted (empty of our content) when it was prepared. */
#include <errno.h>
#include <fcntl.h>
#include <linux/random.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "init.h"

static const char *const etc_files[] = {"hostname", "hosts", "resolv.conf"};

static int write_all(int fd, const char *p, size_t len) {
  while (len > 0) {
    ssize_t n = write(fd, p, len);
    if (n < 0 && errno == EINTR)
      continue;
    if (n < 0)
      return -errno;
    p += n;
    len -= (size_t)n;
  }
  return 0;
}

/* Bind-mounts /stack/<name> (in the initramfs) over /newroot/etc/<name>,
 * starting with the image's content, as Docker mounts its own files there:
 * they never dirty the writable disk, and CONFIGURE writes through them
 * after the switch.  A symlink there (e.g. to systemd-resolved's file) is
 * replaced by a file first, so the mount stays inside the container. */
static int bind_etc(const char *name, char *msg, size_t msglen) {
  char src[64], dst[64], buf[4096];
  snprintf(src, sizeof src, "/stack/%s", name);
  snprintf(dst, sizeof dst, "/newroot/etc/%s", name);
  mkdir("/stack", 0755);
  mkdir("/newroot/etc", 0755);
  int out = open(src, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
  if (out < 0)
    goto fail_src;
  int in = open(dst, O_RDONLY | O_CLOEXEC | O_NOFOLLOW | O_NONBLOCK);
  struct stat st;
  if (in >= 0 && fstat(in, &st) == 0 && S_ISREG(st.st_mode)) {
    ssize_t n;
    while ((n = read(in, buf, sizeof buf)) > 0)
      if (write_all(out, buf, (size_t)n) < 0)
        break;
  }
  if (in >= 0)
    close(in);
  close(out);
  int have = lstat(dst, &st) == 0;
  if (!have || !S_ISREG(st.st_mode)) {
    if (have)
      unlink(dst);
    int t = open(dst, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC | O_NOFOLLOW, 0644);
    if (t < 0)
      goto fail_dst;
    close(t);
  }
  if (mount(src, dst, NULL, MS_BIND, NULL) < 0)
    goto fail_dst;
  return 0;
fail_src:;
  int e = errno;
  snprintf(msg, msglen, "write %s: %s", src, strerror(e));
  return -e;
fail_dst:
  e = errno;
  snprintf(msg, msglen, "bind %s over /etc/%s: %s", src, name, strerror(e));
  return -e;
}

int sysconf_bind_etc(char *msg, size_t msglen) {
  for (size_t i = 0; i < sizeof etc_files / sizeof etc_files[0]; i++) {
    int r = bind_etc(etc_files[i], msg, msglen);
    if (r < 0)
      return r;
  }
  return 0;
}

/* Replaces the content of /etc/<name> (a file bind_etc() mounted). */
static int write_etc(const char *name, const char *content, char *msg, size_t msglen) {
  char path[64];
  snprintf(path, sizeof path, "/etc/%s", name);
  int fd = open(path, O_WRONLY | O_TRUNC | O_CLOEXEC | O_NOFOLLOW);
  int r = fd < 0 ? -errno : write_all(fd, content, strlen(content));
  if (fd >= 0)
    close(fd);
  if (r < 0)
    snprintf(msg, msglen, "write %s: %s", path, strerror(-r));
  return r;
}

static void seed_rng(const uint8_t *seed, uint32_t len) {
  if (len == 0 || len > 4096)
    return;
  int fd = open("/dev/urandom", O_WRONLY | O_CLOEXEC);
  if (fd < 0)
    return;
  struct rand_pool_info *info = malloc(sizeof *info + len);
  if (info != NULL) {
    info->entropy_count = (int)len * 8;
    info->buf_size = (int)len;
    memcpy(info->buf, seed, len);
    /* credits entropy too, so getrandom() never blocks in the guest */
    if (ioctl(fd, RNDADDENTROPY, info) < 0)
      (void)!write(fd, seed, len);
    free(info);
  }
  /* Added entropy reaches the output only at the next reseed (up to a
   * minute away): VMs restored from one template would share their random
   * streams until then.  Reseed now. */
  ioctl(fd, RNDRESEEDCRNG);
  close(fd);
}

int sysconf_apply(const struct proto_configure *c, char *msg, size_t msglen) {
  if (c->realtime_sec) {
    struct timespec ts = {.tv_sec = (time_t)c->realtime_sec, .tv_nsec = c->realtime_nsec % 1000000000};
    clock_settime(CLOCK_REALTIME, &ts);
  }
  seed_rng(c->seed, c->seed_len);
  int r;
  if (c->domainname[0] && setdomainname(c->domainname, strlen(c->domainname)) < 0) {
    snprintf(msg, msglen, "setdomainname %s: %s", c->domainname, strerror(errno));
    return -errno;
  }
  if (c->hostname[0]) {
    if (sethostname(c->hostname, strlen(c->hostname)) < 0) {
      snprintf(msg, msglen, "sethostname %s: %s", c->hostname, strerror(errno));
      return -errno;
    }
    char line[300];
    snprintf(line, sizeof line, "%s\n", c->hostname);
    if ((r = write_etc("hostname", line, msg, msglen)) < 0)
      return r;
  }
  if (c->hosts[0] && (r = write_etc("hosts", c->hosts, msg, msglen)) < 0)
    return r;
  if (c->resolv[0] && (r = write_etc("resolv.conf", c->resolv, msg, msglen)) < 0)
    return r;
  return 0;
}

int sysconf_sysctls(const struct proto_configure *c, char *msg, size_t msglen) {
  for (uint32_t i = 0; i < c->n_sysctls; i++) {
    const char *kv = c->sysctls[i];
    const char *eq = strchr(kv, '=');
    size_t klen = eq ? (size_t)(eq - kv) : 0;
    char path[300];
    if (klen == 0 || klen > 200 || strstr(kv, "..") || memchr(kv, '/', klen)) {
      snprintf(msg, msglen, "sysctl %s: want name=value", kv);
      return -EINVAL;
    }
    int n = snprintf(path, sizeof path, "/proc/sys/%.*s", (int)klen, kv);
    for (char *p = path + 10; p < path + n; p++)
      if (*p == '.')
        *p = '/';
    int fd = open(path, O_WRONLY | O_CLOEXEC);
    int r = fd < 0 ? -errno : write_all(fd, eq + 1, strlen(eq + 1));
    if (fd >= 0)
      close(fd);
    if (r < 0) {
      snprintf(msg, msglen, "sysctl %.*s: %s", (int)klen, kv,
               r == -ENOENT ? "no such setting in the guest kernel" : strerror(-r));
      return r;
    }
  }
  return 0;
}

int sysconf_files(const struct proto_configure *c, char *msg, size_t msglen) {
  for (uint32_t i = 0; i < c->n_files; i++) {
    const struct proto_file *f = &c->files[i];
    if (f->path[0] != '/' || strstr(f->path, "..")) {
      snprintf(msg, msglen, "file %s: not an absolute path", f->path);
      return -EINVAL;
    }
    int r = init_mkdir_parent(f->path);
    if (r < 0) {
      snprintf(msg, msglen, "mkdir the directory of %s: %s", f->path, strerror(-r));
      return r;
    }
    int fd = open(f->path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC | O_NOFOLLOW, 0600);
    r = fd < 0 ? -errno : write_all(fd, (const char *)f->content, f->len);
    if (r == 0 && (fchown(fd, (uid_t)f->uid, (gid_t)f->gid) < 0 || fchmod(fd, f->mode & 07777) < 0))
      r = -errno;
    if (fd >= 0)
      close(fd);
    if (r < 0) {
      snprintf(msg, msglen, "write %s: %s", f->path, strerror(-r));
      return r;
    }
  }
  return 0;
}
