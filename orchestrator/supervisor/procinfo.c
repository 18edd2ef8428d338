#include "procinfo.h"

#include <errno.h>
#include <fcntl.h>
#include <unistd.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "runtime/util/cleanup.h"
#include "runtime/util/error.h"
#include "runtime/util/fsutil.h"

int proc_parse_stat_start_time(const char *stat, uint64_t *out) {
  return proc_parse_stat_field(stat, 22, out);
}

int proc_parse_stat_field(const char *stat, int want, uint64_t *out) {
  /* The command name (field 2) is in parentheses and may itself contain
   * ") ": fields are counted from the last ')'. */
  const char *p = strrchr(stat, ')');
  if (want < 4 || p == NULL || p[1] != ' ')
    return -EINVAL;
  p += 2; /* field 3, the state */
  for (int field = 3; field < want; field++) {
    p = strchr(p, ' ');
    if (p == NULL)
      return -EINVAL;
    p++;
  }
  if (*p < '0' || *p > '9')
    return -EINVAL;
  char *end;
  errno = 0;
  unsigned long long v = strtoull(p, &end, 10);
  if (errno || (*end != ' ' && *end != '\n' && *end != '\0'))
    return -EINVAL;
  *out = v;
  return 0;
}

static int read_stat(pid_t pid, char **text, struct stack_error **err) {
  char path[64];
  snprintf(path, sizeof(path), "/proc/%d/stat", (int)pid);
  int r = fs_read_file(path, 4096, text, NULL, NULL);
  if (r == -ENOENT)
    return stack_error_set(err, -ESRCH, "no process %d", (int)pid);
  if (r < 0)
    return stack_error_errno(err, r, "cannot read %s", path);
  return 0;
}

int proc_start_time(pid_t pid, uint64_t *out, struct stack_error **err) {
  if (pid <= 0)
    return stack_error_set(err, -ESRCH, "no process %d", (int)pid);
  _cleanup_free_ char *text = NULL;
  int r = read_stat(pid, &text, err);
  if (r < 0)
    return r;
  if (proc_parse_stat_start_time(text, out) < 0)
    return stack_error_set(err, -EINVAL, "cannot parse /proc/%d/stat", (int)pid);
  return 0;
}

bool proc_is_same(pid_t pid, uint64_t start_time) {
  if (pid <= 0)
    return false;
  _cleanup_free_ char *text = NULL;
  uint64_t t;
  if (read_stat(pid, &text, NULL) < 0 || proc_parse_stat_start_time(text, &t) < 0)
    return false;
  const char *state = strrchr(text, ')') + 2;
  return t == start_time && *state != 'Z' && *state != 'X';
}
