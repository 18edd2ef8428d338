/* What `ps`, a container's log and its waiting clients are told when its
 * VM is paused, above all by QEMU on a full disk rather than by
 * `stack pause` (runtime/vm/container.h, struct container_vm_state). */
#ifndef STACK_SUPERVISOR_PAUSE_TEXT_H
#define STACK_SUPERVISOR_PAUSE_TEXT_H

#include "runtime/vm/container.h"

/* The short reason the state keeps and `ps` shows: "disk full", "I/O
 * error", or NULL when a user paused it (or it runs). */
const char *pause_reason(const struct container_vm_state *st);

/* The sentence for the container's log and its exec and run clients
 * (without "stack: "): why the VM is paused and what to do, naming the
 * disk, the file system to free space on and the service to unpause.
 * Newly allocated. */
char *pause_message(const struct container_vm_state *st, const char *service);

/* The sentence once it runs again: fs is where space was missing (the
 * runner resumed it: space is back), or NULL (a user resumed it). */
char *pause_resumed_message(const char *fs);

#endif
