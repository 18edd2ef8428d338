#include "runtime/vm/caps.h"

#include <errno.h>
#include <stddef.h>
#include <strings.h>

#include "runtime/util/error.h"

/* <linux/capability.h>, by number */
static const char *const names[] = {
    "CHOWN",           "DAC_OVERRIDE",   "DAC_READ_SEARCH", "FOWNER",        "FSETID",
    "KILL",            "SETGID",         "SETUID",          "SETPCAP",       "LINUX_IMMUTABLE",
    "NET_BIND_SERVICE", "NET_BROADCAST", "NET_ADMIN",       "NET_RAW",       "IPC_LOCK",
    "IPC_OWNER",       "SYS_MODULE",     "SYS_RAWIO",       "SYS_CHROOT",    "SYS_PTRACE",
    "SYS_PACCT",       "SYS_ADMIN",      "SYS_BOOT",        "SYS_NICE",      "SYS_RESOURCE",
    "SYS_TIME",        "SYS_TTY_CONFIG", "MKNOD",           "LEASE",         "AUDIT_WRITE",
    "AUDIT_CONTROL",   "SETFCAP",        "MAC_OVERRIDE",    "MAC_ADMIN",     "SYSLOG",
    "WAKE_ALARM",      "BLOCK_SUSPEND",  "AUDIT_READ",      "PERFMON",       "BPF",
    "CHECKPOINT_RESTORE",
};
#define N_CAPS ((int)(sizeof names / sizeof names[0]))

int cap_from_name(const char *name) {
  if (name == NULL)
    return -EINVAL;
  if (strncasecmp(name, "CAP_", 4) == 0)
    name += 4;
  for (int i = 0; i < N_CAPS; i++)
    if (strcasecmp(name, names[i]) == 0)
      return i;
  return -EINVAL;
}

uint64_t caps_docker_default(void) {
  static const char *const def[] = {"CHOWN",  "DAC_OVERRIDE", "FSETID",  "FOWNER",
                                    "MKNOD",  "NET_RAW",      "SETGID",  "SETUID",
                                    "SETFCAP", "SETPCAP",     "NET_BIND_SERVICE",
                                    "SYS_CHROOT", "KILL",     "AUDIT_WRITE"};
  uint64_t m = 0;
  for (size_t i = 0; i < sizeof def / sizeof def[0]; i++)
    m |= 1ULL << cap_from_name(def[i]);
  return m;
}

static bool has_all(char *const *v) {
  for (size_t i = 0; v && v[i]; i++)
    if (strcasecmp(v[i], "ALL") == 0)
      return true;
  return false;
}

/* The bits of v's names ("ALL" skipped). */
static int mask_of(char *const *v, const char *what, uint64_t *out, struct stack_error **err) {
  *out = 0;
  for (size_t i = 0; v && v[i]; i++) {
    if (strcasecmp(v[i], "ALL") == 0)
      continue;
    int c = cap_from_name(v[i]);
    if (c < 0)
      return stack_error_set(err, -EINVAL, "%s: unknown capability \"%s\"", what, v[i]);
    *out |= 1ULL << c;
  }
  return 0;
}

int caps_compute(bool privileged, char *const *add, char *const *drop, uint64_t *out,
                 struct stack_error **err) {
  /* every bit, also of capabilities newer than this table */
  const uint64_t all = UINT64_MAX;
  uint64_t a, d;
  int r;
  if ((r = mask_of(add, "cap_add", &a, err)) < 0 || (r = mask_of(drop, "cap_drop", &d, err)) < 0)
    return r;
  if (privileged)
    *out = all;
  else if (has_all(add))
    *out = all & ~d;
  else if (has_all(drop))
    *out = a;
  else
    *out = (caps_docker_default() | a) & ~d;
  return 0;
}
