/* What a container's VM costs the host, read from its QEMU process's
 * /proc files: CPU time, memory (PSS: shared page cache counted once
 * across VMs) and disk I/O, for `stack stats`. */
#ifndef STACK_SUPERVISOR_PROC_USAGE_H
#define STACK_SUPERVISOR_PROC_USAGE_H

#include <stdint.h>
#include <sys/types.h>

struct stack_error;

struct proc_usage {
  uint64_t cpu_ns;      /* user + system time so far */
  uint64_t pss_bytes;   /* proportional set size */
  uint64_t read_bytes;  /* from storage (/proc/<pid>/io) */
  uint64_t write_bytes; /* to storage */
};

/* Reads pid's usage; -ESRCH when it is gone. */
int proc_usage_read(pid_t pid, struct proc_usage *out, struct stack_error **err);

/* Pure parsers of the files' texts, for tests: -EINVAL when the value is
 * missing or malformed. */
/* "Pss:   1234 kB" of smaps_rollup, in bytes. */
int proc_parse_pss(const char *smaps_rollup, uint64_t *bytes);
/* "key: N" lines of /proc/<pid>/io ("read_bytes", "write_bytes"). */
int proc_parse_io_field(const char *io, const char *key, uint64_t *out);

#endif
