/* The guest init (PID 1 of every VM): shared state and the functions the
 * files of guest/init/ offer each other.  Static musl, no libraries. */
#ifndef STACK_GUEST_INIT_H
#define STACK_GUEST_INIT_H

#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "../proto.h"

#define INIT_MAX_SESSIONS 64
/* Every process's open-file limit (soft and hard) unless the container
 * sets its own: Docker's default (the kernel's fs.nr_open), not the 1024
 * a Linux PID 1 starts with, which databases warn about.  A service's
 * `ulimits: nofile` or `--ulimit nofile=` replaces it. */
#define INIT_NOFILE 1048576
/* Bytes of stdin kept for a process that does not read it: beyond this the
 * host's frames are dropped (the host is told through a LOG frame). */
#define INIT_STDIN_MAX (1u << 20)

struct session {
  int used;
  uint16_t id;
  pid_t pid;
  int exited, status; /* waitpid() status once exited */
  int tty;
  int in_fd;  /* write end of the process's stdin, or the pty master; -1 */
  int out_fd; /* read end of its stdout, or the pty master; -1 when done */
  int err_fd; /* read end of its stderr; -1 */
  uint8_t *inbuf; /* stdin not yet written */
  size_t inlen;
  int in_eof; /* close in_fd once inbuf is empty */
};

struct init {
  int port;   /* the control port, opened once, blocking */
  int ep;     /* epoll */
  int sigfd;  /* signalfd: SIGCHLD */
  int timerfd; /* power-off deadline after the main process exited */
  int retryfd; /* re-watches the port after the host hung up */
  int configured;
  int prepared; /* PREPARE done: the root is the container's (a template) */
  long long unhosted_since; /* monotonic ms when the host hung up before CONFIGURE, or 0 */
  int host_bound; /* PROTO_CONFIGURE_HOST_BOUND: power off when the host goes */
  int main_done;
  int main_started; /* START of session 0 succeeded */
  pid_t main_pid;
  int main_status; /* its waitpid() status, once main_done */
  uint8_t *rbuf; /* partial frames from the host */
  size_t rlen, rcap;
  struct session sessions[INIT_MAX_SESSIONS];
};

/* log.c: messages go to the console (kernel log) and, once the port is
 * open, to the host as LOG frames. */
void init_log(struct init *in, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* port.c */
/* Finds and opens the virtio-serial port named PROTO_PORT_NAME; -errno. */
int port_open(void);
/* Writes a whole encoded buffer to the port; a lost host is fatal to
 * nothing: the error is returned. */
int port_write(struct init *in, const void *buf, size_t len);
/* Encodes and sends one frame built by enc (which returns 0 or -1). */
int port_send_data(struct init *in, uint16_t type, uint16_t session, const void *p, size_t n);
int port_send_status(struct init *in, uint16_t type, uint16_t session, int32_t code,
                     const char *msg);
int port_send_exit(struct init *in, uint16_t session, const struct proto_exit *e);

/* mounts.c */
/* The early mounts of the initramfs: /proc, /sys, /dev, /dev/pts, ... */
int mounts_early(void);
/* Mounts the image disk read-only and the data disk ("" = a tmpfs), and
 * overlays them on /newroot. */
int mounts_overlay(const char *root_dev, const char *data_dev, char *msg, size_t msglen);
/* Makes /newroot the root, carrying /dev, /proc and /sys over. */
int mounts_switch(char *msg, size_t msglen);
/* mkdir -p; 0 or -errno. */
int init_mkdir_p(const char *path, mode_t mode);
/* Makes the directory path is in (0755, with its parents). */
int init_mkdir_parent(const char *path);
/* Extra mounts asked by the host (volumes), inside the new root. */
int mounts_extra(const struct proto_configure *c, char *msg, size_t msglen);

/* copyup.c: copies what directory src holds (with owners, modes, times)
 * into dst, and src's own owner and mode onto dst; nothing when src is no
 * directory.  The message says what failed. */
int copyup(const char *src, const char *dst, char *msg, size_t msglen);
/* Whether dir has no entry (1), or cannot be read or has one (0). */
int copyup_is_empty(const char *dir);

/* memory.c: with a template's shared RAM (PROTO_CMDLINE_SHARED_RAM on the
 * kernel command line), turns free page reporting off.  Once, at boot,
 * after the early mounts. */
void memory_setup(void);

/* sysconf.c: hostname, /etc files, clock, random seed.
 * sysconf_bind_etc(), between mounts_overlay() and mounts_switch(), mounts
 * files of the initramfs over /newroot/etc/{hostname,hosts,resolv.conf}
 * (holding the image's content), as Docker does, so they never dirty the
 * writable disk; sysconf_apply(), after the switch, writes CONFIGURE's
 * content through them. */
int sysconf_bind_etc(char *msg, size_t msglen);
int sysconf_apply(const struct proto_configure *c, char *msg, size_t msglen);
/* Writes each "name=value" of CONFIGURE to /proc/sys (the kernel is the
 * container's own: any setting may be changed). */
int sysconf_sysctls(const struct proto_configure *c, char *msg, size_t msglen);
/* Writes CONFIGURE's files (secrets, configs), with their modes and owners,
 * making their directories. */
int sysconf_files(const struct proto_configure *c, char *msg, size_t msglen);

/* net.c: interfaces, addresses and routes over rtnetlink. */
int net_configure(const struct proto_configure *c, char *msg, size_t msglen);
/* Brings lo up: the same in every container, so done before HELLO (a
 * template has it already). */
int net_loopback_up(void);

/* user.c: resolves "name", "uid", "uid:gid", "name:group" against the
 * root's /etc/passwd and /etc/group. */
struct user_ids {
  uid_t uid;
  gid_t gid;
  gid_t groups[64];
  int ngroups;
  char home[256];
};
int user_resolve(const char *spec, struct user_ids *out, char *msg, size_t msglen);
/* uid's name in the root's /etc/passwd; -ENOENT if it has none. */
int user_name(uid_t uid, char *name, size_t len);

/* procs.c: answers TOP (request id) with PROCS: the container's processes
 * from /proc, without this init and kernel threads. */
void procs_send(struct init *in, uint16_t id);

/* spawn.c: starts a session's process (fork + exec) with its stdio wired;
 * returns 0 or -errno with msg set (the host gets an EXIT of kind FAILED). */
int spawn_session(struct init *in, struct session *s, const struct proto_start *st, char *msg,
                  size_t msglen);

/* session.c */
struct session *session_find(struct init *in, uint16_t id);
struct session *session_new(struct init *in, uint16_t id);
/* Reads what the process wrote on one of its streams and forwards it. */
void session_pump(struct init *in, struct session *s, int fd);
/* Queues (and writes what it can of) stdin for the process. */
void session_stdin(struct init *in, struct session *s, const uint8_t *p, size_t n);
/* Writes queued stdin when the pipe can take more. */
void session_flush_stdin(struct init *in, struct session *s);
/* Called when the process exited: drains its output, reports the exit. */
void session_finish(struct init *in, struct session *s);
/* Registers/unregisters an fd of a session with epoll. */
void session_watch(struct init *in, struct session *s, int fd, uint32_t events);

/* epoll data: which session and which fd. */
#define EV_PORT 0xffff0001u
#define EV_SIGNAL 0xffff0002u
#define EV_TIMER 0xffff0003u
#define EV_RETRY 0xffff0004u
#define EV_SESSION(idx, fd) (((uint64_t)(uint32_t)(fd) << 32) | (uint64_t)(idx))

/* main.c */
/* Syncs and powers the VM off; never returns. */
void init_poweroff(void) __attribute__((noreturn));

#endif
