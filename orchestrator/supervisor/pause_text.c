#include "pause_text.h"

#include "runtime/util/xalloc.h"

const char *pause_reason(const struct container_vm_state *st) {
  if (!st->paused || st->by_request || st->disk == NULL)
    return NULL;
  return st->nospace ? "disk full" : "I/O error";
}

char *pause_message(const struct container_vm_state *st, const char *service) {
  const char *why = pause_reason(st);
  if (why == NULL)
    return xasprintf("the VM is paused (stack pause): it waits for `stack unpause %s`", service);
  if (st->nospace)
    return xasprintf("the VM is paused: its disk %s is full (%s); free space on %s, then `stack "
                     "unpause %s` (or it resumes by itself when space is back)",
                     st->disk, st->reason ? st->reason : "No space left on device",
                     st->fs ? st->fs : st->disk, service);
  return xasprintf("the VM is paused: a write to its disk %s failed (%s); `stack unpause %s` "
                   "retries it",
                   st->disk, st->reason ? st->reason : "I/O error", service);
}

char *pause_resumed_message(const char *fs) {
  if (fs == NULL)
    return xstrdup("the VM resumed");
  return xasprintf("the VM resumed: there is room on %s again", fs);
}
