/* The control protocol between the host (runtime/vm/channel.c) and the guest
 * init (guest/init/), over one virtio-serial port.
 *
 * Plain C with no dependencies: it compiles with static musl in the guest and
 * with glibc on the host, so both sides share one encoder and one
 * bounds-checked decoder.
 *
 * A frame is an 8-byte header, little-endian: u32 payload length, u16 type,
 * u16 session (0 = the main process, others = exec sessions, unused for
 * VM-wide messages), then the payload.  Payloads are a fixed binary encoding:
 * u32/u64 little-endian integers; strings as u32 length, the bytes and a NUL
 * (a string may not contain NUL); string lists as u32 count then strings.
 * Stdio frames carry raw bytes (an empty STDIN frame closes the stdin).
 *
 * The guest speaks first: HELLO with its protocol version.  The host answers
 * with CONFIGURE (nothing container-specific happens in the guest before
 * that, so a VM booted up to HELLO can become a template), then START for
 * the main process and for exec sessions.
 *
 * Decoded strings point into the frame buffer: keep it while they are used.
 */
#ifndef STACK_GUEST_PROTO_H
#define STACK_GUEST_PROTO_H

#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

/* 2: CONFIGURE ends with a u32 of PROTO_CONFIGURE_* flags.
 * 3: an interface carries set_mac (a VM cloned from a template has the
 *    template's MAC addresses until the guest sets its own).
 * 4: PREPARE/PREPARED: a template of an image mounts its root first.
 * 5: CONFIGURE ends with sysctls; PROTO_CONFIGURE_READ_ONLY.
 * 6: CONFIGURE ends with files (secrets, configs).
 * 7: START ends with the capabilities to keep.
 * 8: START ends with the container's process limit (pids_max).
 * 9: mounts of fstype "bind" and "umount" (single-file bind mounts).
 * 10: mounts of fstype "9p+copy" (a new volume gets the image's files).
 * 11: mount options may hold mount(2) flags (noexec, nosuid, ro, ...).
 * 12: PROTO_START_NO_NEW_PRIVS.
 * 13: CONFIGURE ends with the domain name.
 * 14: TOP/PROCS: the guest lists the container's processes from its /proc.
 * 16: ATTACH/ATTACHED: a host that connects to a running guest (a new
 *     supervisor adopting the VM) finds a frame boundary and the state of
 *     the main process (types 20 and 21: 18 and 19 are v15's). */
#define PROTO_VERSION 16
#define PROTO_HDR_SIZE 8
/* A hostile or broken peer must not make the other side allocate without
 * bound: every frame is capped. */
#define PROTO_MAX_PAYLOAD (1u << 20)
/* Stdio chunks are kept well below the cap. */
#define PROTO_CHUNK 32768
#define PROTO_MAX_IFACES 8
#define PROTO_MAX_ADDRS 8
#define PROTO_MAX_ROUTES 32
#define PROTO_MAX_MOUNTS 32
#define PROTO_MAX_RLIMITS 16
#define PROTO_MAX_SYSCTLS 64
#define PROTO_MAX_FILES 64
#define PROTO_MAX_STRV 65536
/* PROCS: at most this many processes, command lines cut to this many
 * bytes, user names to this many; the guest also stops before the frame
 * cap (total then says how many there were). */
#define PROTO_MAX_PROCS 1024
#define PROTO_PROC_CMD_MAX 4096
#define PROTO_PROC_USER_MAX 32
/* Name of the virtio-serial port the guest looks for. */
#define PROTO_PORT_NAME "stack.ctl"
/* On the kernel command line of a VM whose RAM is a VM template's file,
 * which its clones map read-only (runtime/vm/template.h): the init turns
 * the balloon's free page reporting off, since QEMU refuses to discard
 * pages of such a file. */
#define PROTO_CMDLINE_SHARED_RAM "stack.ram=shared"

enum proto_type {
  PROTO_HELLO = 1,      /* g->h: u32 version, u32 caps, str kernel release */
  PROTO_CONFIGURE = 2,  /* h->g: struct proto_configure */
  PROTO_CONFIGURED = 3, /* g->h: i32 error (0 or -errno), str message */
  PROTO_START = 4,      /* h->g: struct proto_start, per session */
  PROTO_STARTED = 5,    /* g->h: u32 pid, per session */
  PROTO_STDIN = 6,      /* h->g: bytes; empty = EOF */
  PROTO_STDOUT = 7,     /* g->h: bytes */
  PROTO_STDERR = 8,     /* g->h: bytes */
  PROTO_SIGNAL = 9,     /* h->g: u32 signal number */
  PROTO_RESIZE = 10,    /* h->g: u32 rows, u32 cols */
  PROTO_EXIT = 11,      /* g->h: struct proto_exit, per session */
  PROTO_SHUTDOWN = 12,  /* h->g: sync and power off */
  PROTO_LOG = 13,       /* g->h: str message (guest-side warnings) */
  PROTO_PREPARE = 14,   /* h->g: str root_dev, str data_dev: mount the root now */
  PROTO_PREPARED = 15,  /* g->h: i32 error (0 or -errno), str message */
  PROTO_TOP = 16,       /* h->g: empty; the session field is a request id */
  PROTO_PROCS = 17,     /* g->h: struct proto_procs, with TOP's request id */
  PROTO_ATTACH = 20,    /* h->g: PROTO_NONCE_SIZE bytes: a new host takes over */
  PROTO_ATTACHED = 21,  /* g->h: struct proto_attached, PROTO_ATTACHED_SIZE bytes */
  PROTO_TYPE_MAX = 21,
};

