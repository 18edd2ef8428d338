#include "sup_shutdown.h"

#include <stdlib.h>
#include <unistd.h>

#include "runtime/vm/boot_queue.h"
#include "runtime/vm/template.h"
#include "sup_conn.h"
#include "sup_ctrs.h"
#include "sup_logs.h"
#include "sup_net.h"
#include "sup_project.h"

void sup_shutdown(struct supervisor *s) { sup_shutdown_reply(s, NULL, NULL); }

void sup_shutdown_reply(struct supervisor *s, struct sup_conn *conn, char *line) {
  if (s->stopping) {
    if (conn)
      sup_conn_send(conn, line);
    else
      free(line);
    return;
  }
  s->stopping = true;
  unlink(s->paths.socket);
  sup_ctrs_free(s);
  sup_logs_shutdown(s); /* what the containers said last, if it can be written now */
  sup_project_free(s);
  template_cache_free(s->templates); /* a template VM being built is killed */
  s->templates = NULL;
  boot_queue_free(s->boots);
  s->boots = NULL;
  sup_net_down(s);
  sup_save(s, NULL);
  sup_save_shutdown(s);
  /* A project with no container left is gone: `ps` and `ls` must not find
   * it, nor start a supervisor for it, and nothing of it stays on disk.
   * Done before the answer, so that `down` returns once it is so. */
  if (s->state && s->state->n_containers == 0)
    sup_paths_remove(&s->paths);
  if (conn)
    sup_conn_send(conn, line);
  else
    free(line);
  uv_close((uv_handle_t *)&s->listener, NULL);
  uv_close((uv_handle_t *)&s->sigterm, NULL);
  uv_close((uv_handle_t *)&s->sigint, NULL);
  uv_close((uv_handle_t *)&s->gate_timer, NULL);
  for (struct sup_conn *c = s->conns, *next; c; c = next) {
    next = c->next;
    sup_conn_finish(c);
  }
}
