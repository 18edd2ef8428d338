/* A minimal PID 1 for the VM tests and the boot benchmark (built static with
 * musl-gcc by the test).  It reports on the serial console and, if there is
 * one, on the control port ("stack.ctl"):
 *
 *   TINYINIT <CLOCK_BOOTTIME ns at main()> <ns when the line is written>
 *
 * then, per the kernel parameter tinyinit=<mode> (the kernel hands unknown
 * parameters to init as environment):
 *   poweroff (default)  sync and reboot (QEMU exits: -no-reboot)
 *   hang                wait forever (the host kills QEMU)
 *   disks               also print "DISK <name> <serial> <ro>" per virtio disk
 *   net                 also print "NET <ifname> <mac>" per network device
 *   memory              write 200 MiB to a tmpfs file, print "WROTE", delete
 *                       it, print "DELETED", then wait forever (the host
 *                       watches the memory come back through the balloon)
 */
#include <dirent.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/reboot.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

static unsigned long long boot_ns(void) {
  struct timespec ts;
  clock_gettime(CLOCK_BOOTTIME, &ts);
  return (unsigned long long)ts.tv_sec * 1000000000ULL + (unsigned long long)ts.tv_nsec;
}

static int read_small(const char *path, char *buf, size_t size) {
  int fd = open(path, O_RDONLY);
  if (fd < 0)
    return -1;
  ssize_t n = read(fd, buf, size - 1);
  close(fd);
  if (n < 0)
    return -1;
  buf[n] = '\0';
  buf[strcspn(buf, "\n")] = '\0';
  return 0;
}

static int open_port(void) {
  DIR *d = opendir("/sys/class/virtio-ports");
  if (!d)
    return -1;
  struct dirent *e;
  int fd = -1;
  while (fd < 0 && (e = readdir(d))) {
    char path[300], name[64];
    snprintf(path, sizeof(path), "/sys/class/virtio-ports/%s/name", e->d_name);
    if (read_small(path, name, sizeof(name)) == 0 && strcmp(name, "stack.ctl") == 0) {
      snprintf(path, sizeof(path), "/dev/%s", e->d_name);
      fd = open(path, O_RDWR);
    }
  }
  closedir(d);
  return fd;
}

static void say(int con, int port, const char *line) {
  if (con >= 0)
    write(con, line, strlen(line));
  if (port >= 0)
    write(port, line, strlen(line));
}

int main(void) {
  unsigned long long t0 = boot_ns();
  mkdir("/dev", 0755);
  mkdir("/sys", 0755);
  mount("devtmpfs", "/dev", "devtmpfs", 0, NULL);
  mount("sysfs", "/sys", "sysfs", 0, NULL);
  int con = open("/dev/console", O_WRONLY);
  int port = open_port();
  const char *mode = getenv("tinyinit");
  if (!mode)
    mode = "poweroff";

  char line[256];
  snprintf(line, sizeof(line), "TINYINIT %llu %llu\n", t0, boot_ns());
  say(con, port, line);
  if (strcmp(mode, "disks") == 0) {
    DIR *d = opendir("/sys/block");
    struct dirent *e;
    while (d && (e = readdir(d))) {
      if (strncmp(e->d_name, "vd", 2) != 0)
        continue;
      char path[300], serial[64] = "", ro[8] = "";
      snprintf(path, sizeof(path), "/sys/block/%s/serial", e->d_name);
      read_small(path, serial, sizeof(serial));
      snprintf(path, sizeof(path), "/sys/block/%s/ro", e->d_name);
      read_small(path, ro, sizeof(ro));
      snprintf(line, sizeof(line), "DISK %s %s %s\n", e->d_name, serial, ro);
      say(con, port, line);
    }
    if (d)
      closedir(d);
  }
  if (strcmp(mode, "net") == 0) {
    DIR *d = opendir("/sys/class/net");
    struct dirent *e;
    while (d && (e = readdir(d))) {
      if (e->d_name[0] == '.' || strcmp(e->d_name, "lo") == 0)
        continue;
      char path[300], mac[64] = "";
      snprintf(path, sizeof(path), "/sys/class/net/%s/address", e->d_name);
      read_small(path, mac, sizeof(mac));
      snprintf(line, sizeof(line), "NET %s %s\n", e->d_name, mac);
      say(con, port, line);
    }
    if (d)
      closedir(d);
  }
  if (strcmp(mode, "memory") == 0) {
    mkdir("/tmp", 01777);
    mount("tmpfs", "/tmp", "tmpfs", 0, "size=90%");
    int fd = open("/tmp/fill", O_WRONLY | O_CREAT | O_TRUNC, 0600);
    static char chunk[1 << 20];
    memset(chunk, 0x5a, sizeof(chunk));
    for (int i = 0; fd >= 0 && i < 200; i++)
      write(fd, chunk, sizeof(chunk));
    if (fd >= 0)
      close(fd);
    say(con, port, "WROTE\n");
    unlink("/tmp/fill");
    say(con, port, "DELETED\n");
    for (;;)
      pause();
  }
  if (strcmp(mode, "hang") == 0)
    for (;;)
      pause();
  sync();
  reboot(RB_AUTOBOOT);
  return 0;
}
