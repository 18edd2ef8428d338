// module: net
/* The DNS packet parser on arbitrary bytes: as a query (and the reply we
 * would write to it), as an upstream response, and the cache's TTL ageing. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "net/dns_packet.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  struct dns_query q;
  uint8_t out[DNS_UDP_MAX];
  if (dns_parse_query(data, size, &q) == 0) {
    struct in_addr a[3] = {{0x0100000a}, {0x0200000a}, {0x0300000a}};
    int n = dns_write_reply(data, &q, 0, a, 3, 10, out, sizeof(out));
    if (n > 0) {
      int rcode;
      size_t cnt;
      struct in_addr got[4];
      if (dns_read_a_answers(out, (size_t)n, &rcode, got, 4, &cnt) != 0)
        abort(); /* what we write must parse */
    }
  }
  uint32_t ttl;
  (void)dns_parse_response(data, size, &ttl);
  uint8_t *copy = malloc(size ? size : 1);
  if (copy) {
    memcpy(copy, data, size);
    (void)dns_age_response(copy, size, 7);
    free(copy);
  }
  return 0;
}
