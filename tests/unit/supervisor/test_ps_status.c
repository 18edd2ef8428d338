#include "orchestrator/supervisor/ps_status.h"
#include "runtime/util/cleanup.h"
#include "test.h"

static void status(enum ctr_status st, int code, enum health_status h, int64_t start,
                   int64_t end, int64_t now, const char *want) {
  _cleanup_free_ char *s = ps_status_text(st, NULL, code, h, start, end, now);
  CHECK_STREQ(s, want);
}

int main(void) {
  int64_t now = 1700000000000;
  status(CTR_RUNNING, 0, HEALTH_NONE, now - 5000, 0, now, "Up 5 seconds");
  status(CTR_RUNNING, 0, HEALTH_HEALTHY, now - 5000, 0, now, "Up 5 seconds (healthy)");
  status(CTR_RUNNING, 0, HEALTH_STARTING, now - 500, 0, now,
         "Up Less than a second (starting)");
  status(CTR_PAUSED, 0, HEALTH_HEALTHY, now - 120000, 0, now, "Up 2 minutes (Paused)");
  /* paused by QEMU on a full disk: says so */
  _cleanup_free_ char *full =
      ps_status_text(CTR_PAUSED, "disk full", 0, HEALTH_HEALTHY, now - 180000, 0, now);
  CHECK_STREQ(full, "Up 3 minutes (Paused: disk full)");
  _cleanup_free_ char *empty = ps_status_text(CTR_PAUSED, "", 0, HEALTH_NONE, now - 1000, 0, now);
  CHECK_STREQ(empty, "Up 1 second (Paused)");
  /* a reason left over does not show once it runs */
  _cleanup_free_ char *run =
      ps_status_text(CTR_RUNNING, "disk full", 0, HEALTH_NONE, now - 1000, 0, now);
  CHECK_STREQ(run, "Up 1 second");
  status(CTR_EXITED, 1, HEALTH_NONE, now - 9000, now - 3 * 60000, now,
         "Exited (1) 3 minutes ago");
  status(CTR_RESTARTING, 2, HEALTH_NONE, 0, now - 1000, now, "Restarting (2) 1 second ago");
  status(CTR_CREATED, 0, HEALTH_NONE, 0, 0, now, "Created");
  status(CTR_DEAD, 0, HEALTH_NONE, 0, 0, now, "Dead");
  /* a clock that went backwards is not negative time */
  status(CTR_RUNNING, 0, HEALTH_NONE, now + 5000, 0, now, "Up Less than a second");
  TEST_DONE();
}
