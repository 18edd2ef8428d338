#include "orchestrator/supervisor/dep_gate.h"
#include "runtime/util/cleanup.h"
#include "test.h"

static enum dep_verdict one(struct dep_input *d, struct dep_container c, char **msg) {
  d->containers = &c;
  d->n_containers = 1;
  enum dep_verdict v = dep_check("app", d, msg);
  d->containers = NULL;
  d->n_containers = 0;
  return v;
}

static void test_healthy(void) {
  struct dep_input d = {.service = "db", .condition = DEP_HEALTHY, .required = true, .scale = 1};
  char *msg = NULL;
  struct dep_container c = {"P-db-1", CTR_CREATED, 0, false, true, HEALTH_NONE, false};
  CHECK_INTEQ(one(&d, c, &msg), DEP_WAIT);
  c.status = CTR_RUNNING;
  c.health = HEALTH_STARTING;
  CHECK_INTEQ(one(&d, c, &msg), DEP_WAIT);
  CHECK(msg == NULL);
  c.health = HEALTH_HEALTHY;
  CHECK_INTEQ(one(&d, c, &msg), DEP_GO);
  c.health = HEALTH_UNHEALTHY;
  c.name = "P-fail-1";
  CHECK_INTEQ(one(&d, c, &msg), DEP_FAIL);
  CHECK_STREQ(msg, "dependency failed to start: container P-fail-1 is unhealthy");
  free(msg);
  c.status = CTR_EXITED;
  c.exit_code = 1;
  c.name = "P-db-1";
  CHECK_INTEQ(one(&d, c, &msg), DEP_FAIL);
  CHECK_STREQ(msg, "dependency failed to start: container P-db-1 exited (1)");
  free(msg);
  /* no check, just started: Compose has not looked yet (an exit by its
   * first look is reported as the exit) */
  c = (struct dep_container){"P-db-1", CTR_RUNNING, 0, false, false, HEALTH_NONE, true};
  CHECK_INTEQ(one(&d, c, &msg), DEP_WAIT);
  CHECK(msg == NULL);
  c.status = CTR_EXITED;
  c.exit_code = 1;
  CHECK_INTEQ(one(&d, c, &msg), DEP_FAIL);
  CHECK_STREQ(msg, "dependency failed to start: container P-db-1 exited (1)");
  free(msg);
  c = (struct dep_container){"P-db-1", CTR_RUNNING, 0, false, false, HEALTH_NONE, false};
  CHECK_INTEQ(one(&d, c, &msg), DEP_FAIL);
  CHECK_STREQ(msg, "dependency failed to start: container P-db-1 has no healthcheck configured");
  free(msg);
  /* optional: warn and go on */
  d.required = false;
  c = (struct dep_container){"P-db-1", CTR_RUNNING, 0, false, true, HEALTH_UNHEALTHY, false};
  CHECK_INTEQ(one(&d, c, &msg), DEP_GO);
  CHECK_STREQ(msg, "optional dependency \"db\" failed to start: container P-db-1 is unhealthy");
  free(msg);
}

static void test_completed(void) {
  struct dep_input d = {.service = "init", .condition = DEP_COMPLETED_OK, .required = true, .scale = 1};
  char *msg = NULL;
  struct dep_container c = {"P-init-1", CTR_RUNNING, 0, false, false, HEALTH_NONE, false};
  CHECK_INTEQ(one(&d, c, &msg), DEP_WAIT);
  c.status = CTR_CREATED;
  CHECK_INTEQ(one(&d, c, &msg), DEP_WAIT);
  c.status = CTR_EXITED;
  CHECK_INTEQ(one(&d, c, &msg), DEP_GO);
  CHECK(msg == NULL);
  c.exit_code = 3;
  CHECK_INTEQ(one(&d, c, &msg), DEP_FAIL);
  CHECK_STREQ(msg, "service \"init\" didn't complete successfully: exit 3");
  free(msg);
  d.required = false;
  CHECK_INTEQ(one(&d, c, &msg), DEP_GO);
  CHECK_STREQ(msg, "optional dependency \"init\" didn't complete successfully: exit 3");
  free(msg);
}

