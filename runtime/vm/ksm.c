#include "runtime/vm/ksm.h"

#include <dirent.h>
#include <stddef.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "runtime/util/cleanup.h"
#include "runtime/util/error.h"
#include "runtime/util/fsutil.h"
#include "runtime/util/xalloc.h"

static const char *base(const char *dir) { return dir ? dir : KSM_SYSFS; }

/* The number in dir/name; -ENOENT when the file is missing. */
static int read_num(const char *dir, const char *name, int64_t *out) {
  _cleanup_free_ char *path = fs_path_join(base(dir), name);
  _cleanup_free_ char *text = NULL;
  int r = fs_read_file(path, 64, &text, NULL, NULL);
  if (r < 0)
    return r;
  char *end = NULL;
  errno = 0;
  long long v = strtoll(text, &end, 10);
  if (end == text || errno)
    return -EINVAL;
  *out = v;
  return 0;
}

static int write_num(const char *dir, const char *name, uint64_t v, struct stack_error **err) {
  _cleanup_free_ char *path = fs_path_join(base(dir), name);
  FILE *f = fopen(path, "we");
  if (f == NULL)
    return stack_error_errno(err, -errno, "cannot open %s", path);
  int w = fprintf(f, "%llu\n", (unsigned long long)v);
  int e = errno;
  if (fclose(f) != 0 || w < 0)
    return stack_error_errno(err, -(w < 0 ? e : errno), "cannot write %llu to %s",
                             (unsigned long long)v, path);
  return 0;
}

/* ksmd's user + system time from /proc/<pid>/stat, -1 if not found. */
static double ksmd_cpu(void) {
  DIR *d = opendir("/proc");
  if (d == NULL)
    return -1;
  double cpu = -1;
  long hz = sysconf(_SC_CLK_TCK);
  struct dirent *de;
  while (cpu < 0 && (de = readdir(d)) != NULL) {
    if (de->d_name[0] < '1' || de->d_name[0] > '9')
      continue;
    _cleanup_free_ char *path = xasprintf("/proc/%s/stat", de->d_name);
    _cleanup_free_ char *stat = NULL;
    if (fs_read_file(path, 4096, &stat, NULL, NULL) < 0 || strstr(stat, " (ksmd) ") == NULL)
      continue;
    /* fields after the command: state is 3rd, utime 14th, stime 15th */
    const char *p = strrchr(stat, ')');
    unsigned long long ut = 0, st = 0;
    if (p && sscanf(p + 2, "%*c %*d %*d %*d %*d %*d %*u %*u %*u %*u %*u %llu %llu", &ut, &st) == 2)
      cpu = (double)(ut + st) / (double)(hz > 0 ? hz : 100);
  }
  closedir(d);
  return cpu;
}

int ksm_read(const char *dir, struct ksm_status *out, struct stack_error **err) {
  memset(out, 0, sizeof *out);
  out->run = -1;
  out->general_profit = -1;
  out->ksmd_cpu_s = -1;
  int64_t v = 0;
  int r = read_num(dir, "run", &v);
  if (r == -ENOENT)
    return stack_error_set(err, -ENOENT,
                           "this kernel has no KSM (%s is missing: CONFIG_KSM is off)", base(dir));
  if (r < 0)
    return stack_error_errno(err, r, "cannot read %s/run", base(dir));
  out->run = (int)v;
  static const struct {
    const char *name;
    size_t off;
  } fields[] = {
      {"pages_to_scan", offsetof(struct ksm_status, pages_to_scan)},
      {"sleep_millisecs", offsetof(struct ksm_status, sleep_ms)},
      {"pages_shared", offsetof(struct ksm_status, pages_shared)},
      {"pages_sharing", offsetof(struct ksm_status, pages_sharing)},
      {"pages_unshared", offsetof(struct ksm_status, pages_unshared)},
      {"full_scans", offsetof(struct ksm_status, full_scans)},
  };
  for (size_t i = 0; i < sizeof fields / sizeof fields[0]; i++)
    if (read_num(dir, fields[i].name, &v) == 0 && v >= 0)
      *(uint64_t *)((char *)out + fields[i].off) = (uint64_t)v;
  if (read_num(dir, "general_profit", &v) == 0)
    out->general_profit = v;
  if (read_num(dir, "use_zero_pages", &v) == 0)
    out->use_zero_pages = v != 0;
  if (dir == NULL)
    out->ksmd_cpu_s = ksmd_cpu();
  return 0;
}

int ksm_on(const char *dir, unsigned pages, unsigned sleep_ms, struct stack_error **err) {
  struct ksm_status st;
  int r = ksm_read(dir, &st, err);
  if (r < 0)
    return r;
  if ((r = write_num(dir, "pages_to_scan", pages ? pages : KSM_DEFAULT_PAGES, err)) < 0 ||
      (r = write_num(dir, "sleep_millisecs", sleep_ms ? sleep_ms : KSM_DEFAULT_SLEEP_MS, err)) <
          0)
    return r;
  /* free guest pages are zero more often than not: merging them with the
   * zero page needs no stable tree entry (absent before Linux 4.14) */
  _cleanup_free_ char *zp = fs_path_join(base(dir), "use_zero_pages");
  if (access(zp, F_OK) == 0 && (r = write_num(dir, "use_zero_pages", 1, err)) < 0)
    return r;
  return write_num(dir, "run", 1, err);
}

int ksm_off(const char *dir, bool unmerge, struct stack_error **err) {
  struct ksm_status st;
  int r = ksm_read(dir, &st, err);
  if (r < 0)
    return r;
  return write_num(dir, "run", unmerge ? 2 : 0, err);
}
