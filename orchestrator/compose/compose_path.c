#include "compose_path.h"

#include <stdio.h>
#include <string.h>

#include "runtime/util/sbuf.h"

static bool seg_match(const char *pat, size_t plen, const char *seg) {
  if (plen == 1 && pat[0] == '*')
    return seg != NULL;
  if (plen == 2 && pat[0] == '[' && pat[1] == ']')
    return seg == NULL;
  if (seg == NULL)
    return false;
  size_t sl = strlen(seg);
  const char *alt = pat, *end = pat + plen;
  while (alt < end) {
    const char *bar = memchr(alt, '|', end - alt);
    size_t al = (bar ? bar : end) - alt;
    if (al == sl && memcmp(alt, seg, sl) == 0)
      return true;
    alt = bar ? bar + 1 : end;
  }
  return false;
}

bool cpath_match(const char *pattern, const struct cpath *w) {
  const char *p = pattern;
  for (size_t i = 0; i < w->depth; i++) {
    if (*p == '\0')
      return false;
    const char *dot = strchr(p, '.');
    size_t len = dot ? (size_t)(dot - p) : strlen(p);
    if (!seg_match(p, len, w->segs[i]))
      return false;
    p = dot ? dot + 1 : p + len;
    if (!dot && i + 1 < w->depth)
      return false;
  }
  return *p == '\0';
}

size_t cpath_pattern_depth(const char *pattern) {
  if (*pattern == '\0')
    return 0;
  size_t n = 1;
  for (const char *p = pattern; *p; p++)
    n += *p == '.';
  return n;
}

char *cpath_string(const struct cpath *w) {
  struct sbuf b = SBUF_INIT;
  for (size_t i = 0; i < w->depth; i++) {
    if (w->segs[i])
      sbuf_printf(&b, "%s%s", i ? "." : "", w->segs[i]);
    else
      sbuf_puts(&b, "[]");
  }
  return sbuf_steal(&b);
}

const char *cpath_service(const struct cpath *w) {
  return w->depth >= 2 && w->segs[0] && !strcmp(w->segs[0], "services") ? w->segs[1] : NULL;
}
