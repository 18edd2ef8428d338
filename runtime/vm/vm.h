/* One micro-VM: a QEMU `-M microvm` process on a libuv loop.
 *
 * vm_start() builds the command line (qemu.h: the fast-boot recipe of
 * design.md), forks QEMU into its jail (jail.h: its own uid, namespaces,
 * no capabilities, seccomp, a cgroup) and reports its exit through a
 * callback (a pidfd on the loop).  QEMU's stderr is kept (last 16 KiB) for
 * error messages, with what the jail's set-up said if it failed; the
 * serial console (kernel messages) goes to <state_dir>/console.log.
 *
 * Sockets, and why nothing polls: before spawning, vm_start() creates the
 * control socket and the QMP socket itself, as *listening* unix sockets, and
 * hands the listening fds to QEMU (`-chardev socket,fd=N,server=on,wait=off`).
 * So a client may connect() the moment vm_start() returns, even before QEMU
 * has run one instruction: the connection waits in the backlog and QEMU
 * accepts it when its main loop starts.  No retry loop, no race.  When a
 * client disconnects QEMU listens again, so a restarted supervisor reconnects
 * by path.  Until the host side is connected, the guest's writes to the
 * control port block (the port reports "host not connected"), so nothing the
 * guest says first is lost.
 *
 * The control channel is a virtserialport named PROTO_PORT_NAME
 * (guest/proto.h, "stack.ctl"); the guest finds it as /dev/vportNpM whose
 * /sys/class/virtio-ports/vportNpM/name matches.
 *
 * Disks: root_disk is /dev/vda (read-only), data_disk is /dev/vdb when there
 * is a root disk (else /dev/vda); they also carry the serials "root" and
 * "data" (/sys/block/vdX/serial).  Network devices appear as eth0, eth1, ...
 * in the order of spec->nets.  The initrd must be an uncompressed newc cpio
 * (the kernel has no decompressors: unpacking gzip costs ~140 ms under TCG).
 */
#ifndef STACK_VM_VM_H
#define STACK_VM_VM_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <uv.h>

#include "runtime/vm/accel.h"

typedef struct cJSON cJSON;
struct stack_error;
struct qmp;
struct vm;

struct vm_net {
  const char *tap; /* host tap device; vm_start() attaches to it (or makes a
                    * throw-away one) and hands QEMU the fd (vhost off) */
  const char *mac; /* "52:54:00:xx:xx:xx"; NULL = QEMU picks one */
};

/* How a shared directory keeps owners and modes (QEMU's security_model). */
enum vm_share_model {
  /* the guest's owners and modes are the host files' own (passthrough):
   * bind mounts of host directories, as with Docker -- but QEMU refuses
   * set-user-ID bits and device nodes (jail_seccomp.h) */
  VM_SHARE_PASSTHROUGH = 0,
  /* the guest's owners, modes and special files live in xattrs
   * (mapped-xattr); host files belong to QEMU's uid with mode 0600/0700:
   * volumes, which stack owns */
  VM_SHARE_MAPPED,
  /* the same in .virtfs_metadata files, where the file system has no user
   * xattrs (mapped-file) */
  VM_SHARE_MAPPED_FILE,
};

/* A host directory shared with the guest over virtio-9p (volumes, bind
 * mounts); the guest mounts it by tag. */
struct vm_share {
  const char *path; /* host directory */
  const char *tag;  /* mount tag: letters, digits, '_' and '-', at most 31 */
  bool readonly;    /* QEMU refuses writes (the guest sees EROFS) */
  enum vm_share_model model;
};

/* How the guest's RAM is backed. */
enum vm_ram {
  VM_RAM_ANON = 0,       /* QEMU's own memory (a template's RAM then travels in its state) */
  VM_RAM_TEMPLATE_BUILD, /* ram_file, shared: the guest writes the file (a template's build) */
  VM_RAM_TEMPLATE_CLONE, /* ram_file opened read-only and mapped copy-on-write (a clone) */
};

