/* pause_text.h: the words for a VM paused by QEMU on a full disk, by a
 * failed write, or by a user. */
#include "orchestrator/supervisor/pause_text.h"
#include "runtime/util/cleanup.h"
#include "test.h"

int main(void) {
  struct container_vm_state full = {.paused = true,
                                    .disk = "/srv/stack/projects/p/layers/p-db-1.img",
                                    .reason = "No space left on device",
                                    .fs = "/srv",
                                    .nospace = true};
  CHECK_STREQ(pause_reason(&full), "disk full");
  _cleanup_free_ char *m = pause_message(&full, "db");
  CHECK_STREQ(m, "the VM is paused: its disk /srv/stack/projects/p/layers/p-db-1.img is full "
                 "(No space left on device); free space on /srv, then `stack unpause db` (or "
                 "it resumes by itself when space is back)");

  struct container_vm_state eio = {.paused = true, .disk = "/d.img", .reason = "Input/output error"};
  CHECK_STREQ(pause_reason(&eio), "I/O error");
  _cleanup_free_ char *e = pause_message(&eio, "web");
  CHECK_STREQ(e, "the VM is paused: a write to its disk /d.img failed (Input/output error); "
                 "`stack unpause web` retries it");

  /* a user's pause has no reason to show, even on a full disk */
  struct container_vm_state user = full;
  user.by_request = true;
  CHECK(pause_reason(&user) == NULL);
  _cleanup_free_ char *u = pause_message(&user, "db");
  CHECK_STREQ(u, "the VM is paused (stack pause): it waits for `stack unpause db`");
  struct container_vm_state running = {0};
  CHECK(pause_reason(&running) == NULL);

  _cleanup_free_ char *r1 = pause_resumed_message("/srv");
  CHECK_STREQ(r1, "the VM resumed: there is room on /srv again");
  _cleanup_free_ char *r2 = pause_resumed_message(NULL);
  CHECK_STREQ(r2, "the VM resumed");
  TEST_DONE();
}
