// module: supervisor
/* The /proc texts `stack stats` parses for a QEMU process: stat (first
 * byte 0), smaps_rollup (1), io (2). */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "orchestrator/supervisor/proc_usage.h"
#include "orchestrator/supervisor/procinfo.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  if (size == 0)
    return 0;
  char *s = malloc(size);
  memcpy(s, data + 1, size - 1);
  s[size - 1] = '\0';
  uint64_t v;
  switch (data[0] % 3) {
  case 0:
    for (int f = 1; f < 60; f++)
      proc_parse_stat_field(s, f, &v);
    break;
  case 1:
    proc_parse_pss(s, &v);
    break;
  default:
    proc_parse_io_field(s, "read_bytes", &v);
    proc_parse_io_field(s, "write_bytes", &v);
  }
  free(s);
  return 0;
}
