/* Container output: one file per container in the project's logs
 * directory, "log" events to the connections that follow it, the `logs`
 * request, and the "exit" event to followers (a subscriber of the container
 * table's hook, sup_change.h).  Below the container table: it knows a
 * container only by its struct sup_log, name and service. */
#ifndef STACK_SUPERVISOR_SUP_LOGS_H
#define STACK_SUPERVISOR_SUP_LOGS_H

#include <stddef.h>
#include <stdint.h>

#include "log_hold.h"
#include "runtime/util/sbuf.h"
#include "sup_change.h"
#include "sup_loop.h"

typedef struct cJSON cJSON;
struct sup_conn;
struct stack_error;

/* One container's output on its way to disk. */
struct sup_log {
  const char *name, *service; /* the container's (they outlive this) */
  struct sbuf line[3];        /* partial output lines, by fd */
  int fd;                     /* its log file, -1 until the first line */
  uint64_t bytes;
  /* Lines that could not be written (a full file system): they wait,
   * retried every SUP_LOG_RETRY_MS, and the file gets "stack: N log lines
   * lost: ..." for those that did not fit (log_hold.h). */
  struct log_hold hold;
  char *fs;                   /* where space ran out, for the messages */
  struct supervisor *sup;     /* set while it waits in sup->logs_failing */
  struct sup_log *next_failing;
};

#define SUP_LOG_RETRY_MS 2000

void sup_log_init(struct sup_log *l, const char *name, const char *service);
void sup_log_clear(struct sup_log *l);

/* One line of fd 1 (stdout) or 2 (stderr), to disk and to followers. */
void sup_log_line(struct supervisor *s, struct sup_log *l, int fd, const char *line, size_t len);
/* A chunk of stdout or stderr: every complete line goes to sup_log_line(),
 * the rest waits in l->line[fd] for more. */
void sup_log_bytes(struct supervisor *s, struct sup_log *l, int fd, const uint8_t *p, size_t n);
/* Logs what l->line holds once its process ended (a last line without
 * its newline). */
void sup_log_flush(struct supervisor *s, struct sup_log *l);
/* The supervisor ends: a last try to write what waits, then what is lost
 * is said in its own log. */
void sup_logs_shutdown(struct supervisor *s);
/* Deletes a container's log files (it was removed or recreated). */
void sup_logs_remove(struct supervisor *s, const char *name);

/* Streams the stored output of the named containers (then, with follow,
 * what comes) as "log" events. */
int sup_logs_send(struct supervisor *s, struct sup_conn *conn, const cJSON *id,
                  const cJSON *params, struct stack_error **err);

/* The hook's subscriber: tells the followers of a container's output that
 * it exited (SUP_CHANGE_EXITED). */
void sup_logs_on_change(struct supervisor *s, const struct sup_change *ch);

#endif
