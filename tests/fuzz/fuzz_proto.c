// module: vm
/* The payload decoders of guest/proto.h that the guest init runs on what
 * the host sends (CONFIGURE, START, ...), and the host on the guest's
 * PROCS: whatever the bytes, they must stay in bounds, and what they
 * accept must encode back to the same bytes. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "guest/proto.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  if (size == 0)
    return 0;
  const uint8_t *p = data + 1;
  size_t n = size - 1;
  struct proto_wr w = {0};
  switch (data[0] % 5) {
  case 0: {
    struct proto_configure *c = malloc(sizeof *c);
    if (c && proto_dec_configure(p, n, c) == 0) {
      if (proto_enc_configure(&w, c) < 0 || w.len != n + PROTO_HDR_SIZE ||
          memcmp(w.buf + PROTO_HDR_SIZE, p, n) != 0)
        abort();
    }
    free(c);
    break;
  }
  case 1: {
    struct proto_start s;
    if (proto_dec_start(p, n, &s) == 0) {
      if (proto_enc_start(&w, 0, &s) < 0 || w.len != n + PROTO_HDR_SIZE ||
          memcmp(w.buf + PROTO_HDR_SIZE, p, n) != 0)
        abort();
      free(s.argv);
      free(s.env);
    }
    break;
  }
  case 2: {
    struct proto_exit e;
    uint32_t a, b;
    int32_t code;
    const char *msg;
    (void)proto_dec_exit(p, n, &e);
    (void)proto_dec_u32s(p, n, 2, &a, &b);
    (void)proto_dec_status(p, n, &code, &msg);
    break;
  }
  case 4: {
    struct proto_procs ps;
    if (proto_dec_procs(p, n, &ps) == 0) {
      if (proto_enc_procs(&w, 0, &ps) < 0 || w.len != n + PROTO_HDR_SIZE ||
          memcmp(w.buf + PROTO_HDR_SIZE, p, n) != 0)
        abort();
      free(ps.procs);
    }
    break;
  }
  default: {
    struct proto_hdr h;
    if (n >= PROTO_HDR_SIZE)
      (void)proto_hdr_decode(p, &h);
    break;
  }
  }
  proto_wr_free(&w);
  return 0;
}
