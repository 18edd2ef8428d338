/* The QMP client's protocol logic, fed bytes as QEMU would send them. */
#include <errno.h>
#include <string.h>

#include "runtime/util/cleanup.h"
#include "runtime/util/error.h"
#include "runtime/util/sbuf.h"
#include "runtime/vm/qmp.h"
#include "test.h"

static struct sbuf log_ = SBUF_INIT;

static void on_state(struct qmp *q, int status, void *d) {
  (void)q, (void)d;
  sbuf_printf(&log_, "state:%d;", status);
}

static void on_event(struct qmp *q, const char *event, const cJSON *data, void *d) {
  (void)q, (void)d;
  const cJSON *reason = data ? cJSON_GetObjectItemCaseSensitive(data, "reason") : NULL;
  sbuf_printf(&log_, "event:%s:%s;", event, cJSON_IsString(reason) ? reason->valuestring : "");
}

static void on_reply(struct qmp *q, int status, const cJSON *ret, const char *desc, void *d) {
  (void)q;
  const cJSON *st = ret ? cJSON_GetObjectItemCaseSensitive(ret, "status") : NULL;
  sbuf_printf(&log_, "reply:%s:%d:%s:%s;", (const char *)d, status, desc ? desc : "",
              cJSON_IsString(st) ? st->valuestring : "");
}

static void feed(struct qmp *q, const char *s) { CHECK(qmp_feed(q, s, strlen(s), NULL) == 0); }

static void test_session(void) {
  sbuf_reset(&log_);
  struct qmp *q = qmp_new_unconnected(on_state, on_event, NULL);
  /* Queued before the greeting, answered after negotiation. */
  CHECK(qmp_query_status(q, on_reply, "qs", NULL) == 0);
  CHECK(qmp_stop(q, on_reply, "stop", NULL) == 0);
  feed(q, "{\"QMP\": {\"version\": {}, \"capabilities\": []}}\r\n{\"return\": {}, \"id\": \"c");
  CHECK(log_.data == NULL);
  feed(q, "ap\"}\r\n");
  CHECK_STREQ(log_.data, "state:0;");
  /* Replies out of order are matched by id; a stranger id is ignored. */
  feed(q, "{\"return\": {}, \"id\": 2}\r\n{\"return\": {}, \"id\": 77}\r\n"
          "{\"event\": \"STOP\", \"timestamp\": {}}\r\n"
          "{\"return\": {\"status\": \"running\", \"running\": true}, \"id\": 1}\r\n");
  CHECK_STREQ(log_.data, "state:0;reply:stop:0::;event:STOP:;reply:qs:0::running;");
  sbuf_reset(&log_);
  CHECK(qmp_cont(q, on_reply, "cont", NULL) == 0);
  feed(q, "{\"error\": {\"class\": \"GenericError\", \"desc\": \"not now\"}, \"id\": 3}\n");
  CHECK_STREQ(log_.data, "reply:cont:-5:not now:;");
  sbuf_reset(&log_);
  feed(q, "{\"event\": \"SHUTDOWN\", \"data\": {\"guest\": true, \"reason\": \"guest-reset\"}}\n");
  CHECK_STREQ(log_.data, "event:SHUTDOWN:guest-reset;");
  sbuf_reset(&log_);
  /* Pending commands fail when the client goes away. */
  CHECK(qmp_quit(q, on_reply, "quit", NULL) == 0);
  qmp_free_unconnected(q);
  CHECK_STREQ(log_.data, "reply:quit:-104:QMP connection closed:;");
}

static void test_garbage(void) {
  sbuf_reset(&log_);
  struct qmp *q = qmp_new_unconnected(on_state, NULL, NULL);
  _cleanup_error_ struct stack_error *err = NULL;
  CHECK(qmp_feed(q, "[1]\n", 4, &err) == -EPROTO);
  CHECK(qmp_feed(q, "nope\n", 5, &err) == -EPROTO);
  /* A line without end is capped. */
  static char big[1 << 16];
  memset(big, 'x', sizeof(big));
  int r = 0;
  for (int i = 0; i < 20 && r == 0; i++)
    r = qmp_feed(q, big, sizeof(big), &err);
  CHECK_INTEQ(r, -EPROTO);
  CHECK(err && strstr(err->msg, "longer"));
  qmp_free_unconnected(q);
}

/* BLOCK_IO_ERROR as QEMU 7.2 sends it when a write hits ENOSPC, and what a
 * lying QEMU could send instead. */
static void test_io_error(void) {
  struct qmp_io_error e;
  cJSON *d = cJSON_Parse("{\"device\": \"data\", \"node-name\": \"#block312\", "
                         "\"reason\": \"No space left on device\", \"operation\": \"write\", "
                         "\"action\": \"stop\", \"nospace\": true}");
  CHECK_INTEQ(qmp_io_error_parse(d, &e), 0);
  CHECK_STREQ(e.device, "data");
  CHECK_STREQ(e.operation, "write");
  CHECK_STREQ(e.action, "stop");
  CHECK_STREQ(e.reason, "No space left on device");
  CHECK(e.nospace);
  cJSON_Delete(d);
  /* another error is reported to the guest: no nospace member */
  d = cJSON_Parse("{\"device\": \"data\", \"operation\": \"read\", \"action\": \"report\", "
                  "\"reason\": \"Input/output error\"}");
  CHECK_INTEQ(qmp_io_error_parse(d, &e), 0);
  CHECK(!e.nospace);
  CHECK_STREQ(e.action, "report");
  cJSON_Delete(d);
  /* wrong types are not believed; no action is not an event we act on */
  d = cJSON_Parse("{\"device\": 3, \"action\": \"stop\", \"nospace\": \"yes\", \"reason\": []}");
  CHECK_INTEQ(qmp_io_error_parse(d, &e), 0);
  CHECK_STREQ(e.device, "");
  CHECK_STREQ(e.reason, "");
  CHECK(!e.nospace);
  cJSON_Delete(d);
  d = cJSON_Parse("{\"device\": \"data\", \"action\": 1}");
  CHECK_INTEQ(qmp_io_error_parse(d, &e), -EPROTO);
  cJSON_Delete(d);
  d = cJSON_Parse("[]");
  CHECK_INTEQ(qmp_io_error_parse(d, &e), -EPROTO);
  cJSON_Delete(d);
  CHECK_INTEQ(qmp_io_error_parse(NULL, &e), -EPROTO);
}

int main(void) {
  test_session();
  test_garbage();
  test_io_error();
  sbuf_free(&log_);
  TEST_DONE();
}