static void test_started_and_missing(void) {
  struct dep_input d = {.service = "db", .condition = DEP_STARTED, .required = true, .scale = 1};
  char *msg = NULL;
  struct dep_container c = {"P-db-1", CTR_CREATED, 0, false, false, HEALTH_NONE, false};
  CHECK_INTEQ(one(&d, c, &msg), DEP_WAIT);
  c.status = CTR_RUNNING;
  CHECK_INTEQ(one(&d, c, &msg), DEP_GO);
  c.status = CTR_EXITED; /* it started: that is all service_started asks */
  CHECK_INTEQ(one(&d, c, &msg), DEP_GO);
  c.start_failed = true;
  CHECK_INTEQ(one(&d, c, &msg), DEP_FAIL);
  CHECK_STREQ(msg, "dependency failed to start: container P-db-1 could not be started");
  free(msg);
  /* no container for a dependency that should have one */
  CHECK_INTEQ(dep_check("app", &d, &msg), DEP_FAIL);
  CHECK_STREQ(msg, "app is missing dependency db");
  free(msg);
  d.scale = 0; /* scaled to zero: nothing to wait for */
  CHECK_INTEQ(dep_check("app", &d, &msg), DEP_GO);
  CHECK(msg == NULL);
  d.scale = 1;
  d.skip = true;
  CHECK_INTEQ(dep_check("app", &d, &msg), DEP_GO);
}

static void test_wait_condition(void) {
  struct dep_input d = {.service = "web", .condition = DEP_RUNNING_OR_HEALTHY, .required = true, .scale = 2};
  struct dep_container cs[2] = {{"P-web-1", CTR_RUNNING, 0, false, false, HEALTH_NONE, false},
                                {"P-web-2", CTR_RUNNING, 0, false, true, HEALTH_STARTING, false}};
  d.containers = cs;
  d.n_containers = 2;
  char *msg = NULL;
  CHECK_INTEQ(dep_check("up", &d, &msg), DEP_WAIT);
  cs[1].health = HEALTH_HEALTHY;
  CHECK_INTEQ(dep_check("up", &d, &msg), DEP_GO);
  cs[0].status = CTR_EXITED;
  cs[0].exit_code = 2;
  CHECK_INTEQ(dep_check("up", &d, &msg), DEP_FAIL);
  CHECK_STREQ(msg, "container P-web-1 exited (2)");
  free(msg);
}

static void test_gate(void) {
  struct dep_container db = {"P-db-1", CTR_RUNNING, 0, false, true, HEALTH_STARTING, false};
  struct dep_container opt = {"P-opt-1", CTR_EXITED, 1, false, false, HEALTH_NONE, false};
  struct dep_input deps[2] = {
      {"db", DEP_HEALTHY, true, false, 1, &db, 1},
      {"opt", DEP_COMPLETED_OK, false, false, 1, &opt, 1},
  };
  char *error = NULL;
  _cleanup_strv_ char **warnings = NULL;
  CHECK_INTEQ(dep_gate("app", deps, 2, &error, &warnings), DEP_WAIT);
  CHECK(warnings == NULL); /* warned only once the gate opens */
  db.health = HEALTH_HEALTHY;
  CHECK_INTEQ(dep_gate("app", deps, 2, &error, &warnings), DEP_GO);
  CHECK(warnings && warnings[0] && warnings[1] == NULL);
  CHECK(warnings && strstr(warnings[0], "optional dependency \"opt\""));
  db.health = HEALTH_UNHEALTHY;
  CHECK_INTEQ(dep_gate("app", deps, 2, &error, &warnings), DEP_FAIL);
  CHECK_STREQ(error, "dependency failed to start: container P-db-1 is unhealthy");
  free(error);
  CHECK_INTEQ(dep_gate("app", NULL, 0, &error, &warnings), DEP_GO);
}

int main(void) {
  test_healthy();
  test_completed();
  test_started_and_missing();
  test_wait_condition();
  test_gate();
  TEST_DONE();
}
