/* DNS wire format (RFC 1035): just enough to read queries and upstream
 * answers and to write our own answers.  Everything here treats its input as
 * hostile: every read is bounds-checked, compression pointers may only point
 * backwards and are limited in number, and names are limited to 255 bytes. */
#ifndef STACK_NET_DNS_PACKET_H
#define STACK_NET_DNS_PACKET_H

#include <netinet/in.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define DNS_HEADER_SIZE 12
#define DNS_NAME_MAX 255 /* presentation form, without the trailing dot */
#define DNS_UDP_MAX 512  /* without EDNS0 */

enum {
  DNS_TYPE_A = 1,
  DNS_TYPE_NS = 2,
  DNS_TYPE_CNAME = 5,
  DNS_TYPE_SOA = 6,
  DNS_TYPE_PTR = 12,
  DNS_TYPE_AAAA = 28,
  DNS_TYPE_OPT = 41,
  DNS_TYPE_ANY = 255,
  DNS_CLASS_IN = 1,
};

enum {
  DNS_RCODE_NOERROR = 0,
  DNS_RCODE_FORMERR = 1,
  DNS_RCODE_SERVFAIL = 2,
  DNS_RCODE_NXDOMAIN = 3,
  DNS_RCODE_NOTIMP = 4,
  DNS_RCODE_REFUSED = 5,
};

#define DNS_FLAG_QR 0x8000
#define DNS_FLAG_AA 0x0400
#define DNS_FLAG_TC 0x0200
#define DNS_FLAG_RD 0x0100
#define DNS_FLAG_RA 0x0080
#define DNS_OPCODE(flags) (((flags) >> 11) & 0xf)
#define DNS_RCODE(flags) ((flags)&0xf)

struct dns_header {
  uint16_t id, flags, qdcount, ancount, nscount, arcount;
};

/* The question of a query: we only answer messages with exactly one. */
struct dns_question {
  char name[DNS_NAME_MAX + 1]; /* lower-case, no trailing dot; "" is the root */
  uint16_t qtype, qclass;
};

/* A parsed query: header, its single question, and the byte offset where the
 * question ends (the answer section of a reply starts there). */
struct dns_query {
  struct dns_header hdr;
  struct dns_question q;
  size_t question_end;
};

/* Reads the 12-byte header. Returns 0 or -EBADMSG. */
int dns_parse_header(const uint8_t *buf, size_t len, struct dns_header *out);

/* Reads a possibly compressed name at *off into out (lower-cased, dotted, no
 * trailing dot) and advances *off past it.  Returns 0 or -EBADMSG. */
int dns_parse_name(const uint8_t *buf, size_t len, size_t *off, char out[DNS_NAME_MAX + 1]);

/* Parses a query: header with QR clear, opcode QUERY, exactly one question.
 * Returns 0, -EBADMSG (malformed: answer FORMERR if the header was readable)
 * or -EOPNOTSUPP (well-formed but not something we answer: NOTIMP). */
int dns_parse_query(const uint8_t *buf, size_t len, struct dns_query *out);

/* Walks a whole message (questions and all resource records), checking every
 * name and length, and returns the smallest TTL of the answer section (or of
 * the SOA in the authority section for negative answers) in *min_ttl, for the
 * forwarder's cache.  *min_ttl is UINT32_MAX when there is none. */
int dns_parse_response(const uint8_t *buf, size_t len, uint32_t *min_ttl);

/* Subtracts elapsed seconds from every TTL of a response in place (for
 * answers served from the cache).  Returns 0 or -EBADMSG. */
int dns_age_response(uint8_t *buf, size_t len, uint32_t elapsed);

/* Writes into out (capacity cap) a reply to q: the header (id and RD copied,
 * QR, AA, RA, rcode), the question as the client sent it, and one A record
 * per address (AAAA for in6 addresses when the question is AAAA) with ttl.
 * When the answers do not fit in cap the reply is truncated (TC set, no
 * answers).  Returns the reply's length, or -ENOBUFS if even the header and
 * question do not fit. */
int dns_write_reply(const uint8_t *query, const struct dns_query *q, int rcode,
                    const struct in_addr *v4, size_t n_v4, uint32_t ttl, uint8_t *out,
                    size_t cap);

/* Writes an error reply (FORMERR, SERVFAIL, ...) from the header alone, for
 * queries whose question cannot be parsed.  Returns the length (12). */
int dns_write_error(const struct dns_header *h, int rcode, uint8_t out[DNS_HEADER_SIZE]);

/* Writes a standard recursive query for name/qtype with the given id (what
 * tests and the benchmark send).  Returns the length or -ENOBUFS/-EINVAL. */
int dns_write_query(uint16_t id, const char *name, uint16_t qtype, uint8_t *out, size_t cap);

/* Reads the A records of a reply (for tests and the load generator): up to
 * max addresses into out, *n_out the count, *rcode the reply's rcode. */
int dns_read_a_answers(const uint8_t *buf, size_t len, int *rcode, struct in_addr *out,
                       size_t max, size_t *n_out);

#endif
