/* An exec session driven from one thread, for commands that move data
 * through a container's guest (`cp`): the CLI pulls the command's stdout in
 * chunks as a reader does, pushes its stdin, and gets its exit code; its
 * stderr is kept (bounded) for the error message. */
#ifndef STACK_CLI_EXEC_STREAM_H
#define STACK_CLI_EXEC_STREAM_H

#include <stdbool.h>
#include <stddef.h>
#include <sys/types.h>

#include "runtime/util/sbuf.h"

struct sup_client;
struct stack_error;

struct cli_exec_stream {
  struct sup_client *client;
  unsigned char *chunk; /* the last stdout chunk read */
  size_t n;
  struct sbuf err;     /* the command's stderr (its first 4 KiB) */
  bool done;           /* the session ended: exit_code is set */
  int exit_code;
  char *error;         /* why it could not run (the supervisor's words) */
};

/* Starts argv (NULL-terminated) as root in container index (1-based) of
 * service; with stdin, the command reads what cli_exec_stream_write()
 * sends. */
int cli_exec_stream_start(struct cli_exec_stream *x, struct sup_client *client,
                          const char *service, unsigned index, const char *const *argv,
                          bool stdin, struct stack_error **err);

/* The next chunk of stdout in x->chunk/x->n: 1; 0 once the session ended
 * (x->exit_code); or an error. */
int cli_exec_stream_read(struct cli_exec_stream *x, struct stack_error **err);

/* Sends bytes to the command's stdin; n == 0 closes it. */
int cli_exec_stream_write(struct cli_exec_stream *x, const void *p, size_t n,
                          struct stack_error **err);

/* Reads (and drops) the rest of stdout until the session ends. */
int cli_exec_stream_wait(struct cli_exec_stream *x, struct stack_error **err);

void cli_exec_stream_clear(struct cli_exec_stream *x);

/* Runs argv to its end: its exit code in *code, its stdout (the first
 * max bytes) in out when out is not NULL. */
int cli_exec_stream_run(struct sup_client *client, const char *service, unsigned index,
                        const char *const *argv, int *code, struct sbuf *out, size_t max,
                        struct stack_error **err);

#endif
