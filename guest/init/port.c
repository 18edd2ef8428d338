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

int port_open(void) {
  DIR *d = opendir("/sys/class/virtio-ports");
  if (d == NULL)
    return -errno;
  struct dirent *de;
  int fd = -ENOENT;
  while ((de = readdir(d)) != NULL) {
    if (de->d_name[0] == '.')
      continue;
    char path[512], name[128];
    snprintf(path, sizeof path, "/sys/class/virtio-ports/%s/name", de->d_name);
    if (read_small(path, name, sizeof name) < 0 || strcmp(name, PROTO_PORT_NAME) != 0)
      continue;
    snprintf(path, sizeof path, "/dev/%s", de->d_name);
    fd = open(path, O_RDWR | O_CLOEXEC | O_NOCTTY);
    if (fd < 0)
      fd = -errno;
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
