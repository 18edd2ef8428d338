#include "cli_logtime.h"

#include <ctype.h>
#include <errno.h>
#include <math.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

/* Exactly n digits at *p, advancing it. */
static bool digits(const char **p, int n, int *out) {
  int v = 0;
  for (int i = 0; i < n; i++) {
    if (!isdigit((unsigned char)(*p)[i]))
      return false;
    v = v * 10 + ((*p)[i] - '0');
  }
  *p += n;
  *out = v;
  return true;
}

/* A Go duration ("1h30m", "1.5s", "250ms"), in ms. */
static int parse_duration(const char *s, double *out_ms) {
  static const struct {
    const char *unit;
    double ms;
  } units[] = {{"ns", 1e-6}, {"us", 1e-3}, {"\xc2\xb5s", 1e-3}, {"ms", 1},
               {"s", 1000},  {"m", 60000}, {"h", 3600000}};
  double total = 0;
  const char *p = s;
  if (*p == '\0')
    return -EINVAL;
  while (*p) {
    if (!isdigit((unsigned char)*p) && *p != '.')
      return -EINVAL;
    char *end;
    double v = strtod(p, &end);
    if (end == p || !isfinite(v) || v < 0)
      return -EINVAL;
    p = end;
    size_t best = 0;
    double scale = 0;
    for (size_t i = 0; i < sizeof(units) / sizeof(units[0]); i++) {
      size_t n = strlen(units[i].unit);
      /* the longest unit that matches: "ms" before "m" */
      if (n > best && strncmp(p, units[i].unit, n) == 0) {
        best = n;
        scale = units[i].ms;
      }
    }
    if (best == 0)
      return -EINVAL;
    p += best;
    total += v * scale;
    if (total > 1e15)
      return -EINVAL;
  }
  *out_ms = total;
  return 0;
}

/* RFC 3339 and its shorter forms, as Docker's GetTimestamp takes them. */
static int parse_rfc3339(const char *s, int64_t *out_ms) {
  const char *p = s;
  struct tm tm = {0};
  int v;
  if (!digits(&p, 4, &v) || v < 1970)
    return -EINVAL;
  tm.tm_year = v - 1900;
  if (*p++ != '-' || !digits(&p, 2, &v) || v < 1 || v > 12)
    return -EINVAL;
  tm.tm_mon = v - 1;
  if (*p++ != '-' || !digits(&p, 2, &v) || v < 1 || v > 31)
    return -EINVAL;
  tm.tm_mday = v;
  double frac = 0;
  if (*p == 'T' || *p == 't') {
    p++;
    if (!digits(&p, 2, &tm.tm_hour) || tm.tm_hour > 23 || *p++ != ':' ||
        !digits(&p, 2, &tm.tm_min) || tm.tm_min > 59)
      return -EINVAL;
    if (*p == ':') {
      p++;
      if (!digits(&p, 2, &tm.tm_sec) || tm.tm_sec > 60)
        return -EINVAL;
      if (*p == '.') {
        const char *f = p;
        p++;
        if (!isdigit((unsigned char)*p))
          return -EINVAL;
        while (isdigit((unsigned char)*p))
          p++;
        frac = strtod(f, NULL);
      }
    }
  }
  bool utc = false;
  int offset_min = 0;
  if (*p == 'Z' || *p == 'z') {
    utc = true;
    p++;
  } else if (*p == '+' || *p == '-') {
    int sign = *p++ == '-' ? -1 : 1, hh, mm;
    if (!digits(&p, 2, &hh) || *p++ != ':' || !digits(&p, 2, &mm) || hh > 23 || mm > 59)
      return -EINVAL;
    utc = true;
    offset_min = sign * (hh * 60 + mm);
  }
  if (*p != '\0')
    return -EINVAL;
  time_t t;
  if (utc) {
    t = timegm(&tm) - (time_t)offset_min * 60;
  } else {
    tm.tm_isdst = -1;
    t = mktime(&tm);
  }
  if (t == (time_t)-1)
    return -EINVAL;
  *out_ms = (int64_t)t * 1000 + (int64_t)(frac * 1000);
  return 0;
}

int cli_log_time_parse(const char *s, int64_t now_ms, int64_t *out_ms) {
  if (s == NULL || *s == '\0')
    return -EINVAL;
  if (parse_rfc3339(s, out_ms) == 0)
    return 0;
  /* a Unix timestamp: digits, optionally a fraction */
  const char *p = s;
  while (isdigit((unsigned char)*p))
    p++;
  if (p != s && (*p == '\0' || (*p == '.' && isdigit((unsigned char)p[1])))) {
    const char *q = *p ? p + 1 : p;
    while (isdigit((unsigned char)*q))
      q++;
    if (*q == '\0') {
      if (p - s > 12)
        return -EINVAL;
      *out_ms = (int64_t)(strtod(s, NULL) * 1000);
      return 0;
    }
  }
  double ago;
  if (parse_duration(s, &ago) < 0)
    return -EINVAL;
  *out_ms = now_ms - (int64_t)ago;
  return 0;
}