/* Taking over a running guest (ATTACH/ATTACHED).
 *
 * The host end of the control port may go away at any moment (a supervisor
 * killed with SIGKILL) and another connect later.  Neither side then knows
 * where a frame starts: QEMU drops what the guest wrote to a host that
 * vanished (part of a frame, when the guest's write was split), and the old
 * host may have died in the middle of a frame.  So the new host sends
 * ATTACH with a random nonce; the guest drops what it had of a partial frame
 * when it saw the host go, and answers ATTACHED, which starts with the
 * nonce.  The host skips everything the guest sent before that frame
 * (looking for its header and nonce, PROTO_ATTACHED_MATCH bytes no output
 * of a process can be expected to hold) and parses frames from there on.
 * ATTACHED says what happened meanwhile: whether the guest was configured,
 * whether its main process runs or how it ended, and which exec session ids
 * are still taken (their frames go to a host that no longer knows them). */
#define PROTO_NONCE_SIZE 16
#define PROTO_ATTACHED_SIZE (PROTO_NONCE_SIZE + 6 * 4)
#define PROTO_ATTACHED_MATCH (PROTO_HDR_SIZE + PROTO_NONCE_SIZE)
#define PROTO_ATTACHED_CONFIGURED 0x1u /* CONFIGURE succeeded */
#define PROTO_ATTACHED_STARTED 0x2u    /* the main process was started */
#define PROTO_ATTACHED_EXITED 0x4u     /* ... and has ended: exit says how */

struct proto_attached {
  uint8_t nonce[PROTO_NONCE_SIZE];
  uint32_t state;        /* PROTO_ATTACHED_* */
  uint32_t exit_kind;    /* enum proto_exit_kind, with EXITED */
  int32_t exit_code;     /* the same */
  uint32_t main_pid;     /* in the guest, with STARTED */
  uint32_t last_session; /* the highest exec session id still in use, or 0 */
  uint32_t sessions;     /* how many exec sessions are still in use */
};

/* Capabilities announced in HELLO. */
#define PROTO_CAP_EXEC 0x1u
#define PROTO_CAP_TTY 0x2u
#define PROTO_CAP_NETLINK 0x4u

enum proto_exit_kind {
  PROTO_EXIT_CODE = 0,   /* code = exit status */
  PROTO_EXIT_SIGNAL = 1, /* code = signal number */
  PROTO_EXIT_FAILED = 2, /* could not start: code = errno, message says why */
};

struct proto_exit {
  uint32_t kind;
  int32_t code;
  const char *message;
};

struct proto_iface {
  const char *mac;     /* "52:54:00:..." identifies the device */
  const char *set_mac; /* MAC address to give it, or "" to keep */
  const char *name;    /* name to give it ("eth0"), or "" to keep */
  uint32_t mtu;     /* 0 = leave */
  uint32_t n_addrs;
  const char *addrs[PROTO_MAX_ADDRS]; /* "10.0.0.2/24" or "fd00::2/64" */
};

struct proto_route {
  const char *dst; /* "default" or "10.1.0.0/16" */
  const char *gw;  /* "" for on-link */
  const char *dev; /* interface name, or "" */
};

/* A file system the guest mounts on the container's root, in order.
 * fstype "bind": source is a path in the guest (a file or directory) bound
 * on target, read-only when options is "ro"; fstype "umount": target, a
 * staging mount whose binds are made, goes (lazily) with its directory;
 * fstype "9p+copy": a 9p volume that, while empty, first gets what the
 * image has at target (Docker's copy-up). */
struct proto_mount {
  const char *source, *target, *fstype, *options;
};

/* A file the guest writes once its root is up (secrets, configs). */
struct proto_file {
  const char *path; /* absolute */
  const uint8_t *content;
  uint32_t len;
  uint32_t mode, uid, gid;
};

struct proto_rlimit {
  uint32_t resource;
  uint64_t soft, hard;
};

