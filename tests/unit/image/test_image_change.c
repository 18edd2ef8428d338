/* --change instructions of `stack image import`. */
#include <string.h>

#include "runtime/image/image_change.h"
#include "runtime/util/cjson_cleanup.h"
#include "runtime/util/cleanup.h"
#include "runtime/util/error.h"
#include "test.h"

static char *field(cJSON *c, const char *key) {
  return cJSON_PrintUnformatted(cJSON_GetObjectItemCaseSensitive(c, key));
}

#define CHECK_FIELD(c, key, json)                                                                  \
  do {                                                                                             \
    _cleanup_free_ char *_f = field(c, key);                                                       \
    CHECK_STREQ(_f, json);                                                                         \
  } while (0)

int main(void) {
  _cleanup_cjson_ cJSON *c = cJSON_Parse("{\"Env\":[\"PATH=/bin\",\"A=1\"]}");
  _cleanup_error_ struct stack_error *e = NULL;
  const char *ok[] = {"CMD [\"redis-server\", \"--x\"]", "entrypoint /entry.sh --flag",
                      "ENV A=2", "ENV B \"with space\"", "EXPOSE 80 53/udp", "LABEL k=v",
                      "WORKDIR /data", "USER 999:999", "STOPSIGNAL SIGQUIT", "VOLUME /data /cache"};
  for (size_t i = 0; i < sizeof(ok) / sizeof(ok[0]); i++)
    CHECK_MSG(image_change_apply(c, ok[i], &e) == 0, "%s: %s", ok[i], e ? e->msg : "");
  CHECK_FIELD(c, "Cmd", "[\"redis-server\",\"--x\"]");
  CHECK_FIELD(c, "Entrypoint", "[\"/bin/sh\",\"-c\",\"/entry.sh --flag\"]");
  CHECK_FIELD(c, "Env", "[\"PATH=/bin\",\"A=2\",\"B=with space\"]");
  CHECK_FIELD(c, "ExposedPorts", "{\"80/tcp\":{},\"53/udp\":{}}");
  CHECK_FIELD(c, "Labels", "{\"k\":\"v\"}");
  CHECK_FIELD(c, "WorkingDir", "\"/data\"");
  CHECK_FIELD(c, "User", "\"999:999\"");
  CHECK_FIELD(c, "StopSignal", "\"SIGQUIT\"");
  CHECK_FIELD(c, "Volumes", "{\"/data\":{},\"/cache\":{}}");

  const char *bad[] = {"FROM scratch", "CMD", "CMD [1, 2]", "CMD [\"unterminated\"", "ENV =x", ""};
  for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
    stack_error_free(e);
    e = NULL;
    CHECK_MSG(image_change_apply(c, bad[i], &e) == -EINVAL, "accepted: %s", bad[i]);
    CHECK(e && strstr(e->msg, "--change"));
  }
  TEST_DONE();
}
