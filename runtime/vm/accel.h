/* Which accelerator QEMU gets, and the host facts the guest's command line
 * needs.
 *
 * KVM is used only where it really works: /dev/kvm must exist AND the CPU
 * must expose vmx (Intel) or svm (AMD).  Some hosts have a /dev/kvm backed by
 * a software hypervisor that cannot run an ordinary guest at speed (it crawls,
 * then dies with an emulation failure): there the flags are absent and TCG is
 * chosen.  An explicit choice overrides the probe: $STACK_ACCEL, else the
 * config file's "accel" key ("kvm" or "tcg").
 *
 * The host TSC frequency becomes the guest's tsc_early_khz: without it,
 * guests booted in parallel hang at clock calibration.
 */
#ifndef STACK_VM_ACCEL_H
#define STACK_VM_ACCEL_H

#include <stdbool.h>
#include <stdint.h>

struct stack_error;

enum vm_accel { VM_ACCEL_TCG = 0, VM_ACCEL_KVM = 1 };

/* How TCG maps vCPUs to host threads.  AUTO: a thread per vCPU (QEMU's
 * thread=multi) for a VM that has the host to itself or was given an
 * explicit number of CPUs above one; one thread per VM (thread=single) for
 * a VM with the default number of vCPUs started among others whose vCPUs
 * outnumber the host's cores.  Crowded, one thread per VM costs a quarter
 * less CPU: a multi-threaded VM's vCPUs wait on each other (TLB flushes,
 * IPIs, the guest's spinlocks) whenever the host has descheduled one of
 * them.  Alone, a thread per vCPU is faster (a restored `stack run` takes
 * about 10 ms less): the guest's two CPUs really run at once. */
enum vm_tcg_thread { VM_TCG_THREAD_AUTO = 0, VM_TCG_THREAD_SINGLE = 1, VM_TCG_THREAD_MULTI = 2 };

/* Whether a VM template's RAM is one file that its clones map read-only
 * and copy-on-write (template.h).  AUTO: shared where QEMU can (8.2 and
 * later).  Shared RAM costs a clone only the pages it writes, but QEMU
 * refuses to discard pages of a read-only file, so a clone's freed memory
 * is not returned to the host (its balloon's free page reporting is off);
 * private RAM is a copy per clone, and freed memory goes back. */
enum vm_template_ram {
  VM_TEMPLATE_RAM_AUTO = 0,
  VM_TEMPLATE_RAM_SHARED = 1,
  VM_TEMPLATE_RAM_PRIVATE = 2
};

/* TCG's translation cache (QEMU's tb-size) when neither the VM nor
 * $STACK_TCG_CACHE / the config's "tcg_cache" says otherwise, in MiB.
 * QEMU's own default is 1 GiB (at most an eighth of the host's memory),
 * all of which a busy guest fills: measured in docs/how-it-works.md. */
#define VM_TCG_CACHE_DEFAULT_MIB 64
/* the smallest tb-size accepted: below it QEMU re-translates constantly */
#define VM_TCG_CACHE_MIN_MIB 4
#define VM_TCG_CACHE_MAX_MIB (64 * 1024)

struct vm_host {
  enum vm_accel accel;
  char reason[160];         /* why this accelerator, one line */
  unsigned long tsc_khz;    /* 0 = unknown (tsc_early_khz is then omitted) */
  char tsc_source[48];      /* where tsc_khz came from */
  unsigned ncpus;           /* online host CPUs */
  enum vm_tcg_thread tcg_thread; /* $STACK_TCG_THREAD, else the config's "tcg_thread" */
  unsigned tcg_cache_mib;   /* $STACK_TCG_CACHE, else the config's "tcg_cache", else the default */
  char tcg_cache_src[48];   /* where tcg_cache_mib came from */
  /* QEMU (qemu-system-x86_64 from $PATH), probed once and cached
   * (qemu_probe.h) */
  unsigned qemu_version;    /* QEMU_VERSION(major, minor, micro); 0 = unknown */
  enum vm_template_ram template_ram; /* $STACK_TEMPLATE_RAM, else the config's "template_ram" */
  bool shared_ram;          /* templates share their RAM: the policy and QEMU allow it */
  char shared_ram_note[120]; /* why or why not, one line */
  /* QEMU's jail (jail.h) */
  bool jail;                /* stack runs as root: each QEMU gets its own uid and mounts */
  uint32_t uid_base;        /* a QEMU's uid and gid: uid_base + its pid */
  uint64_t physmem;         /* the host's memory, bytes */
  char cgroup[200];         /* where per-VM cgroups go; "" = none (jail_cgroup.h) */
  bool cgroup_memory, cgroup_pids; /* the controllers its children have */
  char cgroup_note[200];    /* why there are none, or which controller is missing */
};

/* Probes the host once (reads /proc/cpuinfo, sysfs, the kernel log, the
 * config file); callers keep the result for every VM they start.  Fails only
 * on a bad override (unknown accelerator name, kvm forced without
 * /dev/kvm). */
int vm_host_probe(struct vm_host *out, struct stack_error **err);

/* The TCG threading that a VM with `cpus` vCPUs (0 = the default number)
 * gets on this host, crowded or not (see above): true for QEMU's
 * thread=single. */
bool vm_tcg_single(const struct vm_host *host, unsigned cpus, bool crowded);

/* "auto", "single" or "multi". */
const char *vm_tcg_thread_name(enum vm_tcg_thread t);

/* "auto", "shared" or "private". */
const char *vm_template_ram_name(enum vm_template_ram t);

/* The TCG translation cache a VM asking for mib MiB (0 = the host's
 * default) gets, in MiB; 0 under KVM, which has none. */
unsigned vm_tcg_cache_mib(const struct vm_host *host, unsigned mib);

/* Parses a TCG cache size in MiB ("64", "64M", "64MiB", "1G"); -EINVAL
 * unless it is at least VM_TCG_CACHE_MIN_MIB and at most 64 GiB. */
int vm_tcg_cache_parse(const char *text, unsigned *mib);

/* The accelerator's name as QEMU spells it ("kvm", "tcg"). */
const char *vm_accel_name(enum vm_accel a);

/* Pure decision logic, exposed for tests.  cpuinfo is the text of
 * /proc/cpuinfo; override is NULL or "kvm"/"tcg" (override_src names where it
 * came from, for messages).  Fills out->accel and out->reason. */
int vm_accel_decide(const char *cpuinfo, bool have_dev_kvm, const char *override,
                    const char *override_src, struct vm_host *out, struct stack_error **err);

/* Pure TSC parsers, exposed for tests; each returns kHz or 0. */
/* The content of /sys/devices/system/cpu/cpu0/tsc_freq_khz. */
unsigned long vm_tsc_parse_sysfs(const char *text);
/* Kernel log text (dmesg or /dev/kmsg records): "tsc: Refined TSC
 * clocksource calibration: X MHz" wins over "tsc: Detected X MHz processor". */
unsigned long vm_tsc_parse_kmsg(const char *text);
/* /proc/cpuinfo: "cpu MHz", only when the flags hold tsc_known_freq (then
 * it is the TSC rate; elsewhere it is the scaled core clock); else 0.
 * vm_host_probe() measures the TSC when all of these fail. */
unsigned long vm_tsc_parse_cpuinfo(const char *cpuinfo);

#endif
