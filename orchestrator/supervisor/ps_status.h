/* The STATUS and CREATED texts of `ps`, worded as Docker words them
 * ("Up 5 seconds (healthy)", "Exited (1) 3 minutes ago"). */
#ifndef STACK_SUPERVISOR_PS_STATUS_H
#define STACK_SUPERVISOR_PS_STATUS_H

#include <stdint.h>

#include "ctr_status.h"
#include "health.h"

/* The STATUS column for a container (times in ms since the epoch); a
 * container paused by QEMU rather than a user says why, pause_reason
 * ("Up 3 minutes (Paused: disk full)"; NULL: Docker's "(Paused)"). */
char *ps_status_text(enum ctr_status status, const char *pause_reason, int exit_code,
                     enum health_status health, int64_t started_ms, int64_t finished_ms,
                     int64_t now_ms);

#endif
