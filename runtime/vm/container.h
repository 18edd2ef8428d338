/* One container: an image's root disk booted in its own micro-VM with a
 * fresh writable disk, one main process run through the guest control
 * channel, its stdio streamed back.  The building block of `stack run` and
 * of the orchestrator.
 *
 * State lives in <data root>/containers/<id>/ (data.img, the writable disk;
 * console.log, the guest kernel's messages; container.json); sockets in
 * <run dir>/<first 12 hex of id>/ (short: unix socket paths are limited).
 */
#ifndef STACK_VM_CONTAINER_H
#define STACK_VM_CONTAINER_H

#include <stdbool.h>
#include <stdint.h>
#include <uv.h>

#include "guest/proto.h"
#include "runtime/vm/accel.h"

struct image_config;

struct stack_error;
struct image_handle;
struct template_cache;
struct boot_queue;
struct vm_share;
struct container;

/* A network interface: a host tap (net/ made it) and what the guest
 * configures on it through the control channel. */
struct container_net {
  const char *tap;          /* host tap device */
  const char *mac;          /* required: the guest finds its device by MAC */
  const char *ifname;       /* name in the guest ("eth0"); NULL = the kernel's */
  unsigned mtu;             /* 0 = leave */
  const char *const *addrs; /* NULL-terminated "10.1.0.2/24", "fd00::2/64" */
};

struct container_opts {
  /* The container's id (64 lowercase hex digits: its state directory and
   * sockets); NULL = a random one.  A caller that must find the VM again
   * after it died (the supervisor) chooses it and records it first. */
  const char *id;
  /* Whose container this is, recorded in container.json ("owner"): a
   * supervisor marks its VMs with its project, so that a later one finds
   * those nobody recorded (container_list_owned()). */
  const char *owner;
  const char *name;        /* for messages and container.json; NULL = the id */
  char **entrypoint;       /* NULL = the image's; an empty list = none */
  char **cmd;              /* NULL (or empty) = the image's CMD (unless entrypoint is set) */
  char **env;              /* "K=V", applied over the image's ENV; may be NULL */
  const char *user;        /* NULL = the image's USER */
  const char *workdir;     /* NULL = the image's WORKDIR */
  const char *hostname;    /* NULL = the first 12 hex of the id */
  const char *domainname;  /* NULL = none */
  bool tty;                /* a pty in the guest */
  bool interactive;        /* keep stdin open */
  unsigned rows, cols;     /* initial window size with tty */
  uint64_t mem_mib;        /* 0 = the VM default */
  unsigned tcg_cache_mib;  /* TCG translation cache, MiB; 0 = the host's default (accel.h) */
  /* whether the VM maps its template's RAM file or gets a copy (accel.h,
   * template.h); AUTO = the host's choice; SHARED needs QEMU 8.2 (else
   * private) */
  enum vm_template_ram template_ram;
  unsigned cpus;           /* 0 = the VM default */
  bool crowded;            /* starts among other VMs (accel.h, vm_tcg_single()) */
  const char *kernel;      /* NULL = kernel_find() */
  const char *initramfs;   /* NULL = initramfs_find() */
  uint64_t disk_bytes;     /* writable disk size; 0 = CONTAINER_DISK_DEFAULT */
  /* The writable disk to use and keep: reused (with its files) when it
   * exists, made there otherwise; never removed here.  NULL = a new disk in
   * the state directory, which goes with it. */
  const char *data_disk;
  const struct container_net *nets; /* n_nets entries, at most PROTO_MAX_IFACES */
  size_t n_nets;
  const char *const *gateways;    /* NULL-terminated default routes' gateways (v4/v6) */
  const char *resolv_conf;        /* /etc/resolv.conf content; NULL = the image's */
  const char *const *extra_hosts; /* NULL-terminated "IP NAME..." lines for /etc/hosts */
  /* file systems mounted in the container once its root is up (tmpfs,
   * ...), at most PROTO_MAX_MOUNTS; "name=value" kernel settings, at most
   * PROTO_MAX_SYSCTLS; the root read-only (Compose's read_only) */
  const struct proto_mount *mounts;
  size_t n_mounts;
  /* host directories given to the VM (mounted through `mounts`, fstype
   * "9p", source = the share's tag), at most PROTO_MAX_MOUNTS */
  const struct vm_share *shares;
  size_t n_shares;
  const char *const *sysctls;
  bool read_only;
  /* security_opt no-new-privileges, for every process of the container */
  bool no_new_privs;
  /* files written into the container once its root and mounts are up
   * (secrets, configs), at most PROTO_MAX_FILES */
  const struct proto_file *files;
  size_t n_files;
  /* with limit_caps, the capabilities its processes keep (caps.h); else
   * every one */
  bool limit_caps;
  uint64_t caps;
  /* at most this many processes and threads (pids_limit); 0 = no limit */
  uint64_t pids_max;
  /* ulimits: resource (RLIMIT_*), soft and hard, at most PROTO_MAX_RLIMITS */
  const struct proto_rlimit *rlimits;
  size_t n_rlimits;
  bool remove;             /* delete the state when freed (--rm) */
  /* The VM powers off as soon as this process's end of its control channel
   * closes (this process died): for a standalone `stack run`, not for
   * VMs that a later process adopts. */
  bool bound_to_host;
  /* Restore the VM from a template of its machine shape (template.h),
   * building it first if needed; NULL = always boot cold. */
  struct template_cache *templates;
  /* Start only when the queue gives a slot (boot_queue.h); NULL = now. */
  struct boot_queue *boots;
};

