#include "orchestrator/supervisor/health.h"
#include "runtime/util/error.h"
#include "test.h"

static const struct health_spec unset = {NULL, false, -1, -1, -1, -1, -1};

static void test_resolve(void) {
  struct health_config c;
  struct stack_error *err = NULL;
  /* CMD-SHELL runs through /bin/sh -c; defaults as Docker's */
  char *shell[] = {"CMD-SHELL", "wget -q -O- localhost", NULL};
  struct health_spec s = unset;
  s.test = shell;
  CHECK_INTEQ(health_config_resolve(&s, NULL, "web", &c, &err), 0);
  CHECK(c.argv != NULL);
  CHECK_STREQ(c.argv[0], "/bin/sh");
  CHECK_STREQ(c.argv[1], "-c");
  CHECK_STREQ(c.argv[2], "wget -q -O- localhost");
  CHECK(c.argv[3] == NULL);
  CHECK_INTEQ(c.interval_ms, 30000);
  CHECK_INTEQ(c.timeout_ms, 30000);
  CHECK_INTEQ(c.retries, 3);
  CHECK_INTEQ(c.start_period_ms, 0);
  CHECK_INTEQ(c.start_interval_ms, 5000);
  health_config_clear(&c);

  /* the image's HEALTHCHECK, with the service overriding single fields */
  char *img_test[] = {"CMD", "true", NULL};
  struct health_spec img = {img_test, false, 10000, 2000, 1000, -1, 5};
  s = unset;
  s.interval_ms = 500;
  CHECK_INTEQ(health_config_resolve(&s, &img, "web", &c, &err), 0);
  CHECK_STREQ(c.argv[0], "true");
  CHECK_INTEQ(c.interval_ms, 500);
  CHECK_INTEQ(c.timeout_ms, 2000);
  CHECK_INTEQ(c.start_period_ms, 1000);
  CHECK_INTEQ(c.retries, 5);
  health_config_clear(&c);

  /* disable and NONE: no check at all */
  s = unset;
  s.disable = true;
  CHECK_INTEQ(health_config_resolve(&s, &img, "web", &c, &err), 0);
  CHECK(c.argv == NULL);
  char *none[] = {"NONE", NULL};
  s = unset;
  s.test = none;
  CHECK_INTEQ(health_config_resolve(&s, &img, "web", &c, &err), 0);
  CHECK(c.argv == NULL);
  CHECK_INTEQ(health_config_resolve(NULL, NULL, "web", &c, &err), 0);
  CHECK(c.argv == NULL);

  /* malformed tests are errors naming the service */
  char *bad1[] = {"CMD", NULL};
  char *bad2[] = {"CMD-SHELL", "a", "b", NULL};
  char *bad3[] = {"RUN", "x", NULL};
  char **bads[] = {bad1, bad2, bad3};
  for (size_t i = 0; i < 3; i++) {
    s = unset;
    s.test = bads[i];
    CHECK_INTEQ(health_config_resolve(&s, NULL, "services.api", &c, &err), -22);
    CHECK(err && strstr(err->msg, "services.api"));
    stack_error_free(err);
    err = NULL;
  }
}

static struct health_config cfg(int64_t interval, int64_t start_period, int64_t start_interval,
                                unsigned retries) {
  static char *argv[] = {"true", NULL};
  return (struct health_config){argv, interval, 1000, start_period, start_interval, retries};
}

static void test_states(void) {
  struct health_config c = cfg(1000, 0, 5000, 3);
  struct health_state s;
  health_start(&s, &c, 0);
  CHECK_INTEQ(s.status, HEALTH_STARTING);
  CHECK_STREQ(health_status_name(s.status), "starting");
  CHECK_INTEQ(health_next_delay(&c, &s, 0), 1000);
  CHECK(!health_record(&s, &c, 1000, 1));
  CHECK(!health_record(&s, &c, 2000, 1));
  CHECK_INTEQ(s.failing_streak, 2);
  CHECK(health_record(&s, &c, 3000, HEALTH_EXIT_TIMEOUT));
  CHECK_INTEQ(s.status, HEALTH_UNHEALTHY);
  /* one success makes it healthy again and resets the streak */
  CHECK(health_record(&s, &c, 4000, 0));
  CHECK_INTEQ(s.status, HEALTH_HEALTHY);
  CHECK_INTEQ(s.failing_streak, 0);
  CHECK(!health_record(&s, &c, 5000, 2));
  CHECK(!health_record(&s, &c, 6000, 1));
  CHECK_INTEQ(s.status, HEALTH_HEALTHY); /* 2 < retries */
  CHECK(health_record(&s, &c, 7000, 1));
  CHECK_STREQ(health_status_name(s.status), "unhealthy");
}

static void test_start_period(void) {
  struct health_config c = cfg(10000, 5000, 500, 1);
  struct health_state s;
  health_start(&s, &c, 100000);
  /* within the start period: start_interval, failures do not count */
  CHECK_INTEQ(health_next_delay(&c, &s, 100000), 500);
  for (int i = 1; i < 10; i++)
    CHECK(!health_record(&s, &c, 100000 + i * 500, 1));
  CHECK_INTEQ(s.status, HEALTH_STARTING);
  CHECK_INTEQ(s.failing_streak, 0);
  /* after it: interval, and a failure counts */
  CHECK_INTEQ(health_next_delay(&c, &s, 105000), 10000);
  CHECK(health_record(&s, &c, 105000, 1));
  CHECK_INTEQ(s.status, HEALTH_UNHEALTHY);

  /* a success during the start period makes it healthy at once; later
   * failures in the period then count */
  health_start(&s, &c, 0);
  CHECK(health_record(&s, &c, 500, 0));
  CHECK_INTEQ(s.status, HEALTH_HEALTHY);
  CHECK_INTEQ(health_next_delay(&c, &s, 600), 10000);
  CHECK(health_record(&s, &c, 1000, 1));
  CHECK_INTEQ(s.status, HEALTH_UNHEALTHY);

  /* no check: status none, records are ignored */
  struct health_config none = {0};
  health_start(&s, &none, 0);
  CHECK_INTEQ(s.status, HEALTH_NONE);
  CHECK(!health_record(&s, &none, 1, 1));
  CHECK_INTEQ(health_status_parse("healthy"), HEALTH_HEALTHY);
  CHECK_INTEQ(health_status_parse(""), HEALTH_NONE);
  CHECK_INTEQ(health_status_parse("sick"), -1);
}

int main(void) {
  test_resolve();
  test_states();
  test_start_period();
  TEST_DONE();
}
