/* Durations and byte sizes as Compose writes them (Go's time.ParseDuration
 * and docker/go-units' RAMInBytes), and durations printed back as Go's
 * time.Duration.String() does, which is what `docker compose config` shows. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "compose_canonical_util.h"
#include "compose_model.h"
#include "runtime/util/sbuf.h"
#include "runtime/util/xalloc.h"

int compose_parse_duration(const char *s, int64_t *ns) {
  const char *p = s;
  bool neg = false;
  if (*p == '+' || *p == '-')
    neg = *p++ == '-';
  if (!strcmp(p, "0")) {
    *ns = 0;
    return 0;
  }
  if (*p == '\0')
    return -EINVAL;
  long double total = 0;
  while (*p) {
    const char *start = p;
    long double v = 0;
    bool digits = false;
    while (*p >= '0' && *p <= '9')
      v = v * 10 + (*p++ - '0'), digits = true;
    if (*p == '.') {
      p++;
      long double scale = 0.1L;
      while (*p >= '0' && *p <= '9')
        v += (*p++ - '0') * scale, scale /= 10, digits = true;
    }
    if (!digits || p == start)
      return -EINVAL;
    static const struct {
      const char *unit;
      long double mult;
    } units[] = {{"ns", 1},       {"us", 1e3},       {"\xc2\xb5s", 1e3}, {"\xce\xbcs", 1e3},
                 {"ms", 1e6},     {"s", 1e9},        {"m", 60e9},        {"h", 3600e9}};
    size_t best = 0, best_len = 0;
    for (size_t i = 0; i < sizeof(units) / sizeof(units[0]); i++) {
      size_t l = strlen(units[i].unit);
      if (strncmp(p, units[i].unit, l) == 0 && l > best_len)
        best = i, best_len = l;
    }
    if (best_len == 0)
      return -EINVAL; /* a unit is required */
    p += best_len;
    total += v * units[best].mult;
  }
  if (total > (long double)INT64_MAX)
    return -ERANGE;
  total += 0.5L; /* round to the nearest nanosecond */
  *ns = neg ? -(int64_t)total : (int64_t)total;
  return 0;
}

/* The digits of v / 10^prec after the point, trailing zeros dropped, as Go's
 * fmtFrac; returns v / 10^prec. */
static uint64_t frac(struct sbuf *b, uint64_t v, int prec) {
  char buf[32];
  int n = 0;
  bool print = false;
  for (int i = 0; i < prec; i++) {
    int digit = (int)(v % 10);
    print = print || digit != 0;
    if (print)
      buf[n++] = (char)('0' + digit);
    v /= 10;
  }
  if (print) {
    sbuf_putc(b, '.');
    while (n > 0)
      sbuf_putc(b, buf[--n]);
  }
  return v;
}

char *compose_format_duration(int64_t d) {
  if (d == 0)
    return xstrdup("0s");
  struct sbuf b = SBUF_INIT;
  uint64_t u = d < 0 ? (uint64_t)0 - (uint64_t)d : (uint64_t)d;
  if (d < 0)
    sbuf_putc(&b, '-');
  if (u < 1000000000ull) {
    if (u < 1000ull) {
      sbuf_printf(&b, "%lluns", (unsigned long long)u);
    } else {
      const char *unit = u < 1000000ull ? "\xc2\xb5s" : "ms";
      int prec = u < 1000000ull ? 3 : 6;
      struct sbuf f = SBUF_INIT;
      uint64_t whole = frac(&f, u, prec);
      sbuf_printf(&b, "%llu%s%s", (unsigned long long)whole, f.data ? f.data : "", unit);
      sbuf_free(&f);
    }
    return sbuf_steal(&b);
  }
  struct sbuf f = SBUF_INIT;
  uint64_t secs = frac(&f, u, 9);
  uint64_t h = secs / 3600, m = (secs / 60) % 60, s = secs % 60;
  if (h > 0)
    sbuf_printf(&b, "%lluh%llum", (unsigned long long)h, (unsigned long long)m);
  else if (secs >= 60)
    sbuf_printf(&b, "%llum", (unsigned long long)m);
  sbuf_printf(&b, "%llu%ss", (unsigned long long)s, f.data ? f.data : "");
  sbuf_free(&f);
  return sbuf_steal(&b);
}

int compose_parse_bytes(const char *s, int64_t *bytes) {
  /* ^(\d+(\.\d+)*) ?([kKmMgGtTpP])?[iI]?[bB]?$ with 1024 steps, and -1
   * (unlimited, for memswap_limit) */
  if (!strcmp(s, "-1")) {
    *bytes = -1;
    return 0;
  }
  const char *p = s;
  if (!(*p >= '0' && *p <= '9'))
    return -EINVAL;
  char *end;
  long double v = strtold(p, &end);
  p = end;
  if (*p == ' ')
    p++;
  long double mult = 1;
  const char *units = "kmgtp";
  if (*p) {
    const char *u = strchr(units, *p | 0x20);
    if (u && *p != '\0') {
      for (const char *q = units; q <= u; q++)
        mult *= 1024;
      p++;
    }
  }
  if (*p == 'i' || *p == 'I')
    p++;
  if (*p == 'b' || *p == 'B')
    p++;
  if (*p != '\0')
    return -EINVAL;
  long double r = v * mult;
  if (r > (long double)INT64_MAX)
    return -ERANGE;
  *bytes = (int64_t)r;
  return 0;
}
