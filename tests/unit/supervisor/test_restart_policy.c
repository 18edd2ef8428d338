#include "orchestrator/supervisor/restart_policy.h"
#include "runtime/util/error.h"
#include "test.h"

static struct restart_policy parse(const char *s) {
  struct restart_policy p;
  struct stack_error *err = NULL;
  CHECK_INTEQ(restart_policy_parse(s, "services.x", &p, &err), 0);
  stack_error_free(err);
  return p;
}

static void test_parse(void) {
  CHECK_INTEQ(parse(NULL).mode, RESTART_NO);
  CHECK_INTEQ(parse("no").mode, RESTART_NO);
  CHECK_INTEQ(parse("always").mode, RESTART_ALWAYS);
  CHECK_INTEQ(parse("unless-stopped").mode, RESTART_UNLESS_STOPPED);
  struct restart_policy p = parse("on-failure");
  CHECK_INTEQ(p.mode, RESTART_ON_FAILURE);
  CHECK_INTEQ(p.max_attempts, 0);
  p = parse("on-failure:2");
  CHECK_INTEQ(p.mode, RESTART_ON_FAILURE);
  CHECK_INTEQ(p.max_attempts, 2);
  const char *bad[] = {"sometimes", "on-failure:", "on-failure:-1", "on-failure:x", "on-failure2",
                       "always:3", "on-failure:99999999999"};
  for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
    struct stack_error *err = NULL;
    CHECK_INTEQ(restart_policy_parse(bad[i], "services.web", &p, &err), -22);
    CHECK(err && strstr(err->msg, "services.web") && strstr(err->msg, "on-failure:N"));
    stack_error_free(err);
  }
}

static void test_deploy(void) {
  struct restart_policy p = parse("always");
  struct stack_error *err = NULL;
  CHECK_INTEQ(restart_policy_apply_deploy(&p, "on-failure", 5000, 60000, 3, "web", &err), 0);
  CHECK_INTEQ(p.mode, RESTART_ON_FAILURE);
  CHECK_INTEQ(p.max_attempts, 3);
  CHECK_INTEQ(p.delay_ms, 5000);
  CHECK_INTEQ(p.window_ms, 60000);
  CHECK_INTEQ(restart_policy_apply_deploy(&p, "none", -1, -1, -1, "web", &err), 0);
  CHECK_INTEQ(p.mode, RESTART_NO);
  CHECK_INTEQ(restart_policy_apply_deploy(&p, "any", -1, -1, -1, "web", &err), 0);
  CHECK_INTEQ(p.mode, RESTART_ALWAYS);
  CHECK_INTEQ(p.max_attempts, 3); /* kept */
  CHECK_INTEQ(restart_policy_apply_deploy(&p, "often", -1, -1, -1, "web", &err), -22);
  CHECK(err && strstr(err->msg, "often"));
  stack_error_free(err);
}

static void test_on_failure_count(void) {
  /* on-failure:2 on a command that always fails: 2 restarts, 3 runs. */
  struct restart_policy p = parse("on-failure:2");
  struct restart_state s = {0};
  struct restart_exit fail = {.exit_code = 1};
  int64_t d;
  CHECK(restart_decide(&p, &s, &fail, 5, &d));
  CHECK_INTEQ(d, 100);
  CHECK(restart_decide(&p, &s, &fail, 5, &d));
  CHECK_INTEQ(d, 200);
  CHECK(!restart_decide(&p, &s, &fail, 5, &d));
  CHECK_INTEQ(s.restart_count, 2);
  /* a success never restarts on-failure */
  struct restart_state s2 = {0};
  struct restart_exit ok = {.exit_code = 0};
  CHECK(!restart_decide(&p, &s2, &ok, 5, &d));
  /* a crashed VM is a failure even with status 0 */
  struct restart_exit crash = {.exit_code = 0, .crashed = true};
  CHECK(restart_decide(&p, &s2, &crash, 5, &d));
}

static void test_backoff(void) {
  struct restart_policy p = parse("always");
  struct restart_state s = {0};
  struct restart_exit ok = {.exit_code = 0};
  int64_t d = 0, expect = 100;
  for (int i = 0; i < 12; i++) {
    CHECK(restart_decide(&p, &s, &ok, 50, &d));
    CHECK_INTEQ(d, expect);
    expect = expect * 2 > RESTART_BACKOFF_MAX_MS ? RESTART_BACKOFF_MAX_MS : expect * 2;
  }
  CHECK_INTEQ(d, 60000);
  /* a run of 10 s resets the back-off */
  CHECK(restart_decide(&p, &s, &ok, 10000, &d));
  CHECK_INTEQ(d, 100);
  CHECK(restart_decide(&p, &s, &ok, 9999, &d));
  CHECK_INTEQ(d, 200);
  CHECK_INTEQ(s.restart_count, 14);
}

static void test_user_stop(void) {
  const char *modes[] = {"always", "unless-stopped", "on-failure"};
  for (size_t i = 0; i < 3; i++) {
    struct restart_policy p = parse(modes[i]);
    struct restart_state s = {0};
    struct restart_exit stopped = {.exit_code = 137, .user_stopped = true};
    int64_t d;
    CHECK(!restart_decide(&p, &s, &stopped, 50, &d));
    CHECK(!restart_on_adopt(&p, true));
  }
  CHECK(restart_on_adopt(&(struct restart_policy){RESTART_ALWAYS, 0, -1, -1}, false));
  CHECK(!restart_on_adopt(&(struct restart_policy){RESTART_ON_FAILURE, 0, -1, -1}, false));
  struct restart_policy no = parse("no");
  struct restart_state s = {0};
  int64_t d;
  CHECK(!restart_decide(&no, &s, &(struct restart_exit){.exit_code = 1, .crashed = true}, 1, &d));
}

static void test_deploy_delay_window(void) {
  struct restart_policy p = parse(NULL);
  CHECK_INTEQ(restart_policy_apply_deploy(&p, "on-failure", 2000, 30000, 2, "w", NULL), 0);
  struct restart_state s = {0};
  struct restart_exit fail = {.exit_code = 3};
  int64_t d;
  CHECK(restart_decide(&p, &s, &fail, 10, &d));
  CHECK_INTEQ(d, 2000); /* fixed delay, no back-off */
  CHECK(restart_decide(&p, &s, &fail, 10, &d));
  CHECK_INTEQ(d, 2000);
  CHECK(!restart_decide(&p, &s, &fail, 10, &d));
  /* a run longer than the window succeeded: attempts start again */
  CHECK(restart_decide(&p, &s, &fail, 30000, &d));
  CHECK_INTEQ(s.restart_count, 1);
  CHECK_STREQ(restart_mode_name(RESTART_UNLESS_STOPPED), "unless-stopped");
}

int main(void) {
  test_parse();
  test_deploy();
  test_on_failure_count();
  test_backoff();
  test_user_stop();
  test_deploy_delay_window();
  TEST_DONE();
}