struct vm_spec {
  const char *name;           /* for messages, and QEMU's -name */
  const char *state_dir;      /* must exist; console.log goes here */
  const char *kernel;         /* NULL = kernel_find() (kernel.h) */
  const char *initrd;         /* uncompressed cpio; NULL = none */
  const char *cmdline_extra;  /* appended to the kernel command line */
  const char *root_disk;      /* read-only ext4 image; NULL = none */
  const char *data_disk;      /* writable disk (vm_create_data_disk()); NULL = none */
  uint64_t mem_mib;           /* 0 = VM_DEFAULT_MEM_MIB */
  unsigned tcg_cache_mib;     /* TCG's translation cache; 0 = the host's default (accel.h) */
  /* A template's RAM file (template.h) and how this VM uses it (needs QEMU
   * 8.2 or later for clones): the kernel command line then says
   * stack.ram=shared, and the guest turns its free page reporting off
   * (QEMU refuses to discard pages of a read-only file). */
  enum vm_ram ram;
  const char *ram_file;
  unsigned cpus;              /* 0 = vm_default_cpus() */
  bool crowded;               /* starts among other VMs: see vm_tcg_single() */
  const struct vm_net *nets;  /* n_nets entries */
  size_t n_nets;
  const struct vm_share *shares; /* n_shares entries */
  size_t n_shares;
  const char *control_socket; /* path of the control socket; NULL = no channel */
  const char *qmp_socket;     /* path of the QMP socket; NULL = <state_dir>/qmp.sock */
  const struct vm_host *host; /* accelerator and TSC; NULL = vm_host_probe() now */
  const char *qemu;           /* QEMU binary; NULL = qemu-system-x86_64 from PATH */
  /* NULL-terminated files QEMU opens by name after it started (the template
   * builder's migration socket): shown in its jail and given to its uid */
  const char *const *jail_paths;
  /* A template's saved state (template.h) to restore instead of booting:
   * QEMU starts with `-incoming defer` and vm_start() has QMP load the
   * file before the guest runs one instruction.  With ram
   * VM_RAM_TEMPLATE_CLONE (and ram_file NULL) the RAM is the template's
   * file beside it (template_ram_path() of the open state file's inode),
   * and x-ignore-shared is set before the restore.  The rest of the spec must
   * describe the same machine as the template's (disks and taps may be
   * other files and devices; network MACs must be template_mac()'s). */
  const char *incoming;
  /* With incoming: called once the restore was started (status 0) or
   * refused (status < 0, then QEMU is killed and the exit callback
   * follows).  May be NULL. */
  void (*restored)(void *data, int status, const char *error);
  /* QMP for the VM's life: vm_start() keeps one QMP connection open until
   * QEMU exits and passes its events here (BLOCK_IO_ERROR, STOP, RESUME,
   * ...) with the exit callback's data; commands go through vm_qmp().  It
   * costs a socket on each side and ~30 KB of QEMU's memory.  QEMU takes
   * one QMP client at a time: with this set, nobody else can connect to
   * vm_qmp_path().  NULL: QMP is only used to restore a template. */
  void (*qmp_event)(void *data, const char *event, const cJSON *event_data);
  /* A file that gets QEMU's pid (decimal) before QEMU runs: written by the
   * child itself between fork and exec, so that it is on disk whenever a
   * QEMU runs, even if the process that started it dies at once.  NULL =
   * none. */
  const char *pid_file;
};

/* A QEMU that another process started (a supervisor that died) and that
 * still runs: vm_adopt() watches it and reaches its sockets again. */
struct vm_adopt_spec {
  const char *name;           /* for messages */
  int pid;
  /* a string QEMU's command line holds (its state directory's console
   * log): whether pid still is that QEMU, and not a pid reused since */
  const char *cmdline_mark;
  const char *state_dir;      /* console.log */
  const char *control_socket; /* NULL = no channel */
  const char *qmp_socket;
  /* as vm_spec.qmp_event: the QMP connection for the VM's life (the dead
   * process's connection is gone, so QEMU takes this one) */
  void (*qmp_event)(void *data, const char *event, const cJSON *event_data);
};

