#include "runtime/vm/accel.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "runtime/util/bytesize.h"
#include "runtime/util/cleanup.h"
#include "runtime/util/error.h"
#include "runtime/util/fsutil.h"
#include "runtime/util/xalloc.h"
#include "runtime/vm/jail.h"
#include "runtime/vm/kernel.h"
#include "runtime/vm/qemu_probe.h"

const char *vm_accel_name(enum vm_accel a) { return a == VM_ACCEL_KVM ? "kvm" : "tcg"; }

const char *vm_tcg_thread_name(enum vm_tcg_thread t) {
  return t == VM_TCG_THREAD_SINGLE ? "single" : t == VM_TCG_THREAD_MULTI ? "multi" : "auto";
}

const char *vm_template_ram_name(enum vm_template_ram t) {
  return t == VM_TEMPLATE_RAM_SHARED ? "shared" : t == VM_TEMPLATE_RAM_PRIVATE ? "private" : "auto";
}

unsigned vm_tcg_cache_mib(const struct vm_host *host, unsigned mib) {
  if (host->accel == VM_ACCEL_KVM)
    return 0;
  if (mib)
    return mib;
  return host->tcg_cache_mib ? host->tcg_cache_mib : VM_TCG_CACHE_DEFAULT_MIB;
}

int vm_tcg_cache_parse(const char *text, unsigned *mib) {
  return parse_mib(text, VM_TCG_CACHE_MIN_MIB, VM_TCG_CACHE_MAX_MIB, mib);
}

bool vm_tcg_single(const struct vm_host *host, unsigned cpus, bool crowded) {
  switch (host->tcg_thread) {
  case VM_TCG_THREAD_SINGLE: return true;
  case VM_TCG_THREAD_MULTI: return false;
  case VM_TCG_THREAD_AUTO: break;
  }
  /* An explicit cpus limit asks for that much compute: only threads per
   * vCPU can give it. */
  if (cpus)
    return cpus == 1;
  return crowded;
}

/* A setting from the environment variable env, else the config file's
 * key: *out is NULL (unset) or owned; *src names where it came from, for
 * messages. */
static int setting(const char *env, const char *key, char **out, char **src,
                   struct stack_error **err) {
  const char *v = getenv(env);
  *out = NULL;
  if (v && *v) {
    *out = xstrdup(v);
    *src = xasprintf("$%s", env);
    return 0;
  }
  *src = xasprintf("the config file's \"%s\" key", key);
  return stack_config_get_string(key, out, err);
}

/* Reads the TCG threading choice: $STACK_TCG_THREAD, else the config file's
 * "tcg_thread"; absent = auto. */
static int probe_tcg_thread(struct vm_host *out, struct stack_error **err) {
  _cleanup_free_ char *v = NULL, *src = NULL;
  int r = setting("STACK_TCG_THREAD", "tcg_thread", &v, &src, err);
  if (r < 0)
    return r;
  if (!v || !*v || strcmp(v, "auto") == 0)
    out->tcg_thread = VM_TCG_THREAD_AUTO;
  else if (strcmp(v, "single") == 0)
    out->tcg_thread = VM_TCG_THREAD_SINGLE;
  else if (strcmp(v, "multi") == 0)
    out->tcg_thread = VM_TCG_THREAD_MULTI;
  else
    return stack_error_set(err, -EINVAL,
                           "unknown TCG threading \"%s\" in %s: use \"auto\", \"single\" or "
                           "\"multi\"",
                           v, src);
  return 0;
}

/* The TCG cache size: $STACK_TCG_CACHE, else the config file's
 * "tcg_cache", else VM_TCG_CACHE_DEFAULT_MIB. */
static int probe_tcg_cache(struct vm_host *out, struct stack_error **err) {
  _cleanup_free_ char *v = NULL, *src = NULL;
  int r = setting("STACK_TCG_CACHE", "tcg_cache", &v, &src, err);
  if (r < 0)
    return r;
  if (!v || !*v) {
    out->tcg_cache_mib = VM_TCG_CACHE_DEFAULT_MIB;
    snprintf(out->tcg_cache_src, sizeof out->tcg_cache_src, "default");
    return 0;
  }
  if (vm_tcg_cache_parse(v, &out->tcg_cache_mib) < 0)
    return stack_error_set(err, -EINVAL,
                           "bad TCG cache size \"%s\" in %s: give MiB (or \"1G\"), at least %d",
                           v, src, VM_TCG_CACHE_MIN_MIB);
  snprintf(out->tcg_cache_src, sizeof out->tcg_cache_src, "%s", src);
  return 0;
}

