/* Internals shared by the supervisor's loop (supervisor.c) and its request
 * handlers (sup_methods.c); not an API for other modules. */
#ifndef STACK_SUPERVISOR_SUP_SERVER_H
#define STACK_SUPERVISOR_SUP_SERVER_H

#include <stdbool.h>
#include <stdint.h>
#include <uv.h>

#include "project_state.h"
#include "sup_paths.h"
#include "sup_proto.h"

typedef struct cJSON cJSON;
struct stack_error;

struct sup_conn {
  uv_pipe_t pipe; /* first: handles are cast back to the connection */
  struct supervisor *sup;
  struct sup_linebuf in;
  struct sup_conn *prev, *next;
  cJSON *events_id; /* the id of an "events" request streaming here, or NULL */
  bool closing;
};

struct supervisor {
  uv_loop_t loop;
  uv_pipe_t listener;
  uv_signal_t sigterm, sigint;
  struct sup_paths paths;
  struct project_state *state;
  struct sup_conn *conns;
  int lock_fd;
  bool loop_inited;
  bool stopping;
};

/* Sends a line (taken over) to a connection. */
void sup_conn_send(struct sup_conn *c, char *line);
/* Sends an event (taken over) to every connection streaming events. */
void sup_emit(struct supervisor *s, cJSON *event);
/* A container event as `docker compose events --json` prints it. */
cJSON *sup_container_event(const struct supervisor *s, const struct ps_container *c,
                           const char *action);
/* Writes the state file; failures are logged, the state in memory stays. */
int sup_save(struct supervisor *s, struct stack_error **err);
/* Starts an orderly shutdown: stop listening, finish writes, end the loop. */
void sup_shutdown(struct supervisor *s);

/* Handles one request; returns a line to send (or NULL when the handler
 * answers later or streams). */
char *sup_dispatch(struct supervisor *s, struct sup_conn *c, const struct sup_request *req);

#endif
