/* `stack top` without relying on the image: the container's processes as
 * the guest's /proc shows them (what `docker top` reads on its host), sent
 * to the host in one PROCS frame.  Bounded: at most PROTO_MAX_PROCS
 * processes and whatever fits in a frame, command lines cut at
 * PROTO_PROC_CMD_MAX bytes; `total` says how many there were. */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "init.h"

#define PF_KTHREAD 0x00200000u /* <linux/sched.h>: a kernel thread */

/* Reads up to len - 1 bytes of a small /proc file; the byte count or -1. */
static ssize_t read_proc(const char *path, char *buf, size_t len) {
  int fd = open(path, O_RDONLY | O_CLOEXEC);
  if (fd < 0)
    return -1;
  size_t got = 0;
  while (got + 1 < len) {
    ssize_t n = read(fd, buf + got, len - 1 - got);
    if (n < 0 && errno == EINTR)
      continue;
    if (n <= 0)
      break;
    got += (size_t)n;
  }
  close(fd);
  buf[got] = '\0';
  return (ssize_t)got;
}

/* The uids' names, looked up once per listing (the processes point to
 * them: never reused). */
#define NAME_CACHE 64
struct name_cache {
  int n;
  uid_t uid[NAME_CACHE];
  char name[NAME_CACHE][PROTO_PROC_USER_MAX + 1];
};

static const char *name_of(struct name_cache *nc, uid_t uid) {
  for (int i = 0; i < nc->n; i++)
    if (nc->uid[i] == uid)
      return nc->name[i];
  if (nc->n == NAME_CACHE)
    return ""; /* more users than that: the others show as numbers */
  int i = nc->n++;
  nc->uid[i] = uid;
  char name[256];
  if (user_name(uid, name, sizeof name) < 0 || strlen(name) > PROTO_PROC_USER_MAX)
    name[0] = '\0'; /* shown as the number */
  snprintf(nc->name[i], sizeof nc->name[i], "%s", name);
  return nc->name[i];
}

/* One process; 1 when listed, 0 when it is gone, a kernel thread or this
 * init.  cmd (PROTO_PROC_CMD_MAX + 1 bytes) receives the command line. */
static int read_one(pid_t pid, long hz, uint64_t now_ms, struct proto_proc *p, char *cmd,
                    uid_t *uid) {
  char path[64], stat[1024];
  snprintf(path, sizeof path, "/proc/%d/stat", (int)pid);
  if (read_proc(path, stat, sizeof stat) <= 0)
    return 0;
  /* "pid (comm) state ppid pgrp session tty_nr tpgid flags minflt cminflt
   * majflt cmajflt utime stime cutime cstime priority nice threads
   * itrealvalue starttime ...": comm may hold anything, ')' too */
  char *open_paren = strchr(stat, '('), *close_paren = strrchr(stat, ')');
  if (open_paren == NULL || close_paren == NULL || close_paren < open_paren)
    return 0;
  char comm[64];
  size_t clen = (size_t)(close_paren - open_paren - 1);
  if (clen >= sizeof comm)
    clen = sizeof comm - 1;
  memcpy(comm, open_paren + 1, clen);
  comm[clen] = '\0';
  char state = 0;
  int ppid = 0, tty = 0;
  unsigned flags = 0;
  unsigned long long utime = 0, stime = 0, start = 0;
  if (sscanf(close_paren + 1,
             " %c %d %*d %*d %d %*d %u %*u %*u %*u %*u %llu %llu %*d %*d %*d %*d %*d %*d %llu",
             &state, &ppid, &tty, &flags, &utime, &stime, &start) != 7)
    return 0;
  if (flags & PF_KTHREAD)
    return 0;
  char status[4096];
  snprintf(path, sizeof path, "/proc/%d/status", (int)pid);
  const char *u = read_proc(path, status, sizeof status) > 0 ? strstr(status, "\nUid:") : NULL;
  unsigned long ruid = 0, euid = 0;
  if (u == NULL || sscanf(u + 5, "%lu %lu", &ruid, &euid) != 2)
    return 0;
  snprintf(path, sizeof path, "/proc/%d/cmdline", (int)pid);
  ssize_t n = read_proc(path, cmd, PROTO_PROC_CMD_MAX + 1);
  if (n < 0)
    n = 0;
  for (ssize_t i = 0; i < n; i++)
    if (cmd[i] == '\0')
      cmd[i] = ' ';
  while (n > 0 && cmd[n - 1] == ' ')
    cmd[--n] = '\0';
  if (n == 0) /* a zombie, or a process that cleared its arguments */
    snprintf(cmd, PROTO_PROC_CMD_MAX + 1, "[%s]%s", comm, state == 'Z' ? " <defunct>" : "");
  uint64_t started_ms = start * 1000 / (uint64_t)hz;
  *p = (struct proto_proc){
      .pid = (uint32_t)pid,
      .ppid = (uint32_t)ppid,
      .uid = (uint32_t)euid,
      .tty = (uint32_t)tty,
      .age_ms = now_ms > started_ms ? now_ms - started_ms : 0,
      .cpu_ms = (utime + stime) * 1000 / (uint64_t)hz,
  };
  *uid = (uid_t)euid;
  return 1;
}

void procs_send(struct init *in, uint16_t id) {
  struct proto_procs ps = {0};
  struct name_cache *names = calloc(1, sizeof *names);
  ps.procs = calloc(PROTO_MAX_PROCS, sizeof *ps.procs);
  char *cmd = malloc(PROTO_PROC_CMD_MAX + 1);
  DIR *d = opendir("/proc");
  long hz = sysconf(_SC_CLK_TCK);
  struct timespec ts;
  clock_gettime(CLOCK_BOOTTIME, &ts); /* what starttime counts from */
  uint64_t now_ms = (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
  size_t size = 8;
  struct dirent *de;
  while (ps.procs && cmd && names && d && hz > 0 && (de = readdir(d)) != NULL) {
    char *end;
    long pid = strtol(de->d_name, &end, 10);
    uid_t uid;
    struct proto_proc p;
    if (*end || pid <= 1 || !read_one((pid_t)pid, hz, now_ms, &p, cmd, &uid))
      continue;
    ps.total++;
    p.user = name_of(names, uid);
    p.cmd = cmd;
    if (ps.n == PROTO_MAX_PROCS || size + proto_proc_size(&p) > PROTO_MAX_PAYLOAD)
      continue; /* counted, not listed */
    char *copy = strdup(cmd);
    if (copy == NULL)
      continue;
    p.cmd = copy;
    size += proto_proc_size(&p);
    ps.procs[ps.n++] = p;
  }
  if (d)
    closedir(d);
  struct proto_wr w = {0};
  if (ps.procs == NULL)
    ps.n = 0;
  if (proto_enc_procs(&w, id, &ps) == 0)
    port_write(in, w.buf, w.len);
  else
    init_log(in, "cannot encode the process list");
  proto_wr_free(&w);
  for (uint32_t i = 0; i < ps.n; i++)
    free((char *)ps.procs[i].cmd);
  free(ps.procs);
  free(cmd);
  free(names);
}
