/* Taking over a guest (ATTACH/ATTACHED, guest/proto.h): the host skips
 * what the guest sent before its ATTACHED -- the tail of a frame whose
 * beginning went to a host that died, whole frames nobody asked for --
 * wherever the reads split it, and parses normally from there on. */
#include <stdint.h>
#include <string.h>

#include "guest/proto.h"
#include "runtime/vm/channel.h"
#include "test.h"

struct seen {
  int attached, out, closed;
  struct proto_attached a;
  char outbuf[64];
  size_t outlen;
};

static void h_attached(void *d, const struct proto_attached *a) {
  struct seen *s = d;
  s->attached++;
  s->a = *a;
}

static void h_output(void *d, uint16_t sess, int fd, const uint8_t *p, size_t n) {
  struct seen *s = d;
  (void)sess;
  (void)fd;
  if (s->outlen + n < sizeof s->outbuf) {
    memcpy(s->outbuf + s->outlen, p, n);
    s->outlen += n;
  }
  s->out++;
}

static void h_closed(void *d, int e, const char *m) {
  (void)e;
  (void)m;
  ((struct seen *)d)->closed++;
}

static const struct channel_ops ops = {
    .attached = h_attached, .output = h_output, .closed = h_closed};

static const uint8_t nonce[PROTO_NONCE_SIZE] = {1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14,
                                                15, 16};

/* What a guest sends a new host: garbage (a torn frame), a whole STDOUT
 * frame from before, ATTACHED, then output after it. */
static void stream(struct proto_wr *w) {
  static const uint8_t torn[] = {0xff, 0x00, 0x07, 'l', 'o', 's', 't', 0x13, 0x00};
  proto_wr_raw(w, torn, sizeof torn);
  CHECK(proto_enc_data(w, PROTO_STDOUT, 0, "before", 6) == 0);
  struct proto_attached a = {0};
  memcpy(a.nonce, nonce, sizeof nonce);
  a.state = PROTO_ATTACHED_CONFIGURED | PROTO_ATTACHED_STARTED;
  a.main_pid = 42;
  a.last_session = 7;
  a.sessions = 2;
  CHECK(proto_enc_attached(w, &a) == 0);
  CHECK(proto_enc_data(w, PROTO_STDOUT, 0, "after", 5) == 0);
}

/* Every way of cutting the stream in two, and byte by byte. */
static void test_hunt_split(void) {
  struct proto_wr w = {0};
  stream(&w);
  for (size_t cut = 0; cut <= w.len; cut++) {
    struct channel_parser p = {0};
    struct seen s = {0};
    channel_parser_hunt(&p, nonce);
    CHECK(channel_parser_feed(&p, w.buf, cut, &ops, &s) == 0);
    CHECK(channel_parser_feed(&p, w.buf + cut, w.len - cut, &ops, &s) == 0);
    CHECK_INTEQ(s.attached, 1);
    CHECK_INTEQ(s.closed, 0);
    CHECK_INTEQ(s.a.main_pid, 42);
    CHECK_INTEQ(s.a.last_session, 7);
    CHECK_INTEQ(s.a.sessions, 2);
    CHECK(s.a.state == (PROTO_ATTACHED_CONFIGURED | PROTO_ATTACHED_STARTED));
    CHECK_INTEQ((int)s.outlen, 5);
    CHECK(memcmp(s.outbuf, "after", 5) == 0);
    channel_parser_clear(&p);
  }
  struct channel_parser p = {0};
  struct seen s = {0};
  channel_parser_hunt(&p, nonce);
  for (size_t i = 0; i < w.len; i++)
    CHECK(channel_parser_feed(&p, w.buf + i, 1, &ops, &s) == 0);
  CHECK_INTEQ(s.attached, 1);
  CHECK_INTEQ((int)s.outlen, 5);
  channel_parser_clear(&p);
  proto_wr_free(&w);
}

/* An ATTACHED for another nonce (an earlier host's) is skipped too; the
 * parser keeps no more than a pattern's length while it hunts. */
static void test_hunt_other_nonce(void) {
  struct proto_wr w = {0};
  struct proto_attached old = {0};
  memset(old.nonce, 0xee, sizeof old.nonce);
  CHECK(proto_enc_attached(&w, &old) == 0);
  uint8_t junk[100000];
  for (size_t i = 0; i < sizeof junk; i++)
    junk[i] = (uint8_t)(i * 7);
  proto_wr_raw(&w, junk, sizeof junk);
  struct channel_parser p = {0};
  struct seen s = {0};
  channel_parser_hunt(&p, nonce);
  CHECK(channel_parser_feed(&p, w.buf, w.len, &ops, &s) == 0);
  CHECK_INTEQ(s.attached, 0);
  CHECK_INTEQ(s.out, 0);
  CHECK(p.hunting);
  CHECK(p.cap == 0); /* nothing was buffered */
  CHECK(p.tail_len == PROTO_ATTACHED_MATCH - 1);
  proto_wr_free(&w);
  stream(&w);
  CHECK(channel_parser_feed(&p, w.buf, w.len, &ops, &s) == 0);
  CHECK_INTEQ(s.attached, 1);
  CHECK_INTEQ((int)s.outlen, 5);
  channel_parser_clear(&p);
  proto_wr_free(&w);
}

/* The frame itself is checked as strictly as any other. */
static void test_attached_decode(void) {
  struct proto_wr w = {0};
  struct proto_attached a = {0};
  a.exit_kind = 9; /* no such kind */
  CHECK(proto_enc_attached(&w, &a) == 0);
  struct proto_attached b;
  CHECK(proto_dec_attached(w.buf + PROTO_HDR_SIZE, w.len - PROTO_HDR_SIZE, &b) < 0);
  CHECK(proto_dec_attached(w.buf + PROTO_HDR_SIZE, w.len - PROTO_HDR_SIZE - 1, &b) < 0);
  proto_wr_free(&w);
  a.exit_kind = PROTO_EXIT_SIGNAL;
  a.exit_code = 9;
  a.state = PROTO_ATTACHED_EXITED;
  CHECK(proto_enc_attached(&w, &a) == 0);
  CHECK_INTEQ((int)w.len, PROTO_HDR_SIZE + PROTO_ATTACHED_SIZE);
  CHECK(proto_dec_attached(w.buf + PROTO_HDR_SIZE, w.len - PROTO_HDR_SIZE, &b) == 0);
  CHECK_INTEQ(b.exit_code, 9);
  CHECK(b.exit_kind == PROTO_EXIT_SIGNAL);
  proto_wr_free(&w);
  uint8_t n16[PROTO_NONCE_SIZE] = {0};
  CHECK(proto_enc_attach(&w, n16) == 0);
  const uint8_t *got;
  CHECK(proto_dec_attach(w.buf + PROTO_HDR_SIZE, w.len - PROTO_HDR_SIZE, &got) == 0);
  CHECK(proto_dec_attach(w.buf + PROTO_HDR_SIZE, 3, &got) < 0);
  proto_wr_free(&w);
}

int main(void) {
  test_hunt_split();
  test_hunt_other_nonce();
  test_attached_decode();
  TEST_DONE();
}
