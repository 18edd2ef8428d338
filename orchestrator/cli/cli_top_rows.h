/* `stack top`'s table from a container's process list as its guest gave
 * it (the supervisor's "top" answer), in the columns of Docker's `top`
 * (`ps -ef`): UID PID PPID C STIME TTY TIME CMD. */
#ifndef STACK_CLI_TOP_ROWS_H
#define STACK_CLI_TOP_ROWS_H

#include <stddef.h>
#include <stdint.h>
#include <time.h>

typedef struct cJSON cJSON;
struct cli_table;

#define TOP_NCOLS 8
#define TOP_HEADER {"UID", "PID", "PPID", "C", "STIME", "TTY", "TIME", "CMD"}

/* Adds a row per process of result's "processes" (not trusted: entries
 * that are not objects or lack a pid are skipped) to t (TOP_NCOLS
 * columns); now is the host's clock, which start times are counted back
 * from.  Returns the number of rows. */
size_t top_rows_add(const cJSON *result, time_t now, struct cli_table *t);

/* The pids of result's processes, in a new array; *n gets the count. */
uint32_t *top_rows_pids(const cJSON *result, size_t *n);

/* A terminal's device number as ps names it: "?" for none, "pts/N",
 * "ttyN", "ttySN", "console", or "MAJ:MIN" for another device. */
void top_tty_name(uint32_t dev, char *out, size_t len);
/* CPU time as ps's TIME: "[D-]HH:MM:SS". */
void top_cpu_time(uint64_t cpu_ms, char *out, size_t len);
/* A start time as ps's STIME, in local time: "HH:MM" the same day as
 * now, "MonDD" the same year, else the year. */
void top_start_time(time_t start, time_t now, char *out, size_t len);
/* ps's C: CPU time over the process's life in percent, at most 99. */
unsigned top_cpu_percent(uint64_t cpu_ms, uint64_t age_ms);

#endif
