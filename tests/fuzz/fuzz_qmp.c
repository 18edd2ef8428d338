// module: vm
/* What a compromised QEMU could send on the QMP socket: the client must
 * neither crash nor grow without bound.  The input is fed in two pieces to
 * exercise line reassembly, with commands pending so that replies are
 * matched against real ones. */
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "runtime/util/cleanup.h"
#include "runtime/util/error.h"
#include "runtime/vm/qmp.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void on_reply(struct qmp *q, int status, const cJSON *ret, const char *desc, void *d) {
  (void)q, (void)status, (void)ret, (void)desc, (void)d;
}

static void on_event(struct qmp *q, const char *event, const cJSON *event_data, void *d) {
  (void)q, (void)event, (void)d;
  struct qmp_io_error e;
  if (qmp_io_error_parse(event_data, &e) == 0 && e.nospace && strcmp(e.action, "stop") == 0)
    (void)strlen(e.device); /* the fields are strings, never NULL */
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  struct qmp *q = qmp_new_unconnected(NULL, on_event, NULL);
  qmp_query_status(q, on_reply, NULL, NULL);
  qmp_stop(q, on_reply, NULL, NULL);
  size_t half = size / 2;
  _cleanup_error_ struct stack_error *err = NULL;
  if (qmp_feed(q, (const char *)data, half, &err) == 0)
    qmp_feed(q, (const char *)data + half, size - half, &err);
  qmp_cont(q, on_reply, NULL, NULL);
  qmp_free_unconnected(q);
  return 0;
}