struct proto_configure {
  const char *hostname;
  const char *hosts;  /* /etc/hosts content; "" = leave the image's */
  const char *resolv; /* /etc/resolv.conf content; "" = leave */
  const char *root_dev; /* read-only image disk, e.g. "/dev/vda" */
  const char *data_dev; /* writable disk (ext4), or "" for a tmpfs upper layer */
  uint64_t realtime_sec;
  uint32_t realtime_nsec;
  const uint8_t *seed;
  uint32_t seed_len;
  uint32_t n_ifaces, n_routes, n_mounts;
  struct proto_iface ifaces[PROTO_MAX_IFACES];
  struct proto_route routes[PROTO_MAX_ROUTES];
  struct proto_mount mounts[PROTO_MAX_MOUNTS];
  uint32_t flags; /* PROTO_CONFIGURE_* */
  uint32_t n_sysctls;
  const char *sysctls[PROTO_MAX_SYSCTLS]; /* "net.core.somaxconn=1024" */
  uint32_t n_files;
  struct proto_file files[PROTO_MAX_FILES];
  const char *domainname; /* the UTS domain name (Compose's domainname); "" = none */
};

/* The VM lives only as long as the host's end of the control port: the
 * guest powers off as soon as the host disconnects.  A standalone `stack
 * run` sets it so that a killed stack leaves no VM behind; the supervisor
 * does not, since its VMs outlive it and are adopted by the next one. */
#define PROTO_CONFIGURE_HOST_BOUND 0x1u
/* The root file system is remounted read-only once configured (Compose's
 * read_only); the mounts on it (/etc files, tmpfs, /dev, ...) stay as they
 * are. */
#define PROTO_CONFIGURE_READ_ONLY 0x2u

#define PROTO_START_TTY 0x1u   /* a pty instead of pipes */
#define PROTO_START_STDIN 0x2u /* keep stdin open (else /dev/null) */
/* no-new-privileges: set-id bits and file capabilities give nothing */
#define PROTO_START_NO_NEW_PRIVS 0x4u

struct proto_start {
  char **argv; /* decoded: malloc'd array (free with free()), strings in the frame */
  char **env;  /* complete environment, "K=V" */
  const char *user;    /* "name", "uid", "uid:gid", "name:group", or "" = root */
  const char *workdir; /* "" = / */
  uint32_t flags;
  uint32_t umask; /* 0xffffffff = leave the default (022) */
  uint32_t rows, cols;
  uint32_t n_rlimits;
  struct proto_rlimit rlimits[PROTO_MAX_RLIMITS];
  /* capabilities the process may have (bit N = capability N, as in
   * <linux/capability.h>); the others leave its bounding set.
   * PROTO_CAPS_ALL keeps every one. */
  uint64_t caps;
  /* at most this many processes and threads in the container's cgroup
   * (every session's processes join it); 0 = no limit */
  uint64_t pids_max;
};

#define PROTO_CAPS_ALL UINT64_MAX

/* A process of the container, as the guest's /proc shows it (the guest
 * init itself and kernel threads are not listed). */
struct proto_proc {
  uint32_t pid, ppid;
  uint32_t uid;    /* effective */
  uint32_t tty;    /* the controlling terminal's device number (0 = none) */
  uint64_t age_ms; /* since the process started */
  uint64_t cpu_ms; /* user + system time */
  const char *user; /* uid's name in the container's /etc/passwd, or "" */
  const char *cmd;  /* the command line, blank-separated; "[comm]" if empty */
};

struct proto_procs {
  uint32_t total; /* processes there are (>= n: the rest did not fit) */
  uint32_t n;
  struct proto_proc *procs; /* decoded: malloc'd (free with free()) */
};

/* ---- frame header ---- */

struct proto_hdr {
  uint32_t len;
  uint16_t type;
  uint16_t session;
};

static inline uint32_t proto_le32(const uint8_t *p) {
  return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}

/* Decodes a header; returns 0, or -1 if the length exceeds the cap or the
 * type is unknown (the stream cannot be trusted any more). */
static inline int proto_hdr_decode(const uint8_t b[PROTO_HDR_SIZE], struct proto_hdr *h) {
  h->len = proto_le32(b);
  h->type = (uint16_t)(b[4] | b[5] << 8);
  h->session = (uint16_t)(b[6] | b[7] << 8);
  if (h->len > PROTO_MAX_PAYLOAD || h->type == 0 || h->type > PROTO_TYPE_MAX)
    return -1;
  return 0;
}

/* ---- writer ---- */

struct proto_wr {
  uint8_t *buf;
  size_t len, cap;
  int bad; /* out of memory or frame too large */
};

static inline void proto_wr_reserve(struct proto_wr *w, size_t n) {
  if (w->bad)
    return;
  if (w->len + n > PROTO_HDR_SIZE + (size_t)PROTO_MAX_PAYLOAD) {
    w->bad = 1;
    return;
  }
  if (w->len + n > w->cap) {
    size_t cap = w->cap ? w->cap : 256;
    while (cap < w->len + n)
      cap *= 2;
    uint8_t *nb = (uint8_t *)realloc(w->buf, cap);
    if (nb == NULL) {
      w->bad = 1;
      return;
    }
    w->buf = nb;
    w->cap = cap;
  }
}

