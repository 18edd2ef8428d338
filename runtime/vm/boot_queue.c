#include "runtime/vm/boot_queue.h"

#include <stdbool.h>
#include <stdlib.h>
#include <unistd.h>

#include "runtime/util/xalloc.h"

struct boot_ticket {
  struct boot_ticket *next; /* in the wait list */
  struct boot_queue *q;
  void (*go)(void *data);
  void *data;
  bool holding; /* has a slot (else waits) */
};

struct boot_queue {
  uv_loop_t *loop;
  unsigned slots, busy;
  struct boot_ticket *head, *tail; /* waiting, in order */
  /* hands freed slots to waiters from the loop, never from inside the
   * caller that gave one back (which may be in the middle of tearing down) */
  uv_idle_t idle;
  bool idle_active;
};

struct boot_queue *boot_queue_new(uv_loop_t *loop, unsigned slots) {
  struct boot_queue *q = xcalloc(1, sizeof *q);
  q->loop = loop;
  if (slots == 0) {
    long n = sysconf(_SC_NPROCESSORS_ONLN);
    slots = n > 0 ? (unsigned)n : 1;
  }
  q->slots = slots;
  uv_idle_init(loop, &q->idle);
  q->idle.data = q;
  return q;
}

static void on_idle_closed(uv_handle_t *h) { free(h->data); }

void boot_queue_free(struct boot_queue *q) {
  if (!q)
    return;
  for (struct boot_ticket *t = q->head, *next; t; t = next) {
    next = t->next;
    t->q = NULL;
  }
  uv_close((uv_handle_t *)&q->idle, on_idle_closed);
}

static void on_idle(uv_idle_t *h) {
  struct boot_queue *q = h->data;
  while (q->busy < q->slots && q->head) {
    struct boot_ticket *t = q->head;
    q->head = t->next;
    if (!q->head)
      q->tail = NULL;
    t->next = NULL;
    t->holding = true;
    q->busy++;
    t->go(t->data);
  }
  uv_idle_stop(&q->idle);
  q->idle_active = false;
}

int boot_queue_enter(struct boot_queue *q, void (*go)(void *data), void *data,
                     struct boot_ticket **ticket) {
  struct boot_ticket *t = xcalloc(1, sizeof *t);
  t->q = q;
  t->go = go;
  t->data = data;
  *ticket = t;
  if (q->busy < q->slots && q->head == NULL) {
    t->holding = true;
    q->busy++;
    return 1;
  }
  if (q->tail)
    q->tail->next = t;
  else
    q->head = t;
  q->tail = t;
  return 0;
}

void boot_queue_leave(struct boot_ticket *t) {
  if (!t)
    return;
  struct boot_queue *q = t->q;
  if (q && t->holding) {
    q->busy--;
    if (q->head && !q->idle_active) {
      uv_idle_start(&q->idle, on_idle);
      q->idle_active = true;
    }
  } else if (q) {
    struct boot_ticket **pp = &q->head, *prev = NULL;
    while (*pp && *pp != t) {
      prev = *pp;
      pp = &(*pp)->next;
    }
    if (*pp) {
      *pp = t->next;
      if (q->tail == t)
        q->tail = prev;
    }
  }
  free(t);
}
