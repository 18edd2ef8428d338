/* `stack top`'s reading of what `ps` printed inside a container's VM. */
#ifndef STACK_CLI_TOP_PARSE_H
#define STACK_CLI_TOP_PARSE_H

#include <stddef.h>

struct cli_table;

/* The command run in the guest: busybox's and procps's ps both know these
 * columns. */
#define TOP_PS_ARGV {"ps", "-o", "user,pid,ppid,stat,tty,args", NULL}
/* The table's columns, with Docker's names. */
#define TOP_NCOLS 6
#define TOP_HEADER {"UID", "PID", "PPID", "STAT", "TTY", "CMD"}

/* Adds to t (TOP_NCOLS columns) a row per process line of the ps output
 * text (len bytes, not trusted: any bytes): the header line, kernel
 * threads ("[kthreadd]") and this listing's own ps are left out, lines
 * with too few columns are skipped.  Returns the number of rows added. */
size_t top_parse_ps(const char *text, size_t len, struct cli_table *t);

#endif
