/* A first `up` that fails leaves nothing behind: when a project had no
 * container before an `up` and one of that up's containers cannot be
 * started (its image, a port in use, a volume that cannot be made, ...),
 * what the up made is undone -- containers, their VMs, writable layers and
 * logs, the networks (bridges, taps, nftables table), the state files and
 * directories -- and the supervisor, started for it, ends.  An `up` of a
 * project that has containers leaves them as Compose does. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "runtime/util/cleanup.h"
#include "runtime/util/xalloc.h"
#include "sup_server.h"

bool sup_rollback_due(struct supervisor *s, const struct sup_job *j) {
  if (!j->fresh || j->is_stop || s->stopping)
    return false;
  for (size_t i = 0; j->names[i]; i++) {
    struct sup_ctr *c = sup_ctr_find(s, j->names[i]);
    if (c && c->start_failed)
      return true;
  }
  return false;
}

void sup_rollback(struct supervisor *s, struct sup_conn *conn, char *reply) {
  fprintf(stderr, "stack supervisor: project %s: the first up failed; removing what it made\n",
          s->paths.project);
  for (size_t i = s->state->n_containers; i-- > 0;) {
    struct ps_container *ct = &s->state->containers[i];
    sup_emit(s, sup_container_event(s, ct, "destroy"));
    _cleanup_free_ char *name = xstrdup(ct->name);
    sup_ctr_forget(s, name);
    sup_logs_remove(s, name);
    project_state_remove(s->state, name);
  }
  sup_shutdown_reply(s, conn, reply);
}
