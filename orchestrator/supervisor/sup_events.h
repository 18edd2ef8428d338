/* Container events as `docker compose events --json` prints them: formatted
 * here and sent to every connection that subscribed with an "events"
 * request. */
#ifndef STACK_SUPERVISOR_SUP_EVENTS_H
#define STACK_SUPERVISOR_SUP_EVENTS_H

#include "project_state.h"
#include "sup_loop.h"

typedef struct cJSON cJSON;
struct sup_conn;
struct stack_error;

/* A container event (time, type, action, id, service, attributes name and
 * project). */
cJSON *sup_container_event(const struct supervisor *s, const struct ps_container *c,
                           const char *action);
/* Sends an event (taken over) to every connection streaming events. */
void sup_emit(struct supervisor *s, cJSON *event);
/* Emits action for container name (with exitCode when exit_code >= 0);
 * nothing when it has no record. */
void sup_emit_container(struct supervisor *s, const char *name, const char *action,
                        int exit_code);
/* The "events" request: conn streams every event from now on (the first
 * one says the stream is live); 1, or an error when it streams already. */
int sup_events_subscribe(struct supervisor *s, struct sup_conn *conn, const cJSON *id,
                         struct stack_error **err);

#endif
