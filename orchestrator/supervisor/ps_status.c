#include "ps_status.h"

#include <stdlib.h>

#include "runtime/util/xalloc.h"

char *ps_human_duration(int64_t ms) {
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

char *ps_status_text(enum ctr_status status, int exit_code, enum health_status health,
                     int64_t started_ms, int64_t finished_ms, int64_t now_ms) {
  int64_t since_start = now_ms > started_ms ? now_ms - started_ms : 0;
  int64_t since_end = now_ms > finished_ms ? now_ms - finished_ms : 0;
  char *d = NULL, *out = NULL;
  switch (status) {
  case CTR_RUNNING:
  case CTR_PAUSED:
    d = ps_human_duration(since_start);
    if (status == CTR_PAUSED)
      out = xasprintf("Up %s (Paused)", d);
    else if (health != HEALTH_NONE)
      out = xasprintf("Up %s (%s)", d, health_status_name(health));
    else
      out = xasprintf("Up %s", d);
    break;
  case CTR_RESTARTING:
    d = ps_human_duration(since_end);
    out = xasprintf("Restarting (%d) %s ago", exit_code, d);
    break;
  case CTR_EXITED:
    d = ps_human_duration(since_end);
    out = xasprintf("Exited (%d) %s ago", exit_code, d);
    break;
  case CTR_DEAD:
    out = xstrdup("Dead");
    break;
  case CTR_REMOVING:
    out = xstrdup("Removal In Progress");
    break;
  case CTR_CREATED:
  default:
    out = xstrdup("Created");
  }
  free(d);
  return out;
}
