#include "sup_loop.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/time.h>

#include "runtime/util/cleanup.h"
#include "runtime/util/error.h"
#include "runtime/util/fs_space.h"
#include "runtime/util/xalloc.h"

static void on_save_retry(uv_timer_t *t) { sup_save(t->data, NULL); }

static void on_retry_closed(uv_handle_t *h) { free(h); }

int sup_save(struct supervisor *s, struct stack_error **err) {
  if (s->paths.removed)
    return 0; /* the project is gone (sup_shutdown_reply()) */
  _cleanup_error_ struct stack_error *e = NULL;
  int r = project_state_save(s->state, s->paths.state_file, &e);
  if (r < 0) {
    /* said once, not at every change nor every retry */
    if (!s->save_failing) {
      _cleanup_free_ char *fs = fs_mount_point(s->paths.state_file);
      fprintf(stderr,
              "stack supervisor: %s; the state in memory is kept and saved again every %d s "
              "until it can be%s%s\n",
              e->msg, SUP_SAVE_RETRY_MS / 1000, r == -ENOSPC ? ": free space on " : "",
              r == -ENOSPC ? fs : "");
    }
    s->save_failing = true;
    if (s->loop_inited && !s->stopping) {
      if (s->save_retry == NULL) {
        s->save_retry = xcalloc(1, sizeof *s->save_retry);
        uv_timer_init(&s->loop, s->save_retry);
        s->save_retry->data = s;
      }
      if (!uv_is_active((uv_handle_t *)s->save_retry))
        uv_timer_start(s->save_retry, on_save_retry, SUP_SAVE_RETRY_MS, SUP_SAVE_RETRY_MS);
    }
    if (err)
      *err = steal_pointer(&e);
    return r;
  }
  if (s->save_failing)
    fprintf(stderr, "stack supervisor: the project state is saved again (%s)\n",
            s->paths.state_file);
  s->save_failing = false;
  if (s->save_retry)
    uv_timer_stop(s->save_retry);
  return 0;
}

void sup_save_shutdown(struct supervisor *s) {
  if (s->save_retry) {
    uv_close((uv_handle_t *)s->save_retry, on_retry_closed);
    s->save_retry = NULL;
  }
}

int64_t sup_wall_ms(void) {
  struct timeval tv;
  gettimeofday(&tv, NULL);
  return (int64_t)tv.tv_sec * 1000 + tv.tv_usec / 1000;
}
