// module: supervisor
/* Bytes from any local client reach the supervisor's line splitter and
 * request parser; replies from a supervisor reach the client's.  Neither may
 * crash or leak whatever arrives. */
#include <cjson/cJSON.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "orchestrator/supervisor/sup_proto.h"
#include "runtime/util/error.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  struct sup_linebuf b = {0};
  /* feed in uneven pieces, as reads deliver them */
  size_t off = 0, step = 1;
  while (off < size) {
    size_t n = size - off < step ? size - off : step;
    if (sup_linebuf_feed(&b, (const char *)data + off, n) < 0)
      break;
    off += n;
    step = step * 3 + 1;
    char *line;
    size_t len;
    while (sup_linebuf_next(&b, &line, &len) == 1) {
      struct sup_request req;
      struct stack_error *err = NULL;
      if (sup_request_parse(line, len, &req, &err) == 0) {
        char *out = sup_format_result(req.id, cJSON_Duplicate(req.params, true));
        free(out);
      } else {
        char *out = sup_format_error(req.id, err->code, err->msg);
        free(out);
      }
      stack_error_free(err);
      sup_request_clear(&req);
      cJSON *res = NULL, *ev = NULL;
      err = NULL;
      if (sup_parse_reply(line, len, 1, &res, &ev, &err) < 0)
        stack_error_free(err);
      cJSON_Delete(res);
      cJSON_Delete(ev);
      free(line);
    }
  }
  sup_linebuf_free(&b);
  return 0;
}
