/* The supervisor's client connections: one per `stack` command, lines of
 * sup_proto.h going out in order.  A connection's owners (jobs, exec
 * sessions, one-off runs, pause requests) learn that it went away through
 * the callbacks registered with sup_conn_on_gone(), never by being named
 * here. */
#ifndef STACK_SUPERVISOR_SUP_CONN_H
#define STACK_SUPERVISOR_SUP_CONN_H

#include <stdbool.h>
#include <uv.h>

#include "sup_loop.h"
#include "sup_proto.h"

typedef struct cJSON cJSON;

struct sup_conn {
  uv_pipe_t pipe; /* first: handles are cast back to the connection */
  struct supervisor *sup;
  struct sup_linebuf in;
  struct sup_conn *prev, *next;
  cJSON *events_id; /* the id of an "events" request streaming here, or NULL */
  cJSON *logs_id;   /* the id of a request streaming container output here, or NULL */
  char **logs_services; /* whose output (NULL: every service) */
  bool closing;
  /* sup_run.c: the one-off container this connection runs (NULL: none).
   * Only sup_run.c reads it, and only through a connection it finds in
   * sup->conns: a run outlives its client's connection. */
  struct sup_run *run;
};

/* Accepts a client on server into s->conns; NULL when that failed. */
struct sup_conn *sup_conn_accept(struct supervisor *s, uv_stream_t *server);
/* Sends a line (taken over) to a connection. */
void sup_conn_send(struct sup_conn *c, char *line);
/* Closes at once: the gone callbacks run, the memory goes once libuv is
 * done with the handle. */
void sup_conn_close(struct sup_conn *c);
/* Closes after the pending writes went out (an error line before closing
 * must reach the client). */
void sup_conn_finish(struct sup_conn *c);
/* Registers fn, called (in registration order) for every connection that
 * closes. */
void sup_conn_on_gone(struct supervisor *s, sup_conn_gone_fn fn);

#endif
