#include "sup_events.h"

#include <cjson/cJSON.h>
#include <errno.h>
#include <stdio.h>
#include <sys/time.h>

#include "runtime/util/error.h"
#include "sup_conn.h"

cJSON *sup_container_event(const struct supervisor *s, const struct ps_container *c,
                           const char *action) {
  struct timeval tv;
  gettimeofday(&tv, NULL);
  cJSON *e = cJSON_CreateObject();
  cJSON_AddNumberToObject(e, "time", (double)tv.tv_sec * 1000 + tv.tv_usec / 1000);
  cJSON_AddStringToObject(e, "type", "container");
  cJSON_AddStringToObject(e, "action", action);
  cJSON_AddStringToObject(e, "id", c->id);
  cJSON_AddStringToObject(e, "service", c->service);
  cJSON *attrs = cJSON_AddObjectToObject(e, "attributes");
  cJSON_AddStringToObject(attrs, "name", c->name);
  cJSON_AddStringToObject(attrs, "project", s->paths.project);
  return e;
}

void sup_emit(struct supervisor *s, cJSON *event) {
  for (struct sup_conn *c = s->conns; c; c = c->next)
    if (c->events_id)
      sup_conn_send(c, sup_format_event(c->events_id, cJSON_Duplicate(event, true)));
  cJSON_Delete(event);
}

void sup_emit_container(struct supervisor *s, const char *name, const char *action,
                        int exit_code) {
  struct ps_container *r = project_state_find(s->state, name);
  if (r == NULL)
    return;
  cJSON *ev = sup_container_event(s, r, action);
  if (exit_code >= 0) {
    char code[16];
    snprintf(code, sizeof(code), "%d", exit_code);
    cJSON_AddStringToObject(cJSON_GetObjectItem(ev, "attributes"), "exitCode", code);
  }
  sup_emit(s, ev);
}

int sup_events_subscribe(struct supervisor *s, struct sup_conn *c, const cJSON *id,
                         struct stack_error **err) {
  (void)s;
  if (c->events_id)
    return stack_error_set(err, -EBUSY, "this connection already streams events");
  c->events_id = id ? cJSON_Duplicate(id, true) : cJSON_CreateNull();
  /* The first event says the stream is live, so that a client knows from
   * when on it will not miss one. */
  cJSON *hello = cJSON_CreateObject();
  cJSON_AddStringToObject(hello, "type", "stream");
  cJSON_AddStringToObject(hello, "action", "subscribed");
  sup_conn_send(c, sup_format_event(c->events_id, hello));
  return 1;
}
