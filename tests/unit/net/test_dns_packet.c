/* The DNS wire-format parser and writer, on hand-made packets. */
#include <arpa/inet.h>
#include <errno.h>
#include <string.h>

#include "net/dns_packet.h"
#include "test.h"

static void test_query_roundtrip(void) {
  uint8_t buf[512];
  int n = dns_write_query(0x1234, "Web.Example.", DNS_TYPE_A, buf, sizeof(buf));
  CHECK(n > 0);
  struct dns_query q;
  CHECK_INTEQ(dns_parse_query(buf, (size_t)n, &q), 0);
  CHECK_INTEQ(q.hdr.id, 0x1234);
  CHECK_STREQ(q.q.name, "web.example");
  CHECK_INTEQ(q.q.qtype, DNS_TYPE_A);
  CHECK_INTEQ(q.q.qclass, DNS_CLASS_IN);
  CHECK_INTEQ(q.question_end, (size_t)n);

  struct in_addr a[2];
  inet_pton(AF_INET, "10.1.2.3", &a[0]);
  inet_pton(AF_INET, "10.1.2.4", &a[1]);
  uint8_t out[512];
  int w = dns_write_reply(buf, &q, DNS_RCODE_NOERROR, a, 2, 30, out, sizeof(out));
  CHECK_INTEQ(w, n + 32);
  int rcode = -1;
  struct in_addr got[4];
  size_t cnt = 0;
  CHECK_INTEQ(dns_read_a_answers(out, (size_t)w, &rcode, got, 4, &cnt), 0);
  CHECK_INTEQ(rcode, 0);
  CHECK_INTEQ(cnt, 2);
  CHECK(got[0].s_addr == a[0].s_addr && got[1].s_addr == a[1].s_addr);
  uint32_t ttl = 0;
  CHECK_INTEQ(dns_parse_response(out, (size_t)w, &ttl), 0);
  CHECK_INTEQ(ttl, 30);
  /* Ageing a cached answer lowers its TTLs, never below zero. */
  CHECK_INTEQ(dns_age_response(out, (size_t)w, 12), 0);
  CHECK_INTEQ(dns_parse_response(out, (size_t)w, &ttl), 0);
  CHECK_INTEQ(ttl, 18);
  CHECK_INTEQ(dns_age_response(out, (size_t)w, 100), 0);
  CHECK_INTEQ(dns_parse_response(out, (size_t)w, &ttl), 0);
  CHECK_INTEQ(ttl, 0);
  CHECK((out[2] & 0x80) && (out[2] & 0x01)); /* QR and RD kept */

  /* AAAA for a name we know: NODATA (no answers, NOERROR). */
  n = dns_write_query(7, "web", DNS_TYPE_AAAA, buf, sizeof(buf));
  CHECK_INTEQ(dns_parse_query(buf, (size_t)n, &q), 0);
  w = dns_write_reply(buf, &q, DNS_RCODE_NOERROR, a, 2, 30, out, sizeof(out));
  CHECK_INTEQ(dns_read_a_answers(out, (size_t)w, &rcode, got, 4, &cnt), 0);
  CHECK_INTEQ(cnt, 0);
  CHECK_INTEQ(rcode, 0);
}

static void test_truncation(void) {
  uint8_t buf[512], out[512];
  int n = dns_write_query(1, "many", DNS_TYPE_A, buf, sizeof(buf));
  struct dns_query q;
  CHECK_INTEQ(dns_parse_query(buf, (size_t)n, &q), 0);
  struct in_addr a[40];
  memset(a, 1, sizeof(a));
  int w = dns_write_reply(buf, &q, 0, a, 40, 5, out, DNS_UDP_MAX);
  CHECK(w > 0 && w <= DNS_UDP_MAX);
  CHECK(out[2] & 0x02); /* TC */
  CHECK_INTEQ(dns_write_reply(buf, &q, 0, a, 1, 5, out, 4), -ENOBUFS);
}

