#include "cli_top_parse.h"

#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include "cli_table.h"
#include "runtime/util/cleanup.h"
#include "runtime/util/xalloc.h"

static bool is_space(char c) { return c == ' ' || c == '\t' || c == '\r'; }

char *top_printable(const char *s) {
  char *out = xstrdup(s);
  for (unsigned char *p = (unsigned char *)out; *p; p++)
    if (*p < 0x20 || *p == 0x7f)
      *p = '?';
  return out;
}

/* Splits line (in place) into at most max fields, the last one taking the
 * rest of the line with single blanks between its words, as docker top
 * joins them; returns the count. */
static size_t split(char *line, char **f, size_t max) {
  size_t n = 0;
  char *p = line;
  for (;;) {
    while (is_space(*p))
      p++;
    if (*p == '\0' || n == max)
      break;
    f[n++] = p;
    while (*p && !is_space(*p))
      p++;
    if (*p == '\0')
      break;
    *p++ = '\0';
  }
  if (n == max && *p) {
    /* rejoin the rest into the last field */
    char *last = f[max - 1];
    size_t o = strlen(last);
    while (*p) {
      while (is_space(*p))
        p++;
      if (*p == '\0')
        break;
      last[o++] = ' ';
      while (*p && !is_space(*p))
        last[o++] = *p++;
    }
    last[o] = '\0';
  }
  return n;
}

/* Adds the fields as a row (the header: makes the table), control
 * characters shown as '?'. */
static void add_printable(struct cli_table *t, char **f, size_t n, bool header) {
  char **row = xcalloc(n, sizeof(*row));
  for (size_t i = 0; i < n; i++)
    row[i] = top_printable(f[i]);
  if (header)
    cli_table_init(t, n, (const char *const *)row);
  else
    cli_table_add(t, (const char *const *)row);
  for (size_t i = 0; i < n; i++)
    free(row[i]);
  free(row);
}

static bool has_pid(const uint32_t *pids, size_t n, const char *s) {
  char *end;
  unsigned long v = strtoul(s, &end, 10);
  if (*s < '0' || *s > '9' || *end || v > UINT32_MAX)
    return false;
  for (size_t i = 0; i < n; i++)
    if (pids[i] == v)
      return true;
  return false;
}

int top_parse_ps(const char *text, size_t len, const uint32_t *pids, size_t n,
                 struct cli_table *t) {
  size_t ncols = 0, pid_col = 0, rows = 0;
  char **f = NULL;
  bool after_listed = false;
  for (size_t i = 0; i < len;) {
    const char *nl = memchr(text + i, '\n', len - i);
    size_t ll = nl ? (size_t)(nl - (text + i)) : len - i;
    _cleanup_free_ char *line = xstrndup(text + i, ll); /* stops at a NUL byte */
    i += ll + 1;
    if (ncols == 0) {
      /* the header: at most 64 columns, and one of them PID */
      char *hf[64];
      size_t k = split(line, hf, 64);
      for (pid_col = 0; pid_col < k && strcmp(hf[pid_col], "PID") != 0; pid_col++)
        ;
      if (pid_col == k)
        return -1;
      ncols = k;
      add_printable(t, hf, ncols, true);
      f = xcalloc(ncols, sizeof(*f));
      continue;
    }
    size_t k = split(line, f, ncols);
    if (k <= pid_col)
      continue;
    bool listed = strcmp(f[pid_col], "-") == 0 ? after_listed : has_pid(pids, n, f[pid_col]);
    if (strcmp(f[pid_col], "-") != 0)
      after_listed = listed;
    if (!listed)
      continue;
    for (size_t c = k; c < ncols; c++)
      f[c] = (char *)"";
    add_printable(t, f, ncols, false);
    rows++;
  }
  free(f);
  return ncols ? (int)rows : -1;
}
