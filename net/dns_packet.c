#include "dns_packet.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>

static uint16_t get16(const uint8_t *p) { return (uint16_t)(p[0] << 8 | p[1]); }
static uint32_t get32(const uint8_t *p) {
  return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}
static void put16(uint8_t *p, uint16_t v) {
  p[0] = (uint8_t)(v >> 8);
  p[1] = (uint8_t)v;
}
static void put32(uint8_t *p, uint32_t v) {
  put16(p, (uint16_t)(v >> 16));
  put16(p + 2, (uint16_t)v);
}

int dns_parse_header(const uint8_t *buf, size_t len, struct dns_header *out) {
  if (buf == NULL || len < DNS_HEADER_SIZE)
    return -EBADMSG;
  out->id = get16(buf);
  out->flags = get16(buf + 2);
  out->qdcount = get16(buf + 4);
  out->ancount = get16(buf + 6);
  out->nscount = get16(buf + 8);
  out->arcount = get16(buf + 10);
  return 0;
}

int dns_parse_name(const uint8_t *buf, size_t len, size_t *off, char out[DNS_NAME_MAX + 1]) {
  size_t pos = *off, end = 0, o = 0, wire = 0;
  /* Pointers must go strictly backwards, which alone rules out loops; the
   * jump limit also bounds the work a hostile packet can cause. */
  size_t limit = pos;
  int jumps = 0;
  bool jumped = false;
  for (;;) {
    if (pos >= len)
      return -EBADMSG;
    uint8_t l = buf[pos];
    if ((l & 0xc0) == 0xc0) {
      if (pos + 1 >= len)
        return -EBADMSG;
      size_t target = (size_t)(l & 0x3f) << 8 | buf[pos + 1];
      if (target >= limit || ++jumps > 64)
        return -EBADMSG;
      if (!jumped)
        end = pos + 2;
      jumped = true;
      limit = target;
      pos = target;
      continue;
    }
    if (l & 0xc0)
      return -EBADMSG; /* 0x40 / 0x80 label types are obsolete */
    pos++;
    wire += (size_t)l + 1;
    if (wire > 255)
      return -EBADMSG;
    if (l == 0)
      break;
    if (pos + l > len)
      return -EBADMSG;
    if (o > 0) {
      if (o + 1 > DNS_NAME_MAX)
        return -EBADMSG;
      out[o++] = '.';
    }
    for (size_t i = 0; i < l; i++) {
      uint8_t c = buf[pos + i];
      if (c >= 'A' && c <= 'Z')
        c = (uint8_t)(c - 'A' + 'a');
      /* Escape what would make the dotted form ambiguous, so that distinct
       * wire names stay distinct cache keys. */
      if (c <= 0x20 || c >= 0x7f || c == '.' || c == '\\') {
        if (o + 4 > DNS_NAME_MAX)
          return -EBADMSG;
        snprintf(out + o, 5, "\\%03u", c);
        o += 4;
      } else {
        if (o + 1 > DNS_NAME_MAX)
          return -EBADMSG;
        out[o++] = (char)c;
      }
    }
    pos += l;
  }
  out[o] = '\0';
  *off = jumped ? end : pos;
  return 0;
}

int dns_parse_query(const uint8_t *buf, size_t len, struct dns_query *out) {
  int r = dns_parse_header(buf, len, &out->hdr);
  if (r < 0)
    return r;
  if (out->hdr.flags & DNS_FLAG_QR)
    return -EBADMSG;
  if (out->hdr.qdcount != 1)
    return out->hdr.qdcount == 0 ? -EBADMSG : -EOPNOTSUPP;
  size_t off = DNS_HEADER_SIZE;
  r = dns_parse_name(buf, len, &off, out->q.name);
  if (r < 0)
    return r;
  /* The first name of a message can only point back into the header, which
   * our reply rewrites: no legitimate query does that. */
  for (size_t p = DNS_HEADER_SIZE; buf[p] != 0; p += (size_t)buf[p] + 1)
    if (buf[p] & 0xc0)
      return -EBADMSG;
  if (off + 4 > len)
    return -EBADMSG;
  out->q.qtype = get16(buf + off);
  out->q.qclass = get16(buf + off + 2);
  out->question_end = off + 4;
  if (DNS_OPCODE(out->hdr.flags) != 0)
    return -EOPNOTSUPP;
  return 0;
}

