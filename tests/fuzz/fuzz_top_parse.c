// module: cli
/* What `ps PS_OPTIONS` printed in a guest, as `stack top` reads it: any
 * bytes.  The first byte picks the pids that count as the container's. */
#include <stdint.h>
#include <stdlib.h>

#include "orchestrator/cli/cli_table.h"
#include "orchestrator/cli/cli_top_parse.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  if (size == 0)
    return 0;
  uint32_t pids[8];
  for (size_t i = 0; i < 8; i++)
    pids[i] = (uint32_t)(data[0] + i * 7);
  struct cli_table t;
  if (top_parse_ps((const char *)data + 1, size - 1, pids, data[0] % 9, &t) >= 0)
    cli_table_free(&t);
  return 0;
}