/* QEMU's version (cached: qemu_probe.h) and whether templates share
 * their RAM: $STACK_TEMPLATE_RAM, else the config file's "template_ram". */
static int probe_template_ram(struct vm_host *out, struct stack_error **err) {
  _cleanup_free_ char *v = NULL, *src = NULL;
  int r = setting("STACK_TEMPLATE_RAM", "template_ram", &v, &src, err);
  if (r < 0)
    return r;
  if (!v || !*v || strcmp(v, "auto") == 0)
    out->template_ram = VM_TEMPLATE_RAM_AUTO;
  else if (strcmp(v, "shared") == 0)
    out->template_ram = VM_TEMPLATE_RAM_SHARED;
  else if (strcmp(v, "private") == 0)
    out->template_ram = VM_TEMPLATE_RAM_PRIVATE;
  else
    return stack_error_set(err, -EINVAL,
                           "unknown template RAM mode \"%s\" in %s: use \"auto\", \"shared\" or "
                           "\"private\"",
                           v, src);
  _cleanup_free_ char *qemu = fs_which("qemu-system-x86_64");
  out->qemu_version = qemu ? qemu_probe_version(qemu) : 0;
  bool able = out->qemu_version >= QEMU_VERSION_SHARED_RAM;
  if (out->template_ram == VM_TEMPLATE_RAM_PRIVATE) {
    snprintf(out->shared_ram_note, sizeof out->shared_ram_note, "private (requested by %s)", src);
  } else if (!able) {
    if (out->template_ram == VM_TEMPLATE_RAM_SHARED)
      return stack_error_set(err, -ENOTSUP,
                             "shared template RAM requested by %s needs QEMU 8.2 or later (%s): "
                             "install QEMU from bookworm-backports or choose \"private\"",
                             src, out->qemu_version ? "this QEMU is older" : "no QEMU found");
    snprintf(out->shared_ram_note, sizeof out->shared_ram_note,
             "private (QEMU %s: shared needs 8.2 or later)",
             out->qemu_version ? "too old" : "unknown");
  } else {
    out->shared_ram = true;
    snprintf(out->shared_ram_note, sizeof out->shared_ram_note, "shared (%s)",
             out->template_ram == VM_TEMPLATE_RAM_SHARED ? "requested" : "QEMU 8.2 or later");
  }
  return 0;
}

/* Finds the value of the first "key<spaces>: value" line of /proc/cpuinfo;
 * returns a pointer to the value and its length through *len. */
static const char *cpuinfo_field(const char *cpuinfo, const char *key, size_t *len) {
  size_t klen = strlen(key);
  for (const char *line = cpuinfo; line && *line;) {
    const char *eol = strchr(line, '\n');
    size_t llen = eol ? (size_t)(eol - line) : strlen(line);
    if (llen > klen && strncmp(line, key, klen) == 0 && (line[klen] == ' ' || line[klen] == '\t' ||
                                                         line[klen] == ':')) {
      const char *colon = memchr(line, ':', llen);
      if (colon) {
        const char *v = colon + 1;
        while (v < line + llen && (*v == ' ' || *v == '\t'))
          v++;
        *len = (size_t)(line + llen - v);
        return v;
      }
    }
    line = eol ? eol + 1 : NULL;
  }
  return NULL;
}

/* Whether the first "flags" line of cpuinfo lists flag as a whole word. */
static bool cpuinfo_has_flag(const char *cpuinfo, const char *flag) {
  size_t len = 0;
  const char *v = cpuinfo_field(cpuinfo, "flags", &len);
  size_t flen = strlen(flag);
  for (const char *p = v, *end = v ? v + len : NULL; p && p < end;) {
    while (p < end && *p == ' ')
      p++;
    const char *w = p;
    while (p < end && *p != ' ')
      p++;
    if ((size_t)(p - w) == flen && memcmp(w, flag, flen) == 0)
      return true;
  }
  return false;
}

