#include <stdint.h>
#include <stdlib.h>

#include "orchestrator/cli/cli_logtime.h"
#include "test.h"

static int64_t at(const char *s, int64_t now) {
  int64_t v = -1;
  CHECK(cli_log_time_parse(s, now, &v) == 0);
  return v;
}

static void bad(const char *s) {
  int64_t v;
  CHECK(cli_log_time_parse(s, 0, &v) < 0);
}

int main(void) {
  const int64_t now = 1714557600000; /* 2024-05-01T10:00:00Z */
  CHECK_INTEQ(at("2024-05-01T10:00:00Z", now), now);
  CHECK_INTEQ(at("2024-05-01T10:00:00.25Z", now), now + 250);
  CHECK_INTEQ(at("2024-05-01T12:00:00+02:00", now), now);
  CHECK_INTEQ(at("2024-05-01T09:30:00-00:30", now), now);
  CHECK_INTEQ(at("2024-05-01T10:00Z", now), now);
  CHECK_INTEQ(at("2024-05-01Z", now), now - 10 * 3600000);
  CHECK_INTEQ(at("1714557600", now), now);
  CHECK_INTEQ(at("1714557600.5", now), now + 500);
  CHECK_INTEQ(at("10m", now), now - 600000);
  CHECK_INTEQ(at("1h30m", now), now - 5400000);
  CHECK_INTEQ(at("1.5s", now), now - 1500);
  CHECK_INTEQ(at("250ms", now), now - 250);
  CHECK_INTEQ(at("0s", now), now);
  CHECK_INTEQ(at("10", now), 10000);
  /* local time without a zone: the same instant as mktime says */
  setenv("TZ", "UTC", 1);
  CHECK_INTEQ(at("2024-05-01T10:00:00", now), now);
  CHECK_INTEQ(at("2024-05-01", now), now - 10 * 3600000);
  bad("");
  bad("yesterday");
  bad("1234567890123");
  bad("10x");
  bad("-5m");
  bad("m");
  bad("2024-13-01");
  bad("2024-05-01T25:00:00Z");
  bad("2024-05-01T10:00:00+2");
  bad("2024-05-01T10:00:00Zjunk");
  bad("1714557600.");
  bad("99999999999999999999h");
  TEST_DONE();
}