static inline void proto_wr_raw(struct proto_wr *w, const void *p, size_t n) {
  proto_wr_reserve(w, n);
  if (w->bad)
    return;
  if (n)
    memcpy(w->buf + w->len, p, n);
  w->len += n;
}

static inline void proto_wr_u32(struct proto_wr *w, uint32_t v) {
  uint8_t b[4] = {(uint8_t)v, (uint8_t)(v >> 8), (uint8_t)(v >> 16), (uint8_t)(v >> 24)};
  proto_wr_raw(w, b, 4);
}

static inline void proto_wr_u64(struct proto_wr *w, uint64_t v) {
  proto_wr_u32(w, (uint32_t)v);
  proto_wr_u32(w, (uint32_t)(v >> 32));
}

/* Bytes with a length prefix. */
static inline void proto_wr_bytes(struct proto_wr *w, const void *p, size_t n) {
  if (n > PROTO_MAX_PAYLOAD) {
    w->bad = 1;
    return;
  }
  proto_wr_u32(w, (uint32_t)n);
  proto_wr_raw(w, p, n);
}

/* NULL is written as "". */
static inline void proto_wr_str(struct proto_wr *w, const char *s) {
  size_t n = s ? strlen(s) : 0;
  proto_wr_bytes(w, s ? s : "", n);
  proto_wr_raw(w, "", 1);
}

/* A NULL list is written as empty. */
static inline void proto_wr_strv(struct proto_wr *w, char *const *v) {
  uint32_t n = 0;
  while (v && v[n])
    n++;
  proto_wr_u32(w, n);
  for (uint32_t i = 0; i < n; i++)
    proto_wr_str(w, v[i]);
}

/* Starts a frame in w (which may hold earlier frames); returns the offset of
 * its header for proto_wr_end(). */
static inline size_t proto_wr_begin(struct proto_wr *w, uint16_t type, uint16_t session) {
  size_t at = w->len;
  uint8_t h[PROTO_HDR_SIZE] = {0, 0, 0, 0, (uint8_t)type, (uint8_t)(type >> 8), (uint8_t)session,
                               (uint8_t)(session >> 8)};
  proto_wr_raw(w, h, sizeof h);
  return at;
}

/* Fills in the frame's length; returns 0, or -1 if anything failed. */
static inline int proto_wr_end(struct proto_wr *w, size_t at) {
  if (w->bad)
    return -1;
  size_t n = w->len - at - PROTO_HDR_SIZE;
  if (n > PROTO_MAX_PAYLOAD) {
    w->bad = 1;
    return -1;
  }
  w->buf[at] = (uint8_t)n;
  w->buf[at + 1] = (uint8_t)(n >> 8);
  w->buf[at + 2] = (uint8_t)(n >> 16);
  w->buf[at + 3] = (uint8_t)(n >> 24);
  return 0;
}

static inline void proto_wr_free(struct proto_wr *w) {
  free(w->buf);
  w->buf = NULL;
  w->len = w->cap = 0;
  w->bad = 0;
}

/* ---- reader ---- */

struct proto_rd {
  const uint8_t *p;
  size_t len, off;
  int bad; /* set on the first out-of-bounds or malformed field */
};

static inline struct proto_rd proto_rd_init(const void *p, size_t len) {
  struct proto_rd r = {(const uint8_t *)p, len, 0, 0};
  return r;
}

static inline uint32_t proto_rd_u32(struct proto_rd *r) {
  if (r->bad || r->len - r->off < 4) {
    r->bad = 1;
    return 0;
  }
  uint32_t v = proto_le32(r->p + r->off);
  r->off += 4;
  return v;
}

static inline uint64_t proto_rd_u64(struct proto_rd *r) {
  uint64_t lo = proto_rd_u32(r);
  uint64_t hi = proto_rd_u32(r);
  return lo | hi << 32;
}

static inline const uint8_t *proto_rd_bytes(struct proto_rd *r, uint32_t *n) {
  *n = proto_rd_u32(r);
  if (r->bad || *n > r->len - r->off) {
    r->bad = 1;
    *n = 0;
    return NULL;
  }
  const uint8_t *p = r->p + r->off;
  r->off += *n;
  return p;
}

/* Returns "" (never NULL) on error, with r->bad set. */
static inline const char *proto_rd_str(struct proto_rd *r) {
  uint32_t n;
  const uint8_t *p = proto_rd_bytes(r, &n);
  if (r->bad || r->off >= r->len || r->p[r->off] != 0 || memchr(p, 0, n) != NULL) {
    r->bad = 1;
    return "";
  }
  r->off++;
  return (const char *)p;
}

/* Returns a malloc'd NULL-terminated array (strings point into the frame),
 * or NULL with r->bad set. */
static inline char **proto_rd_strv(struct proto_rd *r) {
  uint32_t n = proto_rd_u32(r);
  /* each string takes at least 5 bytes: bounds the allocation by the input */
  if (r->bad || n > PROTO_MAX_STRV || n > (r->len - r->off) / 5) {
    r->bad = 1;
    return NULL;
  }
  char **v = (char **)calloc((size_t)n + 1, sizeof *v);
  if (v == NULL) {
    r->bad = 1;
    return NULL;
  }
  for (uint32_t i = 0; i < n; i++)
    v[i] = (char *)proto_rd_str(r);
  if (r->bad) {
    free(v);
    return NULL;
  }
  return v;
}