/* Reads the header and skips the questions: *off ends after them. */
static int skip_questions(const uint8_t *buf, size_t len, struct dns_header *h, size_t *off) {
  char name[DNS_NAME_MAX + 1];
  int r = dns_parse_header(buf, len, h);
  if (r < 0)
    return r;
  *off = DNS_HEADER_SIZE;
  for (unsigned i = 0; i < h->qdcount; i++) {
    if ((r = dns_parse_name(buf, len, off, name)) < 0)
      return r;
    if (*off + 4 > len)
      return -EBADMSG;
    *off += 4;
  }
  return 0;
}

struct rr {
  uint16_t type, rdlen;
  uint32_t ttl;
  size_t ttl_off, rdata; /* offsets into the message */
};

/* Reads the resource record at *off and advances past it. */
static int read_rr(const uint8_t *buf, size_t len, size_t *off, struct rr *rr) {
  char name[DNS_NAME_MAX + 1];
  int r = dns_parse_name(buf, len, off, name);
  if (r < 0)
    return r;
  if (*off + 10 > len)
    return -EBADMSG;
  rr->type = get16(buf + *off);
  rr->ttl_off = *off + 4;
  rr->ttl = get32(buf + *off + 4);
  rr->rdlen = get16(buf + *off + 8);
  rr->rdata = *off + 10;
  if (rr->rdata + rr->rdlen > len)
    return -EBADMSG;
  *off = rr->rdata + rr->rdlen;
  return 0;
}

int dns_parse_response(const uint8_t *buf, size_t len, uint32_t *min_ttl) {
  struct dns_header h;
  struct rr rr;
  size_t off;
  int r = skip_questions(buf, len, &h, &off);
  if (r < 0)
    return r;
  uint32_t ans_min = UINT32_MAX, soa_min = UINT32_MAX;
  unsigned total = (unsigned)h.ancount + h.nscount + h.arcount;
  for (unsigned i = 0; i < total; i++) {
    if ((r = read_rr(buf, len, &off, &rr)) < 0)
      return r;
    if (i < h.ancount) {
      if (rr.ttl < ans_min)
        ans_min = rr.ttl;
    } else if (i < (unsigned)h.ancount + h.nscount && rr.type == DNS_TYPE_SOA) {
      /* RFC 2308: a negative answer lives for min(SOA TTL, SOA MINIMUM). */
      uint32_t m = rr.ttl;
      if (rr.rdlen >= 20) {
        uint32_t minimum = get32(buf + rr.rdata + rr.rdlen - 4);
        if (minimum < m)
          m = minimum;
      }
      if (m < soa_min)
        soa_min = m;
    }
  }
  *min_ttl = h.ancount ? ans_min : soa_min;
  return 0;
}

int dns_age_response(uint8_t *buf, size_t len, uint32_t elapsed) {
  struct dns_header h;
  struct rr rr;
  size_t off;
  int r = skip_questions(buf, len, &h, &off);
  if (r < 0)
    return r;
  unsigned total = (unsigned)h.ancount + h.nscount + h.arcount;
  for (unsigned i = 0; i < total; i++) {
    if ((r = read_rr(buf, len, &off, &rr)) < 0)
      return r;
    if (rr.type != DNS_TYPE_OPT) /* OPT's "TTL" holds EDNS flags */
      put32(buf + rr.ttl_off, rr.ttl > elapsed ? rr.ttl - elapsed : 0);
  }
  return 0;
}

static void write_header(uint8_t *out, uint16_t id, uint16_t flags, uint16_t qd, uint16_t an) {
  put16(out, id);
  put16(out + 2, flags);
  put16(out + 4, qd);
  put16(out + 6, an);
  put16(out + 8, 0);
  put16(out + 10, 0);
}