#define CONTAINER_DISK_DEFAULT (8ULL << 30)
/* Exit codes for failures that are not the process's, as Docker has them. */
#define CONTAINER_EXIT_FAILED 125
#define CONTAINER_EXIT_NOEXEC 126
#define CONTAINER_EXIT_NOTFOUND 127

/* The argv the container runs: entrypoint + command as Docker combines
 * them (an entrypoint override drops the image's CMD too; an empty command
 * is the image's); NULL-terminated, caller frees (strv).  The VM runs
 * exactly this, and `ps` shows it. */
char **container_argv(const struct image_config *ic, char *const *entrypoint, char *const *cmd);

struct container_status {
  /* the process's code, 128+signal (also when the VM was killed by that
   * signal while the process ran: error then says so), or one of
   * CONTAINER_EXIT_* (a failure before the process started) */
  int exit_code;
  int signal;  /* the signal that ended it (or its VM), or 0 */
  char *error; /* why the container failed (NULL when the process ran and exited) */
};

/* Milestones (uv_hrtime() ns, 0 = not reached): for `stack run` timing and
 * the benchmark. */
struct container_times {
  uint64_t start, vm_spawned, hello, configured, started, exited, vm_exited;
  bool cloned; /* the VM was restored from a template (hello = restored) */
};

/* Whether the VM runs, and why not.  The runner keeps a QMP connection
 * to each VM (vm_spec.qmp_event) and learns from QEMU's events. */
struct container_vm_state {
  bool paused; /* the vCPUs are stopped: the guest does nothing */
  /* paused by container_pause(), resumed by container_resume() (else by
   * QEMU or, resuming, by the runner) */
  bool by_request;
  /* Paused by QEMU because a write to a disk failed (QEMU stops a VM whose
   * disk write fails with ENOSPC rather than fail the guest's write): the
   * disk's host file, QEMU's reason ("No space left on device"), whether
   * it was ENOSPC, and the mount point of the file system holding the
   * disk.  NULL (false) otherwise.  While the VM is paused for a full file
   * system and not by request, the runner looks at its free space every
   * CONTAINER_SPACE_CHECK_MS and resumes the VM once it has room again
   * (fs_space_room() of the space freed since the write failed); the
   * write is then retried. */
  const char *disk, *reason, *fs;
  bool nospace;
};

