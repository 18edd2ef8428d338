// module: cli
/* `logs --since` / `--until` values: any text. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "orchestrator/cli/cli_logtime.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  char *s = malloc(size + 1);
  memcpy(s, data, size);
  s[size] = '\0';
  int64_t v;
  cli_log_time_parse(s, 1714557600000, &v);
  free(s);
  return 0;
}
