/* Writing a container's log file so that a full file system loses
 * nothing silently: text that cannot be written waits in memory (at most
 * LOG_HOLD_MAX bytes per file), the lines beyond are counted, and once
 * writing works again the waiting text goes first, then a line the caller
 * words saying how many lines were lost, then the new text.  A write that
 * fails half-way is cut back, so the file only ever holds whole lines. */
#ifndef STACK_SUPERVISOR_LOG_HOLD_H
#define STACK_SUPERVISOR_LOG_HOLD_H

#include <stddef.h>
#include <stdint.h>

#include "runtime/util/sbuf.h"

#define LOG_HOLD_MAX (256u << 10)

struct log_hold {
  struct sbuf held; /* whole lines, oldest first */
  uint64_t lost;    /* lines dropped since writing failed */
  int error;        /* errno of the failing writes; 0 while they work */
};

enum log_hold_result {
  LOG_HOLD_OK,        /* written */
  LOG_HOLD_FAILED,    /* writing failed now, after working: say so (h->error) */
  LOG_HOLD_FAILING,   /* still failing: said already */
  LOG_HOLD_RECOVERED, /* writing works again: what waited is written */
};

/* The line (with its newline) that tells how many lines were lost, for
 * the file: the caller's format.  Newly allocated. */
typedef char *(*log_hold_lost_fn)(void *ctx, uint64_t lost, int error);

/* Appends text (whole lines; may be empty, to retry what waits) to fd, an
 * O_APPEND file whose length is *size (kept up to date); fd < 0 is a file
 * that could not be opened, -fd its errno. */
enum log_hold_result log_hold_write(struct log_hold *h, int fd, uint64_t *size, const char *text,
                                    size_t len, log_hold_lost_fn lost_line, void *ctx);

/* Whether text waits (a retry is due). */
static inline int log_hold_pending(const struct log_hold *h) { return h->error != 0; }

/* The lines that wait or were lost. */
uint64_t log_hold_waiting_lines(const struct log_hold *h);

void log_hold_clear(struct log_hold *h);

#endif
