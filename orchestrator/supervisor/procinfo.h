/* Process identity across supervisor restarts: a pid alone may have been
 * reused, the pid plus the kernel's start time of the process may not. */
#ifndef STACK_SUPERVISOR_PROCINFO_H
#define STACK_SUPERVISOR_PROCINFO_H

#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>

struct stack_error;

/* The start time of pid (clock ticks after boot, /proc/<pid>/stat field
 * 22); -ESRCH if there is no such process. */
int proc_start_time(pid_t pid, uint64_t *out, struct stack_error **err);

/* Parses the text of a /proc/<pid>/stat file for its start time; -EINVAL
 * if it is malformed. */
int proc_parse_stat_start_time(const char *stat, uint64_t *out);

/* Parses numeric field `field` (1-based as in proc(5), >= 4) of a
 * /proc/<pid>/stat text; -EINVAL if it is malformed. */
int proc_parse_stat_field(const char *stat, int field, uint64_t *out);

/* Whether pid is still the process that had start_time (not a zombie). */
bool proc_is_same(pid_t pid, uint64_t start_time);

#endif
