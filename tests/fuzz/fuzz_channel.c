// module: vm
/* The host side of the guest control protocol: what a hostile guest could
 * send.  The input is fed in pieces whose sizes come from its first byte, so
 * frames split across reads are covered too. */
#include <stddef.h>
#include <stdint.h>

#include "runtime/vm/channel.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* Touches every byte handed out, so the sanitizers see a bad bound. */
static void on_output(void *d, uint16_t s, int fd, const uint8_t *p, size_t n) {
  (void)s;
  (void)fd;
  uint8_t x = 0;
  for (size_t i = 0; i < n; i++)
    x ^= p[i];
  *(uint8_t *)d ^= x;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  static const struct channel_ops ops = {.output = on_output};
  if (size == 0)
    return 0;
  size_t step = (size_t)data[0] + 1;
  data++;
  size--;
  struct channel_parser p = {0};
  uint8_t sink = 0;
  while (size > 0) {
    size_t n = size < step ? size : step;
    if (channel_parser_feed(&p, data, n, &ops, &sink) < 0)
      break;
    data += n;
    size -= n;
  }
  channel_parser_clear(&p);
  return 0;
}
