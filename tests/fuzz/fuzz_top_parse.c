// module: cli
/* What `ps` printed in a guest, as `stack top` reads it: any bytes. */
#include <stdint.h>
#include <stdlib.h>

#include "orchestrator/cli/cli_table.h"
#include "orchestrator/cli/cli_top_parse.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  static const char *const header[] = TOP_HEADER;
  struct cli_table t;
  cli_table_init(&t, TOP_NCOLS, header);
  top_parse_ps((const char *)data, size, &t);
  cli_table_free(&t);
  return 0;
}