#define CONTAINER_SPACE_CHECK_MS 2000
/* An exec session that the guest did not start, or a process listing it
 * did not answer, within this time ends with an error (its VM is paused,
 * hung or too slow): a client never waits on it forever. */
#define CONTAINER_EXEC_START_TIMEOUT_MS 30000

struct container_io {
  /* fd 1 or 2 */
  void (*output)(void *data, int fd, const uint8_t *p, size_t n);
  /* The main process runs (may be NULL). */
  void (*started)(void *data);
  /* Called once, after the VM is gone: st is valid during the call. */
  void (*exited)(void *data, const struct container_status *st);
  /* The VM was paused or resumed (QMP STOP or RESUME, whoever caused it);
   * st is valid during the call.  May be NULL. */
  void (*vm_state)(void *data, const struct container_vm_state *st);
  /* container_adopt(): the guest answered and its main process runs (may
   * be NULL: started is called then). */
  void (*attached)(void *data);
};

/* Creates the container's state, boots its VM and runs the main process;
 * returns at once, reporting through io on the loop. */
int container_start(uv_loop_t *loop, const struct image_handle *image,
                    const struct container_opts *opts, const struct container_io *io,
                    void *data, struct container **out, struct stack_error **err);

/* Takes over the container whose VM another process started and that
 * still runs (a supervisor that died): watches its QEMU (vm_adopt()),
 * connects to its control channel and asks the guest where it stands
 * (ATTACH, guest/proto.h).  From then on it is like one container_start()
 * made: exec sessions, signals, top and stop work (with what its
 * container.json recorded at the start: environment, user, working
 * directory, capabilities, limits), its output comes to io, its end is
 * reported.  io->attached (else io->started) says the guest answered and
 * the process runs; a guest whose process had ended meanwhile reports
 * that exit (its VM is stopped), one that never started it fails.
 * -ESRCH when no such QEMU runs. */
struct container_adopt_opts {
  const char *id;   /* 64 hex */
  const char *name; /* for messages; NULL = the id */
  int pid;          /* QEMU's pid; 0 = the one its pid file names */
  bool remove;      /* delete the state when freed */
};
int container_adopt(uv_loop_t *loop, const struct container_adopt_opts *opts,
                    const struct container_io *io, void *data, struct container **out,
                    struct stack_error **err);

/* The pid of the QEMU of container id (a state directory under the data
 * root) as its pid file says, if that process still is its QEMU; else
 * -ESRCH (or -errno). */
int container_vm_pid(const char *id);

/* Kills the QEMU of container id if one runs (SIGKILL through a pidfd)
 * and waits for its end, up to wait_ms: returns 1 if one was killed, 0 if
 * none ran, -ETIMEDOUT if it outlived the wait. */
int container_vm_kill(const char *id, int wait_ms);

/* The ids of the containers under the data root whose container.json
 * names owner (NULL-terminated strv, caller frees): with their pid files,
 * every VM a supervisor of that project started, recorded or not. */
char **container_list_owned(const char *owner);

/* The container's id (64 hex). */
const char *container_id(const struct container *c);
/* Its state directory. */
const char *container_state_dir(const struct container *c);
const struct container_times *container_times(const struct container *c);
/* The pid of its VM's QEMU (our child), or 0 when none runs. */
int container_qemu_pid(const struct container *c);
/* The path of its VM's QMP socket, or NULL when no VM runs.  The runner
 * holds the VM's one QMP connection: use container_pause() and friends. */
const char *container_qmp_path(const struct container *c);
/* Whether its VM runs or is paused, and why (valid until the next change
 * or container_free()). */
const struct container_vm_state *container_vm_state(const struct container *c);

/* Called once when QEMU answered (status 0) or could not (-errno, error
 * says why): after the call that started it returned, or within
 * container_free(). */
typedef void (*container_done_cb)(void *data, int status, const char *error);
/* QMP stop: the vCPUs halt, the guest's memory stays (`pause`).  -ESRCH
 * when no VM runs. */
