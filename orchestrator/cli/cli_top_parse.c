#include "cli_top_parse.h"

#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include "cli_table.h"
#include "runtime/util/cleanup.h"
#include "runtime/util/xalloc.h"

static bool is_space(char c) { return c == ' ' || c == '\t'; }

/* One line (NUL-free copy): five fields, then the command with its spaces. */
static bool add_line(char *line, struct cli_table *t) {
  char *cols[TOP_NCOLS];
  char *p = line;
  for (int i = 0; i < TOP_NCOLS - 1; i++) {
    while (is_space(*p))
      p++;
    if (*p == '\0')
      return false;
    cols[i] = p;
    while (*p && !is_space(*p))
      p++;
    if (*p == '\0')
      return false;
    *p++ = '\0';
  }
  while (is_space(*p))
    p++;
  size_t n = strlen(p);
  while (n && (is_space(p[n - 1]) || p[n - 1] == '\r'))
    p[--n] = '\0';
  if (n == 0 || p[0] == '[')
    return false; /* kernel threads have no command line */
  cols[TOP_NCOLS - 1] = p;
  static const char *const self[] = TOP_PS_ARGV;
  _cleanup_free_ char *own = xasprintf("%s %s %s", self[0], self[1], self[2]);
  if (strcmp(p, own) == 0)
    return false;
  cli_table_add(t, (const char *const *)cols);
  return true;
}

size_t top_parse_ps(const char *text, size_t len, struct cli_table *t) {
  size_t rows = 0;
  bool header = true;
  for (size_t i = 0; i < len;) {
    const char *nl = memchr(text + i, '\n', len - i);
    size_t n = nl ? (size_t)(nl - (text + i)) : len - i;
    _cleanup_free_ char *line = xstrndup(text + i, n); /* stops at a NUL byte */
    i += n + 1;
    if (header) {
      header = false; /* "USER PID PPID STAT TT COMMAND" */
      continue;
    }
    rows += add_line(line, t);
  }
  return rows;
}
