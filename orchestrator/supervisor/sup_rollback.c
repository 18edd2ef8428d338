#include "sup_rollback.h"

#include <stdio.h>

#include "sup_ctrs.h"
#include "sup_shutdown.h"

void sup_rollback(struct supervisor *s, struct sup_conn *conn, char *reply) {
  fprintf(stderr, "stack supervisor: project %s: the first up failed; removing what it made\n",
          s->paths.project);
  for (size_t i = s->state->n_containers; i-- > 0;)
    sup_ctr_remove(s, s->state->containers[i].name);
  sup_shutdown_reply(s, conn, reply);
}
