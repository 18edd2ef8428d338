/* image_config_parse(): fields, absent fields, wrong types. */
#include <string.h>

#include "runtime/image/image.h"
#include "runtime/util/cleanup.h"
#include "runtime/util/error.h"
#include "test.h"

static const char full[] =
    "{\"architecture\":\"arm64\",\"os\":\"linux\",\"variant\":\"v8\",\"config\":{"
    "\"Env\":[\"PATH=/usr/bin\",\"A=b\"],\"Entrypoint\":[\"/entry.sh\"],\"Cmd\":[\"redis-server\",\"--x\"],"
    "\"WorkingDir\":\"/data\",\"User\":\"999:999\",\"StopSignal\":\"SIGQUIT\","
    "\"ExposedPorts\":{\"6379/tcp\":{},\"53/udp\":{}},\"Volumes\":{\"/data\":{}},"
    "\"Labels\":{\"org.x\":\"y\"},"
    "\"Healthcheck\":{\"Test\":[\"CMD-SHELL\",\"true\"],\"Interval\":1000000000,\"Timeout\":2,"
    "\"StartPeriod\":3,\"StartInterval\":4,\"Retries\":5}}}";

int main(void) {
  struct image_config c;
  _cleanup_error_ struct stack_error *e = NULL;
  CHECK(image_config_parse(full, strlen(full), &c, &e) == 0);
  CHECK_STREQ(c.architecture, "arm64");
  CHECK_STREQ(c.os, "linux");
  CHECK_STREQ(c.variant, "v8");
  CHECK(c.env && strcmp(c.env[1], "A=b") == 0 && c.env[2] == NULL);
  CHECK(c.entrypoint && strcmp(c.entrypoint[0], "/entry.sh") == 0);
  CHECK(c.cmd && strcmp(c.cmd[1], "--x") == 0);
  CHECK_STREQ(c.working_dir, "/data");
  CHECK_STREQ(c.user, "999:999");
  CHECK_STREQ(c.stop_signal, "SIGQUIT");
  CHECK(c.exposed_ports && strcmp(c.exposed_ports[0], "6379/tcp") == 0 &&
        strcmp(c.exposed_ports[1], "53/udp") == 0);
  CHECK(c.volumes && strcmp(c.volumes[0], "/data") == 0);
  CHECK(c.labels && strcmp(c.labels[0], "org.x=y") == 0);
  CHECK(c.health_test && strcmp(c.health_test[0], "CMD-SHELL") == 0);
  CHECK_INTEQ(c.health_interval_ns, 1000000000);
  CHECK_INTEQ(c.health_timeout_ns, 2);
  CHECK_INTEQ(c.health_start_period_ns, 3);
  CHECK_INTEQ(c.health_start_interval_ns, 4);
  CHECK_INTEQ(c.health_retries, 5);
  image_config_clear(&c);

  const char *minimal = "{\"os\":\"linux\",\"config\":{\"Cmd\":null,\"Healthcheck\":{\"Test\":[\"NONE\"]}}}";
  CHECK(image_config_parse(minimal, strlen(minimal), &c, &e) == 0);
  CHECK(c.cmd == NULL && c.entrypoint == NULL && c.health_test == NULL && c.env == NULL);
  image_config_clear(&c);

  const char *bad[] = {"{\"config\":{\"Env\":[1]}}", "{\"config\":{\"User\":3}}",
                       "{\"config\":[]}", "[]", "{", "{\"config\":{\"Labels\":{\"a\":1}}}",
                       "{\"config\":{\"Healthcheck\":{\"Interval\":-5}}}"};
  for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
    stack_error_free(e);
    e = NULL;
    CHECK_MSG(image_config_parse(bad[i], strlen(bad[i]), &c, &e) == -EINVAL, "%s", bad[i]);
    CHECK(e != NULL && strstr(e->msg, "image config") != NULL);
  }
  TEST_DONE();
}
