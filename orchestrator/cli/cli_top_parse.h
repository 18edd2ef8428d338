/* `stack top ... PS_OPTIONS`: reading what `ps PS_OPTIONS` printed inside a
 * container's VM, as `docker top` reads its host's ps. */
#ifndef STACK_CLI_TOP_PARSE_H
#define STACK_CLI_TOP_PARSE_H

#include <stddef.h>
#include <stdint.h>

struct cli_table;

/* Reads ps output text (len bytes, not trusted: any bytes) into t, which
 * it initialises: the first line's fields are the columns, one of them
 * PID; a line becomes a row when its PID is one of pids[0..n) (the
 * container's processes: not the guest init's, nor this listing's own
 * ps), and a line whose PID is "-" (a thread, ps -m) when the line before
 * it did; the last column takes the rest of the line.  Control characters
 * show as '?'.  Returns the number of rows, or -1 (t untouched) when there
 * is no PID column, as docker top refuses such output. */
int top_parse_ps(const char *text, size_t len, const uint32_t *pids, size_t n,
                 struct cli_table *t);

/* A copy of s with control characters (a guest's command line may hold
 * any) shown as '?'. */
char *top_printable(const char *s);

#endif