/* A message decoded in full: trailing bytes mean a peer we do not
 * understand. */
static inline int proto_rd_done(struct proto_rd *r) { return r->bad || r->off != r->len ? -1 : 0; }

/* ---- messages ---- */

static inline int proto_enc_hello(struct proto_wr *w, uint32_t version, uint32_t caps,
                                  const char *kernel) {
  size_t at = proto_wr_begin(w, PROTO_HELLO, 0);
  proto_wr_u32(w, version);
  proto_wr_u32(w, caps);
  proto_wr_str(w, kernel);
  return proto_wr_end(w, at);
}

static inline int proto_dec_hello(const void *p, size_t n, uint32_t *version, uint32_t *caps,
                                  const char **kernel) {
  struct proto_rd r = proto_rd_init(p, n);
  *version = proto_rd_u32(&r);
  *caps = proto_rd_u32(&r);
  *kernel = proto_rd_str(&r);
  return proto_rd_done(&r);
}

/* PREPARE: the container's root (image disk, data disk) is mounted and
 * made the root before CONFIGURE, so that a template of an image is saved
 * with it in place; CONFIGURE's root_dev and data_dev are then ignored. */
static inline int proto_enc_prepare(struct proto_wr *w, const char *root_dev,
                                    const char *data_dev) {
  size_t at = proto_wr_begin(w, PROTO_PREPARE, 0);
  proto_wr_str(w, root_dev);
  proto_wr_str(w, data_dev);
  return proto_wr_end(w, at);
}

static inline int proto_dec_prepare(const void *p, size_t n, const char **root_dev,
                                    const char **data_dev) {
  struct proto_rd r = proto_rd_init(p, n);
  *root_dev = proto_rd_str(&r);
  *data_dev = proto_rd_str(&r);
  return proto_rd_done(&r);
}

/* Messages made of one u32/i32 and a string (CONFIGURED, PREPARED, LOG). */
static inline int proto_enc_status(struct proto_wr *w, uint16_t type, uint16_t session,
                                   int32_t code, const char *msg) {
  size_t at = proto_wr_begin(w, type, session);
  proto_wr_u32(w, (uint32_t)code);
  proto_wr_str(w, msg);
  return proto_wr_end(w, at);
}

static inline int proto_dec_status(const void *p, size_t n, int32_t *code, const char **msg) {
  struct proto_rd r = proto_rd_init(p, n);
  *code = (int32_t)proto_rd_u32(&r);
  *msg = proto_rd_str(&r);
  return proto_rd_done(&r);
}

/* Messages made of zero, one or two u32 (STARTED, SIGNAL, RESIZE, SHUTDOWN). */
static inline int proto_enc_u32s(struct proto_wr *w, uint16_t type, uint16_t session,
                                 unsigned count, uint32_t a, uint32_t b) {
  size_t at = proto_wr_begin(w, type, session);
  if (count > 0)
    proto_wr_u32(w, a);
  if (count > 1)
    proto_wr_u32(w, b);
  return proto_wr_end(w, at);
}

static inline int proto_dec_u32s(const void *p, size_t n, unsigned count, uint32_t *a,
                                 uint32_t *b) {
  struct proto_rd r = proto_rd_init(p, n);
  if (count > 0)
    *a = proto_rd_u32(&r);
  if (count > 1)
    *b = proto_rd_u32(&r);
  return proto_rd_done(&r);
}

/* Raw stdio bytes (STDIN, STDOUT, STDERR). */
static inline int proto_enc_data(struct proto_wr *w, uint16_t type, uint16_t session,
                                 const void *p, size_t n) {
  size_t at = proto_wr_begin(w, type, session);
  proto_wr_raw(w, p, n);
  return proto_wr_end(w, at);
}

static inline int proto_enc_exit(struct proto_wr *w, uint16_t session,
                                 const struct proto_exit *e) {
  size_t at = proto_wr_begin(w, PROTO_EXIT, session);
  proto_wr_u32(w, e->kind);
  proto_wr_u32(w, (uint32_t)e->code);
  proto_wr_str(w, e->message);
  return proto_wr_end(w, at);
}

static inline int proto_dec_exit(const void *p, size_t n, struct proto_exit *e) {
  struct proto_rd r = proto_rd_init(p, n);
  e->kind = proto_rd_u32(&r);
  e->code = (int32_t)proto_rd_u32(&r);
  e->message = proto_rd_str(&r);
  if (e->kind > PROTO_EXIT_FAILED)
    r.bad = 1;
  return proto_rd_done(&r);
}