int vm_accel_decide(const char *cpuinfo, bool have_dev_kvm, const char *override,
                    const char *override_src, struct vm_host *out, struct stack_error **err) {
  if (override && *override) {
    if (strcmp(override, "tcg") == 0) {
      out->accel = VM_ACCEL_TCG;
      snprintf(out->reason, sizeof(out->reason), "tcg requested by %s", override_src);
      return 0;
    }
    if (strcmp(override, "kvm") == 0) {
      if (!have_dev_kvm)
        return stack_error_set(err, -ENODEV,
                               "kvm requested by %s, but /dev/kvm does not exist: load the kvm "
                               "module or choose tcg",
                               override_src);
      out->accel = VM_ACCEL_KVM;
      snprintf(out->reason, sizeof(out->reason), "kvm requested by %s", override_src);
      return 0;
    }
    return stack_error_set(err, -EINVAL, "unknown accelerator \"%s\" in %s: use \"kvm\" or \"tcg\"",
                           override, override_src);
  }
  bool vmx = cpuinfo && cpuinfo_has_flag(cpuinfo, "vmx");
  bool svm = cpuinfo && cpuinfo_has_flag(cpuinfo, "svm");
  if (!have_dev_kvm) {
    out->accel = VM_ACCEL_TCG;
    snprintf(out->reason, sizeof(out->reason), "no /dev/kvm");
  } else if (!vmx && !svm) {
    out->accel = VM_ACCEL_TCG;
    snprintf(out->reason, sizeof(out->reason),
             "/dev/kvm exists but the CPU has no vmx/svm flag (KVM would not run guests at speed)");
  } else {
    out->accel = VM_ACCEL_KVM;
    snprintf(out->reason, sizeof(out->reason), "/dev/kvm and the CPU's %s flag",
             vmx ? "vmx" : "svm");
  }
  return 0;
}

/* Parses a decimal "1234.567" MHz figure at s into kHz; 0 if none. */
static unsigned long mhz_to_khz(const char *s) {
  char *end = NULL;
  errno = 0;
  unsigned long whole = strtoul(s, &end, 10);
  if (end == s || errno)
    return 0;
  unsigned long frac = 0;
  if (*end == '.') {
    /* Three decimals are kHz; more are dropped, fewer padded. */
    const char *p = end + 1;
    for (int i = 0; i < 3; i++) {
      frac *= 10;
      if (*p >= '0' && *p <= '9')
        frac += (unsigned long)(*p++ - '0');
    }
  }
  if (whole > 100000) /* 100 GHz: not a TSC */
    return 0;
  return whole * 1000 + frac;
}

unsigned long vm_tsc_parse_sysfs(const char *text) {
  if (!text)
    return 0;
  char *end = NULL;
  errno = 0;
  unsigned long khz = strtoul(text, &end, 10);
  if (end == text || errno || khz > 100000000UL)
    return 0;
  while (*end == '\n' || *end == ' ')
    end++;
  return *end ? 0 : khz;
}

/* The figure after needle (then optional spaces), up to " MHz". */
static unsigned long kmsg_find(const char *text, const char *needle) {
  unsigned long found = 0;
  for (const char *p = strstr(text, needle); p; p = strstr(p + 1, needle)) {
    const char *v = p + strlen(needle);
    while (*v == ' ')
      v++;
    unsigned long khz = mhz_to_khz(v);
    if (khz)
      found = khz; /* the last one wins: the log may hold several boots */
  }
  return found;
}

unsigned long vm_tsc_parse_kmsg(const char *text) {
  if (!text)
    return 0;
  unsigned long refined = kmsg_find(text, "tsc: Refined TSC clocksource calibration:");
  return refined ? refined : kmsg_find(text, "tsc: Detected");
}

unsigned long vm_tsc_parse_cpuinfo(const char *cpuinfo) {
  /* Only tsc_known_freq makes "cpu MHz" the TSC rate: elsewhere it is the
   * current (scaled) core clock. */
  if (!cpuinfo || !cpuinfo_has_flag(cpuinfo, "tsc_known_freq"))
    return 0;
  size_t len = 0;
  const char *v = cpuinfo_field(cpuinfo, "cpu MHz", &len);
  return v ? mhz_to_khz(v) : 0;
}

/* Reads the kernel log through /dev/kmsg without blocking: one record per
 * read() until EAGAIN.  Only the "tsc:" records are kept. */
