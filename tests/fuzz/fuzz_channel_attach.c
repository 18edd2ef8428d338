// module: vm
/* The host taking over a guest (channel_parser_hunt()): what a hostile
 * guest could send before and after its ATTACHED.  The nonce is fixed
 * (sixteen 0xa5 bytes) so that inputs can hold the frame; pieces are sized
 * by the first byte, as in fuzz_channel. */
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "runtime/vm/channel.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void on_output(void *d, uint16_t s, int fd, const uint8_t *p, size_t n) {
  (void)s;
  (void)fd;
  uint8_t x = 0;
  for (size_t i = 0; i < n; i++)
    x ^= p[i];
  *(uint8_t *)d ^= x;
}

static void on_attached(void *d, const struct proto_attached *a) {
  *(uint8_t *)d ^= (uint8_t)(a->state ^ a->last_session ^ a->nonce[0]);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  static const struct channel_ops ops = {.output = on_output, .attached = on_attached};
  if (size == 0)
    return 0;
  size_t step = (size_t)data[0] + 1;
  data++;
  size--;
  uint8_t nonce[PROTO_NONCE_SIZE];
  memset(nonce, 0xa5, sizeof nonce);
  struct channel_parser p = {0};
  channel_parser_hunt(&p, nonce);
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
