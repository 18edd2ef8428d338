/* The STATUS and CREATED texts of `ps`, worded as Docker words them
 * ("Up 5 seconds (healthy)", "Exited (1) 3 minutes ago"). */
#ifndef STACK_SUPERVISOR_PS_STATUS_H
#define STACK_SUPERVISOR_PS_STATUS_H

#include <stdint.h>

#include "container_status.h"
#include "health.h"

/* go-units' HumanDuration: "Less than a second", "1 second", "About a
 * minute", "3 hours", "2 weeks", ... (caller frees). */
char *ps_human_duration(int64_t ms);

/* The STATUS column for a container (times in ms since the epoch). */
char *ps_status_text(enum ctr_status status, int exit_code, enum health_status health,
                     int64_t started_ms, int64_t finished_ms, int64_t now_ms);

#endif