static void test_compression(void) {
  /* Header, question "a.b" then an answer whose name is a pointer to it,
   * and a second name "x" + pointer to "b". */
  const uint8_t msg[] = {0,    1,   0x81, 0x80, 0, 1, 0, 1, 0, 0, 0, 0,
                         1,    'a', 1,    'B',  0, 0, 1, 0, 1,           /* question */
                         0xc0, 12,  0,    1,    0, 1, 0, 0, 0, 60, 0, 4, /* answer */
                         10,   0,   0,    1};
  size_t off = 12;
  char name[DNS_NAME_MAX + 1];
  CHECK_INTEQ(dns_parse_name(msg, sizeof(msg), &off, name), 0);
  CHECK_STREQ(name, "a.b");
  off = 21;
  CHECK_INTEQ(dns_parse_name(msg, sizeof(msg), &off, name), 0);
  CHECK_STREQ(name, "a.b");
  CHECK_INTEQ(off, 23);
  uint32_t ttl;
  CHECK_INTEQ(dns_parse_response(msg, sizeof(msg), &ttl), 0);
  CHECK_INTEQ(ttl, 60);
  int rcode;
  struct in_addr got;
  size_t cnt;
  CHECK_INTEQ(dns_read_a_answers(msg, sizeof(msg), &rcode, &got, 1, &cnt), 0);
  CHECK_INTEQ(cnt, 1);
  CHECK_INTEQ(ntohl(got.s_addr), 0x0a000001);
}

static void test_malformed(void) {
  char name[DNS_NAME_MAX + 1];
  struct dns_query q;
  /* A pointer to itself, a forward pointer, a label past the end, a
   * reserved label type, a truncated pointer. */
  const uint8_t self[] = {0, 1, 0, 0, 0, 1, 0, 0, 0, 0, 0, 0, 0xc0, 12, 0, 1, 0, 1};
  const uint8_t fwd[] = {0, 1, 0, 0, 0, 1, 0, 0, 0, 0, 0, 0, 0xc0, 14, 1, 'a', 0, 0, 1, 0, 1};
  const uint8_t past[] = {0, 1, 0, 0, 0, 1, 0, 0, 0, 0, 0, 0, 9, 'a', 'b'};
  const uint8_t rsvd[] = {0, 1, 0, 0, 0, 1, 0, 0, 0, 0, 0, 0, 0x41, 'a', 0, 0, 1, 0, 1};
  const uint8_t trunc[] = {0, 1, 0, 0, 0, 1, 0, 0, 0, 0, 0, 0, 0xc0};
  const uint8_t noq[] = {0, 1, 0, 0, 0, 1, 0, 0, 0, 0, 0, 0, 0};
  CHECK_INTEQ(dns_parse_query(self, sizeof(self), &q), -EBADMSG);
  CHECK_INTEQ(dns_parse_query(fwd, sizeof(fwd), &q), -EBADMSG);
  CHECK_INTEQ(dns_parse_query(past, sizeof(past), &q), -EBADMSG);
  CHECK_INTEQ(dns_parse_query(rsvd, sizeof(rsvd), &q), -EBADMSG);
  CHECK_INTEQ(dns_parse_query(trunc, sizeof(trunc), &q), -EBADMSG);
  CHECK_INTEQ(dns_parse_query(noq, sizeof(noq), &q), -EBADMSG); /* no type/class */
  CHECK_INTEQ(dns_parse_query(self, 5, &q), -EBADMSG);
  CHECK_INTEQ(dns_parse_query(NULL, 0, &q), -EBADMSG);

  /* Two questions: well-formed but not answered (NOTIMP). */
  uint8_t two[64];
  int n = dns_write_query(3, "a", DNS_TYPE_A, two, sizeof(two));
  two[5] = 2;
  CHECK_INTEQ(dns_parse_query(two, (size_t)n, &q), -EOPNOTSUPP);
  /* A response is not a query. */
  two[5] = 1;
  two[2] |= 0x80;
  CHECK_INTEQ(dns_parse_query(two, (size_t)n, &q), -EBADMSG);

  /* Names longer than 255 bytes on the wire. */
  uint8_t big[600] = {0, 1, 0, 0, 0, 1};
  size_t off = 12;
  for (int i = 0; i < 5; i++) {
    big[off++] = 63;
    memset(big + off, 'x', 63);
    off += 63;
  }
  big[off++] = 0;
  size_t o2 = 12;
  CHECK_INTEQ(dns_parse_name(big, off, &o2, name), -EBADMSG);

  /* Odd bytes in a label are escaped, so they cannot alias another name. */
  const uint8_t odd[] = {0, 1, 0, 0, 0, 1, 0, 0, 0, 0, 0, 0, 3, 'a', '.', 'b', 0, 0, 1, 0, 1};
  CHECK_INTEQ(dns_parse_query(odd, sizeof(odd), &q), 0);
  CHECK_STREQ(q.q.name, "a\\046b");

  CHECK_INTEQ(dns_write_query(1, "a..b", DNS_TYPE_A, two, sizeof(two)), -EINVAL);
}

int main(void) {
  test_query_roundtrip();
  test_truncation();
  test_compression();
  test_malformed();
  TEST_DONE();
}