int container_pause(struct container *c, container_done_cb cb, void *data,
                    struct stack_error **err);
/* QMP cont (`unpause`), also of a VM that QEMU paused on a failed disk
 * write (the write is retried).  Without force, a VM paused because its
 * disk's file system is full is refused with -ENOSPC while that file
 * system has not had 1 MiB freed since (it would only stop again): the error
 * says where to free space.  force (a stop must reach the guest) resumes
 * it anyway. */
int container_resume(struct container *c, bool force, container_done_cb cb, void *data,
                     struct stack_error **err);

/* Stdin for the main process (n == 0: end of input), signals, window size.
 * Each returns 0 or -errno (-EPIPE when the guest is gone). */
int container_write_stdin(struct container *c, const void *p, size_t n);
int container_signal(struct container *c, int signum);
int container_resize(struct container *c, unsigned rows, unsigned cols);
/* Bytes of stdin not yet handed to the VM. */
size_t container_stdin_pending(const struct container *c);

/* Exec sessions: another process in the running container (same root,
 * its own stdio), for `stack exec` and health checks. */
struct container_exec_opts {
  char **argv;         /* required */
  char **env;          /* "K=V" over the container's environment; may be NULL */
  const char *user;    /* NULL = the container's */
  const char *workdir; /* NULL = the container's */
  bool tty, interactive;
  unsigned rows, cols;
};

struct container_exec_io {
  void (*output)(void *data, int fd, const uint8_t *p, size_t n);
  /* Called once: the process exited, could not start, or the container
   * stopped first (st->error says so). */
  void (*exited)(void *data, const struct container_status *st);
};

#define CONTAINER_MAX_EXECS 32

/* Starts an exec session once the main process runs (-EAGAIN before
 * that or while the VM is paused, -EBUSY with CONTAINER_MAX_EXECS
 * running); *session identifies it for the calls below.  A session the
 * guest does not start within CONTAINER_EXEC_START_TIMEOUT_MS ends with an
 * error (and is killed should it start later). */
int container_exec(struct container *c, const struct container_exec_opts *o,
                   const struct container_exec_io *io, void *data, uint16_t *session,
                   struct stack_error **err);
int container_exec_stdin(struct container *c, uint16_t session, const void *p, size_t n);
int container_exec_signal(struct container *c, uint16_t session, int signum);
int container_exec_resize(struct container *c, uint16_t session, unsigned rows, unsigned cols);

/* The container's processes, listed by the guest init from its /proc
 * (`stack top`): called once, with the list (error NULL), or with procs
 * NULL and why not when the container stops or is freed first, or the
 * guest did not answer within CONTAINER_EXEC_START_TIMEOUT_MS. */
typedef void (*container_top_cb)(void *data, const struct proto_procs *procs, const char *error);

#define CONTAINER_MAX_TOPS 16

/* Asks for the list once the main process runs (-EAGAIN before that or
 * while the VM is paused, -EBUSY with CONTAINER_MAX_TOPS requests
 * unanswered). */
int container_top(struct container *c, container_top_cb cb, void *data,
                  struct stack_error **err);

/* Stops the VM if it still runs (SIGKILL), removes sockets, and the state
 * too with opts->remove.  Exec sessions still open end first (their
 * exited callback, with an error), and so do pause and resume requests
 * (their callback, with -ESRCH).  Run the loop afterwards so handles
 * close. */
void container_free(struct container *c);

/* Removes the state of --rm containers whose owner (the `stack run` or the
 * supervisor that made them) and VM are gone: a `stack run` killed with
 * SIGKILL could not remove its own.  A pid that exists keeps its state (a
 * reused pid only delays the removal).  Returns how many were removed. */
int container_gc(void);

/* The guest initramfs: $STACK_INITRAMFS, else the config file's
 * "initramfs", else guest/initramfs.cpio next to the stack binary or its
 * parent directory (build tree), else <prefix>/lib/stack/initramfs.cpio. */
int initramfs_find(char **out, struct stack_error **err);

#endif
