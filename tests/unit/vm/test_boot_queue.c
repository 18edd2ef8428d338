/* The start queue: slots are handed out in order, a waiter starts from the
 * loop once a slot is given back, a cancelled wait never starts. */
#include <uv.h>

#include "runtime/vm/boot_queue.h"
#include "tests/lib/test.h"

struct waiter {
  int started;
  int order;
};

static int started_count;

static void go(void *data) {
  struct waiter *w = data;
  w->started++;
  w->order = ++started_count;
}

int main(void) {
  uv_loop_t loop;
  uv_loop_init(&loop);
  struct boot_queue *q = boot_queue_new(&loop, 2);
  struct boot_ticket *t[5];
  struct waiter w[5] = {0};
  CHECK(boot_queue_enter(q, go, &w[0], &t[0]) == 1);
  CHECK(boot_queue_enter(q, go, &w[1], &t[1]) == 1);
  CHECK(boot_queue_enter(q, go, &w[2], &t[2]) == 0);
  CHECK(boot_queue_enter(q, go, &w[3], &t[3]) == 0);
  CHECK(boot_queue_enter(q, go, &w[4], &t[4]) == 0);
  /* nothing moves while the slots are held */
  uv_run(&loop, UV_RUN_NOWAIT);
  CHECK(w[2].started == 0 && w[3].started == 0);
  /* a cancelled wait gives nothing back and never starts */
  boot_queue_leave(t[3]);
  /* giving a slot back starts the next waiter from the loop, not inside leave */
  boot_queue_leave(t[0]);
  CHECK(w[2].started == 0);
  uv_run(&loop, UV_RUN_NOWAIT);
  CHECK(w[2].started == 1 && w[2].order == 1);
  CHECK(w[4].started == 0);
  boot_queue_leave(t[1]);
  uv_run(&loop, UV_RUN_NOWAIT);
  CHECK(w[4].started == 1 && w[4].order == 2);
  CHECK(w[3].started == 0);
  boot_queue_leave(t[2]);
  boot_queue_leave(t[4]);
  /* a free queue starts at once again */
  struct boot_ticket *again;
  CHECK(boot_queue_enter(q, go, &w[0], &again) == 1);
  boot_queue_leave(again);
  boot_queue_leave(NULL);
  boot_queue_free(q);
  uv_run(&loop, UV_RUN_DEFAULT);
  CHECK(uv_loop_close(&loop) == 0);
  TEST_DONE();
}
