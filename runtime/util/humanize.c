#include "humanize.h"

#include "xalloc.h"

char *human_duration(int64_t ms) {
  int64_t s = ms / 1000;
  int64_t minutes = ms / 60000;
  int64_t hours = (ms + 1800000) / 3600000; /* rounded, as go-units does */
  if (s < 1)
    return xstrdup("Less than a second");
  if (s == 1)
    return xstrdup("1 second");
  if (s < 60)
    return xasprintf("%lld seconds", (long long)s);
  if (minutes == 1)
    return xstrdup("About a minute");
  if (minutes < 60)
    return xasprintf("%lld minutes", (long long)minutes);
  if (hours == 1)
    return xstrdup("About an hour");
  if (hours < 48)
    return xasprintf("%lld hours", (long long)hours);
  if (hours < 24 * 7 * 2)
    return xasprintf("%lld days", (long long)(hours / 24));
  if (hours < 24 * 30 * 2)
    return xasprintf("%lld weeks", (long long)(hours / 24 / 7));
  if (hours < 24 * 365 * 2)
    return xasprintf("%lld months", (long long)(hours / 24 / 30));
  return xasprintf("%lld years", (long long)(hours / 24 / 365));
}
