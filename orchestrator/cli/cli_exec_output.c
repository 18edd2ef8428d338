#include "cli_exec_output.h"

#include <cjson/cJSON.h>

#include "runtime/util/base64.h"

unsigned char *cli_exec_output_decode(const cJSON *ev, int *fd, size_t *n) {
  const char *b64 = cJSON_GetStringValue(cJSON_GetObjectItem(ev, "data"));
  *fd = cJSON_GetNumberValue(cJSON_GetObjectItem(ev, "fd")) == 2 ? 2 : 1;
  *n = 0;
  return b64 ? b64_decode(b64, n) : NULL;
}
