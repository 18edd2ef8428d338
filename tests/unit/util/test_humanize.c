#include "runtime/util/cleanup.h"
#include "runtime/util/humanize.h"
#include "test.h"

static void dur(int64_t ms, const char *want) {
  _cleanup_free_ char *s = human_duration(ms);
  CHECK_STREQ(s, want);
}

int main(void) {
  dur(0, "Less than a second");
  dur(999, "Less than a second");
  dur(1000, "1 second");
  dur(59999, "59 seconds");
  dur(60000, "About a minute");
  dur(119999, "About a minute");
  dur(120000, "2 minutes");
  dur(3599999, "59 minutes");
  dur(3600000, "About an hour");
  dur(5400000, "2 hours");
  dur(47LL * 3600000, "47 hours");
  dur(48LL * 3600000, "2 days");
  dur(14LL * 24 * 3600000, "2 weeks");
  dur(60LL * 24 * 3600000, "2 months");
  dur(800LL * 24 * 3600000, "2 years");
  TEST_DONE();
}