#define VM_DEFAULT_MEM_MIB 1024
#define VM_MAX_DEFAULT_CPUS 4

/* Called once, when QEMU has exited: exit_status is its exit code (0 after
 * the guest powered off or rebooted with -no-reboot), term_signal the signal
 * that killed it or 0.  For an adopted QEMU (not our child) the status is
 * what the kernel still tells (the pidfd's exit information from Linux
 * 6.15, or the zombie's /proc entry); exit_status -1 when it tells
 * nothing.  The vm stays valid until vm_free(). */
typedef void (*vm_exit_cb)(struct vm *vm, int64_t exit_status, int term_signal, void *data);

/* Creates the sockets, spawns QEMU and returns at once (the boot goes on in
 * the background).  On failure nothing is left running and the sockets are
 * removed. */
int vm_start(uv_loop_t *loop, const struct vm_spec *spec, vm_exit_cb on_exit, void *data,
             struct vm **out, struct stack_error **err);

/* Watches a QEMU that another process started (spec->pid, checked against
 * spec->cmdline_mark through a pidfd, so a reused pid is never taken for
 * it): its exit is reported like that of vm_start()'s, and vm_kill(),
 * vm_free() and the socket paths work the same.  -ESRCH when it is not
 * (any more) that QEMU.  What it wrote on stderr went to its starter. */
int vm_adopt(uv_loop_t *loop, const struct vm_adopt_spec *spec, vm_exit_cb on_exit, void *data,
             struct vm **out, struct stack_error **err);

/* Whether pid is a live (not zombie) process whose command line holds
 * mark. */
bool vm_pid_has_mark(int pid, const char *mark);

/* The pid in a pid file (vm_spec.pid_file), or -errno. */
int vm_pid_file_read(const char *path);

/* Sends a signal to QEMU (SIGKILL for a hard stop; for a clean power-off use
 * the control channel or qmp.h).  -ESRCH once it has exited. */
int vm_kill(struct vm *vm, int signum, struct stack_error **err);

/* QEMU's pid (0 once it has exited). */
int vm_pid(const struct vm *vm);

/* Whether QEMU is still running. */
int vm_running(const struct vm *vm);

/* What QEMU wrote on stderr so far (its last 16 KiB), never NULL. */
const char *vm_stderr(const struct vm *vm);

/* Paths of the console log and the sockets (valid until vm_free()). */
const char *vm_console_path(const struct vm *vm);
const char *vm_qmp_path(const struct vm *vm);
const char *vm_control_path(const struct vm *vm);

/* The VM's own QMP connection (spec->qmp_event) for commands
 * (qmp_execute(), ...; they are queued until QMP is ready), or NULL
 * without one or once it closed (QEMU exited). */
struct qmp *vm_qmp(const struct vm *vm);

/* Connects to the control socket (see above: succeeds at once, no retry);
 * returns a connected, blocking, close-on-exec fd or -errno. */
int vm_connect_control(const struct vm *vm, struct stack_error **err);

/* Releases the vm.  If QEMU still runs it is killed (SIGKILL) first and its
 * exit callback is not called.  Removes the sockets.  Handles close on the
 * loop: run the loop once more to let them finish. */
void vm_free(struct vm *vm);

/* Default CPU count: the host's CPUs, at most VM_MAX_DEFAULT_CPUS. */
unsigned vm_default_cpus(void);

/* Creates path as a sparse file of size_bytes holding an empty ext4
 * filesystem (made in-process with libext2fs, so the guest only mounts it).
 * Fails with -EEXIST if path exists. */
int vm_create_data_disk(const char *path, uint64_t size_bytes, struct stack_error **err);

#endif
