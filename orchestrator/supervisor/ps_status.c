#include "ps_status.h"

#include <stdlib.h>

#include "runtime/util/humanize.h"
#include "runtime/util/xalloc.h"

char *ps_status_text(enum ctr_status status, const char *pause_reason, int exit_code,
                     enum health_status health, int64_t started_ms, int64_t finished_ms,
                     int64_t now_ms) {
  int64_t since_start = now_ms > started_ms ? now_ms - started_ms : 0;
  int64_t since_end = now_ms > finished_ms ? now_ms - finished_ms : 0;
  char *d = NULL, *out = NULL;
  switch (status) {
  case CTR_RUNNING:
  case CTR_PAUSED:
    d = human_duration(since_start);
    if (status == CTR_PAUSED && pause_reason && *pause_reason)
      out = xasprintf("Up %s (Paused: %s)", d, pause_reason);
    else if (status == CTR_PAUSED)
      out = xasprintf("Up %s (Paused)", d);
    else if (health != HEALTH_NONE)
      out = xasprintf("Up %s (%s)", d, health_status_name(health));
    else
      out = xasprintf("Up %s", d);
    break;
  case CTR_RESTARTING:
    d = human_duration(since_end);
    out = xasprintf("Restarting (%d) %s ago", exit_code, d);
    break;
  case CTR_EXITED:
    d = human_duration(since_end);
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