static inline int proto_enc_attach(struct proto_wr *w, const uint8_t nonce[PROTO_NONCE_SIZE]) {
  size_t at = proto_wr_begin(w, PROTO_ATTACH, 0);
  proto_wr_raw(w, nonce, PROTO_NONCE_SIZE);
  return proto_wr_end(w, at);
}

static inline int proto_dec_attach(const void *p, size_t n, const uint8_t **nonce) {
  if (n != PROTO_NONCE_SIZE)
    return -1;
  *nonce = (const uint8_t *)p;
  return 0;
}

static inline int proto_enc_attached(struct proto_wr *w, const struct proto_attached *a) {
  size_t at = proto_wr_begin(w, PROTO_ATTACHED, 0);
  proto_wr_raw(w, a->nonce, PROTO_NONCE_SIZE);
  proto_wr_u32(w, a->state);
  proto_wr_u32(w, a->exit_kind);
  proto_wr_u32(w, (uint32_t)a->exit_code);
  proto_wr_u32(w, a->main_pid);
  proto_wr_u32(w, a->last_session);
  proto_wr_u32(w, a->sessions);
  return proto_wr_end(w, at);
}

static inline int proto_dec_attached(const void *p, size_t n, struct proto_attached *a) {
  if (n != PROTO_ATTACHED_SIZE)
    return -1;
  memcpy(a->nonce, p, PROTO_NONCE_SIZE);
  struct proto_rd r = proto_rd_init((const uint8_t *)p + PROTO_NONCE_SIZE, n - PROTO_NONCE_SIZE);
  a->state = proto_rd_u32(&r);
  a->exit_kind = proto_rd_u32(&r);
  a->exit_code = (int32_t)proto_rd_u32(&r);
  a->main_pid = proto_rd_u32(&r);
  a->last_session = proto_rd_u32(&r);
  a->sessions = proto_rd_u32(&r);
  if (a->exit_kind > PROTO_EXIT_FAILED || a->last_session > 0xffff || a->sessions > 0xffff)
    r.bad = 1;
  return proto_rd_done(&r);
}

/* The first PROTO_ATTACHED_MATCH bytes of the ATTACHED frame answering
 * nonce: what a host looks for after it sent ATTACH. */
static inline void proto_attached_match(const uint8_t nonce[PROTO_NONCE_SIZE],
                                        uint8_t out[PROTO_ATTACHED_MATCH]) {
  uint32_t len = PROTO_ATTACHED_SIZE;
  uint8_t h[PROTO_HDR_SIZE] = {(uint8_t)len, (uint8_t)(len >> 8), (uint8_t)(len >> 16),
                               (uint8_t)(len >> 24), (uint8_t)PROTO_ATTACHED,
                               (uint8_t)(PROTO_ATTACHED >> 8), 0, 0};
  memcpy(out, h, PROTO_HDR_SIZE);
  memcpy(out + PROTO_HDR_SIZE, nonce, PROTO_NONCE_SIZE);
}

/* PROCS for request id `session`. */
static inline int proto_enc_procs(struct proto_wr *w, uint16_t session,
                                  const struct proto_procs *ps) {
  if (ps->n > PROTO_MAX_PROCS || ps->total < ps->n) {
    w->bad = 1;
    return -1;
  }
  size_t at = proto_wr_begin(w, PROTO_PROCS, session);
  proto_wr_u32(w, ps->total);
  proto_wr_u32(w, ps->n);
  for (uint32_t i = 0; i < ps->n; i++) {
    const struct proto_proc *p = &ps->procs[i];
    if ((p->user && strlen(p->user) > PROTO_PROC_USER_MAX) ||
        (p->cmd && strlen(p->cmd) > PROTO_PROC_CMD_MAX)) {
      w->bad = 1;
      return -1;
    }
    proto_wr_u32(w, p->pid);
    proto_wr_u32(w, p->ppid);
    proto_wr_u32(w, p->uid);
    proto_wr_u32(w, p->tty);
    proto_wr_u64(w, p->age_ms);
    proto_wr_u64(w, p->cpu_ms);
    proto_wr_str(w, p->user);
    proto_wr_str(w, p->cmd);
  }
  return proto_wr_end(w, at);
}

/* The bytes one process takes in PROCS (for a sender that must stay under
 * PROTO_MAX_PAYLOAD). */
static inline size_t proto_proc_size(const struct proto_proc *p) {
  return 32 + 10 + (p->user ? strlen(p->user) : 0) + (p->cmd ? strlen(p->cmd) : 0);
}

