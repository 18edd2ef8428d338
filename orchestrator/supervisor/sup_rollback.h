/* A first `up` that fails leaves nothing behind: when a project had no
 * container before an `up` and one of that up's containers cannot be
 * started (its image, a port in use, a volume that cannot be made, ...),
 * what the up made is undone -- containers, their VMs, writable layers and
 * logs, the networks (bridges, taps, nftables table), the state files and
 * directories -- and the supervisor, started for it, ends.  An `up` of a
 * project that has containers leaves them as Compose does. */
#ifndef STACK_SUPERVISOR_SUP_ROLLBACK_H
#define STACK_SUPERVISOR_SUP_ROLLBACK_H

#include "sup_loop.h"

struct sup_conn;

/* Removes every container (VMs killed), then shuts the supervisor down:
 * networks, state and the project's directories go, reply (taken over) is
 * sent to conn last.  Volumes stay, as with `down`. */
void sup_rollback(struct supervisor *s, struct sup_conn *conn, char *reply);

#endif
