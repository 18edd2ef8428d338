#include "cli_top_rows.h"

#include <cjson/cJSON.h>
#include <stdio.h>
#include <stdlib.h>

#include "cli_table.h"
#include "cli_top_parse.h"
#include "runtime/util/cleanup.h"
#include "runtime/util/xalloc.h"

void top_tty_name(uint32_t dev, char *out, size_t len) {
  /* the kernel's new_encode_dev() layout, as /proc/PID/stat has it */
  unsigned major = (dev >> 8) & 0xfff, minor = (dev & 0xff) | ((dev >> 12) & 0xfff00);
  if (dev == 0)
    snprintf(out, len, "?");
  else if (major >= 136 && major <= 143)
    snprintf(out, len, "pts/%u", (major - 136) * 256 + minor);
  else if (major == 4 && minor < 64)
    snprintf(out, len, "tty%u", minor);
  else if (major == 4)
    snprintf(out, len, "ttyS%u", minor - 64);
  else if (major == 5 && minor == 1)
    snprintf(out, len, "console");
  else
    snprintf(out, len, "%u:%u", major, minor);
}

void top_cpu_time(uint64_t cpu_ms, char *out, size_t len) {
  uint64_t s = cpu_ms / 1000, days = s / 86400;
  if (days)
    snprintf(out, len, "%llu-%02u:%02u:%02u", (unsigned long long)days,
             (unsigned)(s / 3600 % 24), (unsigned)(s / 60 % 60), (unsigned)(s % 60));
  else
    snprintf(out, len, "%02u:%02u:%02u", (unsigned)(s / 3600), (unsigned)(s / 60 % 60),
             (unsigned)(s % 60));
}

void top_start_time(time_t start, time_t now, char *out, size_t len) {
  struct tm st, nt;
  if (localtime_r(&start, &st) == NULL || localtime_r(&now, &nt) == NULL) {
    snprintf(out, len, "?");
    return;
  }
  size_t n = st.tm_year != nt.tm_year   ? strftime(out, len, "%Y", &st)
             : st.tm_yday != nt.tm_yday ? strftime(out, len, "%b%d", &st)
                                        : strftime(out, len, "%H:%M", &st);
  if (n == 0)
    snprintf(out, len, "?");
}

unsigned top_cpu_percent(uint64_t cpu_ms, uint64_t age_ms) {
  if (age_ms == 0)
    return 0;
  uint64_t pct = cpu_ms >= UINT64_MAX / 100 ? 99 : cpu_ms * 100 / age_ms;
  return pct > 99 ? 99 : (unsigned)pct;
}

/* A number field within [0, max], or -1. */
static double num(const cJSON *o, const char *key, double max) {
  const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, key);
  return cJSON_IsNumber(v) && v->valuedouble >= 0 && v->valuedouble <= max ? v->valuedouble : -1;
}

static const char *text(const cJSON *o, const char *key) {
  const char *s = cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(o, key));
  return s ? s : "";
}

size_t top_rows_add(const cJSON *result, time_t now, struct cli_table *t) {
  size_t rows = 0;
  const cJSON *p;
  cJSON_ArrayForEach(p, cJSON_GetObjectItemCaseSensitive(result, "processes")) {
    double pid = num(p, "pid", UINT32_MAX), ppid = num(p, "ppid", UINT32_MAX);
    double uid = num(p, "uid", UINT32_MAX), tty = num(p, "tty", UINT32_MAX);
    double age = num(p, "age_ms", 1e15), cpu = num(p, "cpu_ms", 1e15);
    if (!cJSON_IsObject(p) || pid < 0)
      continue;
    char c_uid[48], c_pid[16], c_ppid[16], c_c[8], c_stime[16], c_tty[24], c_time[32];
    const char *user = text(p, "user");
    if (*user)
      snprintf(c_uid, sizeof(c_uid), "%.40s", user);
    else
      snprintf(c_uid, sizeof(c_uid), "%.0f", uid < 0 ? 0 : uid);
    snprintf(c_pid, sizeof(c_pid), "%.0f", pid);
    snprintf(c_ppid, sizeof(c_ppid), "%.0f", ppid < 0 ? 0 : ppid);
    uint64_t age_ms = age < 0 ? 0 : (uint64_t)age, cpu_ms = cpu < 0 ? 0 : (uint64_t)cpu;
    snprintf(c_c, sizeof(c_c), "%u", top_cpu_percent(cpu_ms, age_ms));
    top_start_time(now - (time_t)(age_ms / 1000), now, c_stime, sizeof(c_stime));
    top_tty_name(tty < 0 ? 0 : (uint32_t)tty, c_tty, sizeof(c_tty));
    top_cpu_time(cpu_ms, c_time, sizeof(c_time));
    _cleanup_free_ char *uid_col = top_printable(c_uid);
    _cleanup_free_ char *cmd = top_printable(text(p, "cmd"));
    const char *row[TOP_NCOLS] = {uid_col, c_pid, c_ppid, c_c, c_stime, c_tty, c_time, cmd};
    cli_table_add(t, row);
    rows++;
  }
  return rows;
}

uint32_t *top_rows_pids(const cJSON *result, size_t *n) {
  const cJSON *arr = cJSON_GetObjectItemCaseSensitive(result, "processes");
  int size = cJSON_GetArraySize(arr);
  uint32_t *v = xcalloc((size_t)(size > 0 ? size : 0) + 1, sizeof(*v));
  size_t k = 0;
  const cJSON *p;
  cJSON_ArrayForEach(p, arr) {
    double pid = num(p, "pid", UINT32_MAX);
    if (pid >= 0 && k < (size_t)size)
      v[k++] = (uint32_t)pid;
  }
  *n = k;
  return v;
}