/* On success the caller frees ps->procs (the array only). */
static inline int proto_dec_procs(const void *p, size_t n, struct proto_procs *ps) {
  struct proto_rd r = proto_rd_init(p, n);
  memset(ps, 0, sizeof *ps);
  ps->total = proto_rd_u32(&r);
  ps->n = proto_rd_u32(&r);
  /* each process takes at least 42 bytes: bounds the allocation by the
   * input */
  if (r.bad || ps->n > PROTO_MAX_PROCS || ps->total < ps->n || ps->n > (r.len - r.off) / 42)
    return -1;
  ps->procs = (struct proto_proc *)calloc((size_t)ps->n + 1, sizeof *ps->procs);
  if (ps->procs == NULL)
    return -1;
  for (uint32_t i = 0; i < ps->n && !r.bad; i++) {
    struct proto_proc *q = &ps->procs[i];
    q->pid = proto_rd_u32(&r);
    q->ppid = proto_rd_u32(&r);
    q->uid = proto_rd_u32(&r);
    q->tty = proto_rd_u32(&r);
    q->age_ms = proto_rd_u64(&r);
    q->cpu_ms = proto_rd_u64(&r);
    q->user = proto_rd_str(&r);
    q->cmd = proto_rd_str(&r);
    if (strlen(q->user) > PROTO_PROC_USER_MAX || strlen(q->cmd) > PROTO_PROC_CMD_MAX)
      r.bad = 1;
  }
  if (proto_rd_done(&r) < 0) {
    free(ps->procs);
    ps->procs = NULL;
    ps->n = 0;
    return -1;
  }
  return 0;
}

static inline int proto_enc_configure(struct proto_wr *w, const struct proto_configure *c) {
  if (c->n_ifaces > PROTO_MAX_IFACES || c->n_routes > PROTO_MAX_ROUTES ||
      c->n_mounts > PROTO_MAX_MOUNTS) {
    w->bad = 1;
    return -1;
  }
  size_t at = proto_wr_begin(w, PROTO_CONFIGURE, 0);
  proto_wr_str(w, c->hostname);
  proto_wr_str(w, c->hosts);
  proto_wr_str(w, c->resolv);
  proto_wr_str(w, c->root_dev);
  proto_wr_str(w, c->data_dev);
  proto_wr_u64(w, c->realtime_sec);
  proto_wr_u32(w, c->realtime_nsec);
  proto_wr_bytes(w, c->seed, c->seed_len);
  proto_wr_u32(w, c->n_ifaces);
  for (uint32_t i = 0; i < c->n_ifaces; i++) {
    const struct proto_iface *f = &c->ifaces[i];
    if (f->n_addrs > PROTO_MAX_ADDRS) {
      w->bad = 1;
      return -1;
    }
    proto_wr_str(w, f->mac);
    proto_wr_str(w, f->set_mac ? f->set_mac : "");
    proto_wr_str(w, f->name);
    proto_wr_u32(w, f->mtu);
    proto_wr_u32(w, f->n_addrs);
    for (uint32_t j = 0; j < f->n_addrs; j++)
      proto_wr_str(w, f->addrs[j]);
  }
  proto_wr_u32(w, c->n_routes);
  for (uint32_t i = 0; i < c->n_routes; i++) {
    proto_wr_str(w, c->routes[i].dst);
    proto_wr_str(w, c->routes[i].gw);
    proto_wr_str(w, c->routes[i].dev);
  }
  proto_wr_u32(w, c->n_mounts);
  for (uint32_t i = 0; i < c->n_mounts; i++) {
    proto_wr_str(w, c->mounts[i].source);
    proto_wr_str(w, c->mounts[i].target);
    proto_wr_str(w, c->mounts[i].fstype);
    proto_wr_str(w, c->mounts[i].options);
  }
  proto_wr_u32(w, c->flags);
  if (c->n_sysctls > PROTO_MAX_SYSCTLS) {
    w->bad = 1;
    return -1;
  }
  proto_wr_u32(w, c->n_sysctls);
  for (uint32_t i = 0; i < c->n_sysctls; i++)
    proto_wr_str(w, c->sysctls[i]);
  if (c->n_files > PROTO_MAX_FILES) {
    w->bad = 1;
    return -1;
  }
  proto_wr_u32(w, c->n_files);
  for (uint32_t i = 0; i < c->n_files; i++) {
    const struct proto_file *f = &c->files[i];
    proto_wr_str(w, f->path);
    proto_wr_bytes(w, f->content, f->len);
    proto_wr_u32(w, f->mode);
    proto_wr_u32(w, f->uid);
    proto_wr_u32(w, f->gid);
  }
  proto_wr_str(w, c->domainname ? c->domainname : "");
  return proto_wr_end(w, at);
}