static char *read_kmsg_tsc_lines(void) {
  _cleanup_close_ int fd = open("/dev/kmsg", O_RDONLY | O_NONBLOCK | O_CLOEXEC);
  if (fd < 0)
    return NULL;
  size_t cap = 4096, len = 0;
  char *out = calloc(1, cap);
  if (!out)
    return NULL;
  char rec[8192];
  for (;;) {
    ssize_t n = read(fd, rec, sizeof(rec) - 1);
    if (n < 0 && errno == EPIPE) /* a record was overwritten: keep reading */
      continue;
    if (n <= 0)
      break;
    rec[n] = '\0';
    const char *msg = strchr(rec, ';'); /* "prio,seq,ts,flags;message" */
    if (!msg || !strstr(msg, "tsc:"))
      continue;
    size_t mlen = strlen(msg + 1);
    if (len + mlen + 2 > cap) {
      cap = (len + mlen + 2) * 2;
      char *grown = realloc(out, cap);
      if (!grown)
        break;
      out = grown;
    }
    memcpy(out + len, msg + 1, mlen);
    len += mlen;
    out[len] = '\0';
  }
  return out;
}

#if defined(__x86_64__) || defined(__i386__)
#include <time.h>
#include <x86intrin.h>

static double mono_raw(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC_RAW, &ts);
  return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* Counts TSC ticks against CLOCK_MONOTONIC_RAW for 10 ms: the last resort
 * when neither sysfs nor the kernel log says the rate (an unprivileged user
 * cannot read /dev/kmsg).  Only meaningful with an invariant TSC. */
static unsigned long measure_tsc_khz(void) {
  double t0 = mono_raw();
  unsigned long long c0 = __rdtsc();
  double t1;
  do
    t1 = mono_raw();
  while (t1 - t0 < 0.010);
  unsigned long long c1 = __rdtsc();
  return (unsigned long)((double)(c1 - c0) / (t1 - t0) / 1000.0 + 0.5);
}
#else
static unsigned long measure_tsc_khz(void) { return 0; }
#endif

static void probe_tsc(const char *cpuinfo, struct vm_host *out) {
  _cleanup_free_ char *sysfs = NULL;
  if (fs_read_file("/sys/devices/system/cpu/cpu0/tsc_freq_khz", 64, &sysfs, NULL, NULL) == 0 &&
      (out->tsc_khz = vm_tsc_parse_sysfs(sysfs))) {
    snprintf(out->tsc_source, sizeof(out->tsc_source), "sysfs tsc_freq_khz");
    return;
  }
  /* tsc_known_freq: the kernel took the rate from CPUID or the hypervisor
   * and never refines it, so "cpu MHz" is exact, and cheaper than the log. */
  if ((out->tsc_khz = vm_tsc_parse_cpuinfo(cpuinfo))) {
    snprintf(out->tsc_source, sizeof(out->tsc_source), "/proc/cpuinfo cpu MHz");
    return;
  }
  _cleanup_free_ char *kmsg = read_kmsg_tsc_lines();
  if (kmsg && (out->tsc_khz = vm_tsc_parse_kmsg(kmsg))) {
    snprintf(out->tsc_source, sizeof(out->tsc_source), "kernel log");
    return;
  }
  if (cpuinfo && cpuinfo_has_flag(cpuinfo, "constant_tsc") &&
      (out->tsc_khz = measure_tsc_khz())) {
    snprintf(out->tsc_source, sizeof(out->tsc_source), "measured over 10 ms");
    return;
  }
  snprintf(out->tsc_source, sizeof(out->tsc_source), "unknown");
}

int vm_host_probe(struct vm_host *out, struct stack_error **err) {
  memset(out, 0, sizeof(*out));
  _cleanup_free_ char *cpuinfo = NULL;
  if (fs_read_file("/proc/cpuinfo", 0, &cpuinfo, NULL, NULL) < 0)
    cpuinfo = NULL;
  long n = sysconf(_SC_NPROCESSORS_ONLN);
  out->ncpus = n > 0 ? (unsigned)n : 1;

  _cleanup_free_ char *override = NULL, *override_src = NULL;
  int r = setting("STACK_ACCEL", "accel", &override, &override_src, err);
  if (r < 0)
    return r;
  r = vm_accel_decide(cpuinfo, access("/dev/kvm", F_OK) == 0, override, override_src, out, err);
  if (r < 0)
    return r;
  if ((r = probe_tcg_thread(out, err)) < 0 || (r = probe_tcg_cache(out, err)) < 0 ||
      (r = probe_template_ram(out, err)) < 0)
    return r;
  probe_tsc(cpuinfo, out);
  return jail_probe(out, err);
}
