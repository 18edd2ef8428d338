/* How many VMs start at once.
 *
 * Starting a VM (QEMU's start, a template restore or a cold boot, the guest
 * configuring itself and starting the process) is CPU-bound under TCG, and
 * VMs starting together slow each other down more than they gain: ten
 * 2-vCPU guests on 2 cores spend ~350 ms of CPU each instead of ~190 ms
 * alone (their vCPUs wait on each other's IPIs and locks while the host runs
 * someone else).  So a supervisor lets at most as many VMs start as the host
 * has CPUs; the others wait in order.  A VM holds its slot from its spawn to
 * its process's start (or its end).
 */
#ifndef STACK_VM_BOOT_QUEUE_H
#define STACK_VM_BOOT_QUEUE_H

#include <uv.h>

struct boot_queue;
struct boot_ticket;

/* slots: VMs starting at once; 0 = the host's online CPUs. */
struct boot_queue *boot_queue_new(uv_loop_t *loop, unsigned slots);
/* Frees the queue; tickets still out must not be used afterwards. */
void boot_queue_free(struct boot_queue *q);

/* Takes a slot: returns 1 when one was free (go is not called), 0 when the
 * caller waits (go(data) is called from the loop once a slot is its).
 * *ticket identifies the slot or the wait for boot_queue_leave(). */
int boot_queue_enter(struct boot_queue *q, void (*go)(void *data), void *data,
                     struct boot_ticket **ticket);

/* Gives the slot back (or stops waiting); NULL is ignored. */
void boot_queue_leave(struct boot_ticket *ticket);

#endif