static uint16_t reply_flags(uint16_t qflags, int rcode) {
  return (uint16_t)(DNS_FLAG_QR | DNS_FLAG_RA | (qflags & (DNS_FLAG_RD | 0x7800)) | (rcode & 0xf));
}

int dns_write_reply(const uint8_t *query, const struct dns_query *q, int rcode,
                    const struct in_addr *v4, size_t n_v4, uint32_t ttl, uint8_t *out,
                    size_t cap) {
  size_t qlen = q->question_end;
  if (qlen > cap)
    return -ENOBUFS;
  /* The question is copied as sent (case preserved, as resolvers check it),
   * minus any additional records (EDNS0) that followed it. */
  memcpy(out, query, qlen);
  if (q->q.qtype != DNS_TYPE_A && q->q.qtype != DNS_TYPE_ANY)
    n_v4 = 0; /* NODATA: the name exists, but has no record of this type */
  size_t need = qlen + n_v4 * 16;
  uint16_t flags = reply_flags(q->hdr.flags, rcode) | DNS_FLAG_AA;
  if (need > cap) {
    flags |= DNS_FLAG_TC;
    n_v4 = 0;
  }
  write_header(out, q->hdr.id, flags, 1, (uint16_t)n_v4);
  size_t off = qlen;
  for (size_t i = 0; i < n_v4; i++) {
    put16(out + off, 0xc000 | DNS_HEADER_SIZE); /* the question's name */
    put16(out + off + 2, DNS_TYPE_A);
    put16(out + off + 4, DNS_CLASS_IN);
    put32(out + off + 6, ttl);
    put16(out + off + 10, 4);
    memcpy(out + off + 12, &v4[i].s_addr, 4);
    off += 16;
  }
  return (int)off;
}

int dns_write_error(const struct dns_header *h, int rcode, uint8_t out[DNS_HEADER_SIZE]) {
  write_header(out, h->id, reply_flags(h->flags, rcode), 0, 0);
  return DNS_HEADER_SIZE;
}

int dns_write_query(uint16_t id, const char *name, uint16_t qtype, uint8_t *out, size_t cap) {
  size_t nlen = strlen(name);
  if (nlen > 0 && name[nlen - 1] == '.')
    nlen--;
  if (nlen > 253)
    return -EINVAL;
  size_t need = DNS_HEADER_SIZE + nlen + 2 + 4;
  if (need > cap)
    return -ENOBUFS;
  write_header(out, id, DNS_FLAG_RD, 1, 0);
  size_t off = DNS_HEADER_SIZE;
  const char *p = name, *end = name + nlen;
  while (p < end) {
    const char *dot = memchr(p, '.', (size_t)(end - p));
    size_t l = dot ? (size_t)(dot - p) : (size_t)(end - p);
    if (l == 0 || l > 63)
      return -EINVAL;
    out[off++] = (uint8_t)l;
    memcpy(out + off, p, l);
    off += l;
    p += l + (dot ? 1 : 0);
  }
  out[off++] = 0;
  put16(out + off, qtype);
  put16(out + off + 2, DNS_CLASS_IN);
  return (int)(off + 4);
}

int dns_read_a_answers(const uint8_t *buf, size_t len, int *rcode, struct in_addr *out,
                       size_t max, size_t *n_out) {
  struct dns_header h;
  struct rr rr;
  size_t off;
  int r = skip_questions(buf, len, &h, &off);
  if (r < 0)
    return r;
  *rcode = DNS_RCODE(h.flags);
  *n_out = 0;
  for (unsigned i = 0; i < h.ancount; i++) {
    if ((r = read_rr(buf, len, &off, &rr)) < 0)
      return r;
    if (rr.type == DNS_TYPE_A && rr.rdlen == 4 && *n_out < max)
      memcpy(&out[(*n_out)++].s_addr, buf + rr.rdata, 4);
  }
  return 0;
}
