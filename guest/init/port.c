/* The control port: a virtio-serial port found by name in sysfs, opened once
 * for reading and writing. */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "init.h"

static int read_small(const char *path, char *buf, size_t len) {
  int fd = open(path, O_RDONLY | O_CLOEXEC);
  if (fd < 0)
    return -errno;
  ssize_t n = read(fd, buf, len - 1);
  close(fd);
  if (n < 0)
    return -errno;
  buf[n] = 0;
  while (n > 0 && (buf[n - 1] == '\n' || buf[n - 1] == ' '))
    buf[--n] = 0;
  return 0;
}

/* Opens /dev/<dev> if sysfs names it PROTO_PORT_NAME; -ENOENT if not. */
static int try_port(const char *dev) {
  char path[512], name[128];
  snprintf(path, sizeof path, "/sys/class/virtio-ports/%s/name", dev);
  if (read_small(path, name, sizeof name) < 0 || strcmp(name, PROTO_PORT_NAME) != 0)
    return -ENOENT;
  snprintf(path, sizeof path, "/dev/%s", dev);
  int fd = open(path, O_RDWR | O_CLOEXEC | O_NOCTTY);
  return fd < 0 ? -errno : fd;
}

int port_open(void) {
  /* the host's only port is port 1 of the virtio-serial device, whose
   * index follows the other virtio devices: try those names before a
   * directory scan (sysfs is slow under TCG) */
  int fd = -ENOENT;
  for (int i = 0; i < 8 && fd == -ENOENT; i++) {
    char dev[16];
    snprintf(dev, sizeof dev, "vport%dp1", i);
    fd = try_port(dev);
  }
  if (fd != -ENOENT)
    return fd;
  DIR *d = opendir("/sys/class/virtio-ports");
  if (d == NULL)
    return -errno;
  struct dirent *de;
  while ((de = readdir(d)) != NULL) {
    if (de->d_name[0] != '.' && (fd = try_port(de->d_name)) != -ENOENT)
      break;
  }
  closedir(d);
  return fd;
}

int port_write(struct init *in, const void *buf, size_t len) {
  const uint8_t *p = buf;
  while (len > 0) {
    ssize_t n = write(in->port, p, len);
    if (n < 0) {
      if (errno == EINTR)
        continue;
      return -errno;
    }
    p += n;
    len -= (size_t)n;
  }
  return 0;
}

static int send_wr(struct init *in, struct proto_wr *w, int r) {
  if (r == 0)
    r = port_write(in, w->buf, w->len);
  else
    r = -EMSGSIZE;
  proto_wr_free(w);
  return r;
}

int port_send_data(struct init *in, uint16_t type, uint16_t session, const void *p, size_t n) {
  struct proto_wr w = {0};
  return send_wr(in, &w, proto_enc_data(&w, type, session, p, n));
}

int port_send_status(struct init *in, uint16_t type, uint16_t session, int32_t code,
                     const char *msg) {
  struct proto_wr w = {0};
  return send_wr(in, &w, proto_enc_status(&w, type, session, code, msg));
}

int port_send_exit(struct init *in, uint16_t session, const struct proto_exit *e) {
  struct proto_wr w = {0};
  return send_wr(in, &w, proto_enc_exit(&w, session, e));
}
