/* Health checks on the loop: a timer per container runs the check as an
 * exec session in its guest (health.h decides the timing and the status)
 * and kills a probe that overruns its timeout.  A subscriber of the
 * container table's hook: probes start with the main process, wait while
 * the VM is paused, end with the process; a new status is recorded,
 * emitted and announced (SUP_CHANGE_HEALTH). */
#ifndef STACK_SUPERVISOR_SUP_HEALTH_H
#define STACK_SUPERVISOR_SUP_HEALTH_H

#include "sup_change.h"
#include "sup_loop.h"

void sup_health_on_change(struct supervisor *s, const struct sup_change *ch);

#endif