static inline int proto_dec_configure(const void *p, size_t n, struct proto_configure *c) {
  struct proto_rd r = proto_rd_init(p, n);
  memset(c, 0, sizeof *c);
  c->hostname = proto_rd_str(&r);
  c->hosts = proto_rd_str(&r);
  c->resolv = proto_rd_str(&r);
  c->root_dev = proto_rd_str(&r);
  c->data_dev = proto_rd_str(&r);
  c->realtime_sec = proto_rd_u64(&r);
  c->realtime_nsec = proto_rd_u32(&r);
  c->seed = proto_rd_bytes(&r, &c->seed_len);
  c->n_ifaces = proto_rd_u32(&r);
  if (c->n_ifaces > PROTO_MAX_IFACES)
    return -1;
  for (uint32_t i = 0; i < c->n_ifaces && !r.bad; i++) {
    struct proto_iface *f = &c->ifaces[i];
    f->mac = proto_rd_str(&r);
    f->set_mac = proto_rd_str(&r);
    f->name = proto_rd_str(&r);
    f->mtu = proto_rd_u32(&r);
    f->n_addrs = proto_rd_u32(&r);
    if (f->n_addrs > PROTO_MAX_ADDRS)
      return -1;
    for (uint32_t j = 0; j < f->n_addrs; j++)
      f->addrs[j] = proto_rd_str(&r);
  }
  c->n_routes = proto_rd_u32(&r);
  if (c->n_routes > PROTO_MAX_ROUTES)
    return -1;
  for (uint32_t i = 0; i < c->n_routes && !r.bad; i++) {
    c->routes[i].dst = proto_rd_str(&r);
    c->routes[i].gw = proto_rd_str(&r);
    c->routes[i].dev = proto_rd_str(&r);
  }
  c->n_mounts = proto_rd_u32(&r);
  if (c->n_mounts > PROTO_MAX_MOUNTS)
    return -1;
  for (uint32_t i = 0; i < c->n_mounts && !r.bad; i++) {
    c->mounts[i].source = proto_rd_str(&r);
    c->mounts[i].target = proto_rd_str(&r);
    c->mounts[i].fstype = proto_rd_str(&r);
    c->mounts[i].options = proto_rd_str(&r);
  }
  c->flags = proto_rd_u32(&r);
  c->n_sysctls = proto_rd_u32(&r);
  if (c->n_sysctls > PROTO_MAX_SYSCTLS)
    return -1;
  for (uint32_t i = 0; i < c->n_sysctls && !r.bad; i++)
    c->sysctls[i] = proto_rd_str(&r);
  c->n_files = proto_rd_u32(&r);
  if (c->n_files > PROTO_MAX_FILES)
    return -1;
  for (uint32_t i = 0; i < c->n_files && !r.bad; i++) {
    struct proto_file *f = &c->files[i];
    f->path = proto_rd_str(&r);
    f->content = proto_rd_bytes(&r, &f->len);
    f->mode = proto_rd_u32(&r);
    f->uid = proto_rd_u32(&r);
    f->gid = proto_rd_u32(&r);
  }
  c->domainname = proto_rd_str(&r);
  return proto_rd_done(&r);
}

static inline int proto_enc_start(struct proto_wr *w, uint16_t session,
                                  const struct proto_start *s) {
  if (s->n_rlimits > PROTO_MAX_RLIMITS) {
    w->bad = 1;
    return -1;
  }
  size_t at = proto_wr_begin(w, PROTO_START, session);
  proto_wr_strv(w, s->argv);
  proto_wr_strv(w, s->env);
  proto_wr_str(w, s->user);
  proto_wr_str(w, s->workdir);
  proto_wr_u32(w, s->flags);
  proto_wr_u32(w, s->umask);
  proto_wr_u32(w, s->rows);
  proto_wr_u32(w, s->cols);
  proto_wr_u32(w, s->n_rlimits);
  for (uint32_t i = 0; i < s->n_rlimits; i++) {
    proto_wr_u32(w, s->rlimits[i].resource);
    proto_wr_u64(w, s->rlimits[i].soft);
    proto_wr_u64(w, s->rlimits[i].hard);
  }
  proto_wr_u64(w, s->caps);
  proto_wr_u64(w, s->pids_max);
  return proto_wr_end(w, at);
}

/* On success the caller frees s->argv and s->env (the arrays only). */
static inline int proto_dec_start(const void *p, size_t n, struct proto_start *s) {
  struct proto_rd r = proto_rd_init(p, n);
  memset(s, 0, sizeof *s);
  s->argv = proto_rd_strv(&r);
  s->env = proto_rd_strv(&r);
  s->user = proto_rd_str(&r);
  s->workdir = proto_rd_str(&r);
  s->flags = proto_rd_u32(&r);
  s->umask = proto_rd_u32(&r);
  s->rows = proto_rd_u32(&r);
  s->cols = proto_rd_u32(&r);
  s->n_rlimits = proto_rd_u32(&r);
  if (s->n_rlimits > PROTO_MAX_RLIMITS)
    r.bad = 1;
  for (uint32_t i = 0; i < s->n_rlimits && !r.bad; i++) {
    s->rlimits[i].resource = proto_rd_u32(&r);
    s->rlimits[i].soft = proto_rd_u64(&r);
    s->rlimits[i].hard = proto_rd_u64(&r);
  }
  s->caps = proto_rd_u64(&r);
  s->pids_max = proto_rd_u64(&r);
  if (s->argv != NULL && s->argv[0] == NULL)
    r.bad = 1; /* nothing to run */
  if (proto_rd_done(&r) < 0) {
    free(s->argv);
    free(s->env);
    s->argv = s->env = NULL;
    return -1;
  }
  return 0;
}

#endif
