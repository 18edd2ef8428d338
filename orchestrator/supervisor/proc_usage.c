#include "proc_usage.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "procinfo.h"
#include "runtime/util/cleanup.h"
#include "runtime/util/error.h"
#include "runtime/util/fsutil.h"

/* The number after "key:" at the start of a line of text. */
static int line_value(const char *text, const char *key, uint64_t *out) {
  size_t klen = strlen(key);
  for (const char *p = text; p && *p; p = strchr(p, '\n'), p = p ? p + 1 : NULL) {
    if (strncmp(p, key, klen) != 0 || p[klen] != ':')
      continue;
    p += klen + 1;
    while (*p == ' ' || *p == '\t')
      p++;
    if (*p < '0' || *p > '9')
      return -EINVAL;
    char *end;
    errno = 0;
    unsigned long long v = strtoull(p, &end, 10);
    if (errno)
      return -EINVAL;
    *out = v;
    return 0;
  }
  return -EINVAL;
}

int proc_parse_pss(const char *smaps_rollup, uint64_t *bytes) {
  uint64_t kb;
  int r = line_value(smaps_rollup, "Pss", &kb);
  if (r < 0)
    return r;
  if (kb > UINT64_MAX / 1024)
    return -EINVAL;
  *bytes = kb * 1024;
  return 0;
}

int proc_parse_io_field(const char *io, const char *key, uint64_t *out) {
  return line_value(io, key, out);
}

static int read_proc(pid_t pid, const char *file, size_t max, char **text,
                     struct stack_error **err) {
  char path[64];
  snprintf(path, sizeof(path), "/proc/%d/%s", (int)pid, file);
  int r = fs_read_file(path, max, text, NULL, NULL);
  if (r == -ENOENT || r == -ESRCH)
    return stack_error_set(err, -ESRCH, "no process %d", (int)pid);
  if (r < 0)
    return stack_error_errno(err, r, "cannot read %s", path);
  return 0;
}

int proc_usage_read(pid_t pid, struct proc_usage *out, struct stack_error **err) {
  _cleanup_free_ char *stat = NULL, *smaps = NULL, *io = NULL;
  int r;
  if ((r = read_proc(pid, "stat", 4096, &stat, err)) < 0 ||
      (r = read_proc(pid, "smaps_rollup", 1 << 16, &smaps, err)) < 0)
    return r;
  uint64_t ut, st;
  if (proc_parse_stat_field(stat, 14, &ut) < 0 || proc_parse_stat_field(stat, 15, &st) < 0)
    return stack_error_set(err, -EINVAL, "cannot parse /proc/%d/stat", (int)pid);
  if (proc_parse_pss(smaps, &out->pss_bytes) < 0)
    return stack_error_set(err, -EINVAL, "cannot parse /proc/%d/smaps_rollup", (int)pid);
  long hz = sysconf(_SC_CLK_TCK);
  out->cpu_ns = (ut + st) * (1000000000ULL / (uint64_t)(hz > 0 ? hz : 100));
  /* I/O accounting may be off in the kernel: then no figures, not an error */
  out->read_bytes = out->write_bytes = 0;
  if (read_proc(pid, "io", 4096, &io, NULL) == 0) {
    proc_parse_io_field(io, "read_bytes", &out->read_bytes);
    proc_parse_io_field(io, "write_bytes", &out->write_bytes);
  }
  return 0;
}
