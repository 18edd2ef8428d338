#include "sup_loop.h"

#include <stdio.h>
#include <sys/time.h>

#include "runtime/util/cleanup.h"
#include "runtime/util/error.h"

int sup_save(struct supervisor *s, struct stack_error **err) {
  if (s->paths.removed)
    return 0; /* the project is gone (sup_shutdown_reply()) */
  _cleanup_error_ struct stack_error *e = NULL;
  int r = project_state_save(s->state, s->paths.state_file, &e);
  if (r < 0) {
    fprintf(stderr, "stack supervisor: %s\n", e->msg);
    if (err) {
      *err = steal_pointer(&e);
    }
  }
  return r;
}

int64_t sup_wall_ms(void) {
  struct timeval tv;
  gettimeofday(&tv, NULL);
  return (int64_t)tv.tv_sec * 1000 + tv.tv_usec / 1000;
}
