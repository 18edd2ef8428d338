#include "runtime/vm/channel.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <unistd.h>

#include "runtime/util/error.h"
#include "runtime/util/xalloc.h"

struct channel {
  uv_pipe_t pipe;
  struct channel_parser parser;
  const struct channel_ops *ops;
  void *data;
  int closed; /* channel_close() called or stream ended */
};

struct channel_write {
  uv_write_t req;
  uint8_t *buf;
};

__attribute__((format(printf, 4, 5))) static int violation(struct channel_parser *p,
                                                           const struct channel_ops *ops,
                                                           void *ud, const char *fmt, ...) {
  char msg[160];
  va_list ap;
  va_start(ap, fmt);
  vsnprintf(msg, sizeof msg, fmt, ap);
  va_end(ap);
  p->failed = 1;
  if (ops->closed)
    ops->closed(ud, -EBADMSG, msg);
  return -EBADMSG;
}

/* One complete frame: decode strictly, then dispatch. */
static int dispatch(struct channel_parser *p, const struct proto_hdr *h, const uint8_t *pl,
                    const struct channel_ops *ops, void *ud) {
  uint32_t a = 0, b = 0;
  const char *s = NULL;
  int32_t code = 0;
  struct proto_exit e;
  switch (h->type) {
  case PROTO_HELLO:
    if (proto_dec_hello(pl, h->len, &a, &b, &s) < 0)
      break;
    if (ops->hello)
      ops->hello(ud, a, b, s);
    return 0;
  case PROTO_CONFIGURED:
    if (proto_dec_status(pl, h->len, &code, &s) < 0 || code > 0)
      break;
    if (ops->configured)
      ops->configured(ud, code, s);
    return 0;
  case PROTO_PREPARED:
    if (proto_dec_status(pl, h->len, &code, &s) < 0 || code > 0)
      break;
    if (ops->prepared)
      ops->prepared(ud, code, s);
    return 0;
  case PROTO_LOG:
    if (proto_dec_status(pl, h->len, &code, &s) < 0)
      break;
    if (ops->log)
      ops->log(ud, s);
    return 0;
  case PROTO_STARTED:
    if (proto_dec_u32s(pl, h->len, 1, &a, &b) < 0)
      break;
    if (ops->started)
      ops->started(ud, h->session, a);
    return 0;
  case PROTO_STDOUT:
  case PROTO_STDERR:
    if (ops->output)
      ops->output(ud, h->session, h->type == PROTO_STDOUT ? 1 : 2, pl, h->len);
    return 0;
  case PROTO_EXIT:
    if (proto_dec_exit(pl, h->len, &e) < 0)
      break;
    if (ops->exited)
      ops->exited(ud, h->session, &e);
    return 0;
  case PROTO_ATTACHED: {
    struct proto_attached at;
    if (proto_dec_attached(pl, h->len, &at) < 0)
      break;
    if (ops->attached)
      ops->attached(ud, &at);
    return 0;
  }
  case PROTO_PROCS: {
    struct proto_procs ps;
    if (proto_dec_procs(pl, h->len, &ps) < 0)
      break;
    if (ops->procs)
      ops->procs(ud, h->session, &ps);
    free(ps.procs);
    return 0;
  }
  default:
    return violation(p, ops, ud, "the guest sent a frame of type %u, which only the host sends",
                     h->type);
  }
  return violation(p, ops, ud, "malformed frame from the guest (type %u, %u bytes)", h->type,
                   (unsigned)h->len);
}

void channel_parser_hunt(struct channel_parser *p, const uint8_t nonce[PROTO_NONCE_SIZE]) {
  p->len = 0;
  p->tail_len = 0;
  p->hunting = 1;
  proto_attached_match(nonce, p->match);
}

/* While hunting: looks for the ATTACHED frame's first bytes in what came
 * before (tail) followed by in.  Found, the parser holds them as a frame's
 * beginning and *used says how much of in they took; else the last bytes
 * seen are kept and all of in is used. */
static void hunt(struct channel_parser *p, const uint8_t *in, size_t n, size_t *used) {
  enum { M = PROTO_ATTACHED_MATCH };
  /* the pattern across the boundary: tail + in's first M - 1 bytes */
  uint8_t edge[2 * (M - 1)];
  size_t head = n < M - 1 ? n : M - 1;
  memcpy(edge, p->tail, p->tail_len);
  memcpy(edge + p->tail_len, in, head);
  size_t edge_len = p->tail_len + head;
  const uint8_t *hit = memmem(edge, edge_len, p->match, M);
  size_t end = 0; /* in in, just past the match */
  if (hit)
    end = (size_t)(hit - edge) + M - p->tail_len;
  else if ((hit = memmem(in, n, p->match, M)) != NULL)
    end = (size_t)(hit - in) + M;
  if (hit) {
    p->hunting = 0;
    p->tail_len = 0;
    p->buf = xgrow(p->buf, &p->cap, M, 1);
    memcpy(p->buf, p->match, M);
    p->len = M;
    *used = end;
    return;
  }
  /* keep the last M - 1 bytes of tail + in */
  if (n >= M - 1) {
    memcpy(p->tail, in + n - (M - 1), M - 1);
    p->tail_len = M - 1;
  } else {
    size_t keep = edge_len < M - 1 ? edge_len : M - 1;
    memmove(p->tail, edge + edge_len - keep, keep);
    p->tail_len = keep;
  }
  *used = n;
}

int channel_parser_feed(struct channel_parser *p, const void *data, size_t n,
                        const struct channel_ops *ops, void *ud) {
  if (p->failed)
    return -EBADMSG;
  const uint8_t *in = data;
  if (p->hunting) {
    size_t used;
    hunt(p, in, n, &used);
    in += used;
    n -= used;
    if (p->hunting)
      return 0;
  }
  while (n > 0 || p->len >= PROTO_HDR_SIZE) {
    struct proto_hdr h;
    if (p->failed) /* a callback closed the channel */
      return -ECANCELED;
    /* Frames entirely in the input are dispatched in place, without a copy. */
    if (p->len == 0 && n >= PROTO_HDR_SIZE) {
      if (proto_hdr_decode(in, &h) < 0)
        return violation(p, ops, ud, "bad frame header from the guest (type %u, length %u)",
                         (unsigned)(in[4] | in[5] << 8), proto_le32(in));
      if (n - PROTO_HDR_SIZE >= h.len) {
        int r = dispatch(p, &h, in + PROTO_HDR_SIZE, ops, ud);
        if (r < 0)
          return r;
        in += PROTO_HDR_SIZE + h.len;
        n -= PROTO_HDR_SIZE + h.len;
        continue;
      }
    }
    /* Otherwise buffer: first the header, then exactly the payload. */
    size_t want = PROTO_HDR_SIZE;
    if (p->len >= PROTO_HDR_SIZE) {
      if (proto_hdr_decode(p->buf, &h) < 0)
        return violation(p, ops, ud, "bad frame header from the guest (type %u, length %u)",
                         (unsigned)(p->buf[4] | p->buf[5] << 8), proto_le32(p->buf));
      want = PROTO_HDR_SIZE + h.len;
      if (p->len == want) {
        p->len = 0;
        int r = dispatch(p, &h, p->buf + PROTO_HDR_SIZE, ops, ud);
        if (r < 0)
          return r;
        continue;
      }
    }
    if (n == 0)
      break;
    size_t take = want - p->len < n ? want - p->len : n;
    p->buf = xgrow(p->buf, &p->cap, p->len + take, 1);
    memcpy(p->buf + p->len, in, take);
    p->len += take;
    in += take;
    n -= take;
  }
  return 0;
}

void channel_parser_clear(struct channel_parser *p) {
  free(p->buf);
  memset(p, 0, sizeof *p);
}

static void on_alloc(uv_handle_t *h, size_t suggested, uv_buf_t *buf) {
  (void)h;
  (void)suggested;
  buf->base = xmalloc(65536);
  buf->len = 65536;
}

static void on_read(uv_stream_t *s, ssize_t n, const uv_buf_t *buf) {
  struct channel *ch = s->data;
  if (n > 0 && !ch->closed) {
    if (channel_parser_feed(&ch->parser, buf->base, (size_t)n, ch->ops, ch->data) < 0) {
      ch->closed = 1;
      uv_read_stop(s);
    }
  } else if (n < 0 && !ch->closed) {
    ch->closed = 1;
    uv_read_stop(s);
    if (ch->ops->closed)
      ch->ops->closed(ch->data, n == UV_EOF ? 0 : -EIO,
                      n == UV_EOF ? "the guest closed the control channel" : uv_strerror((int)n));
  }
  free(buf->base);
}

static void on_closed(uv_handle_t *h) {
  struct channel *ch = h->data;
  channel_parser_clear(&ch->parser);
  free(ch);
}

int channel_open(uv_loop_t *loop, int fd, const struct channel_ops *ops, void *data,
                 struct channel **out, struct stack_error **err) {
  struct channel *ch = xcalloc(1, sizeof *ch);
  ch->ops = ops;
  ch->data = data;
  int r = uv_pipe_init(loop, &ch->pipe, 0);
  if (r < 0) {
    close(fd);
    free(ch);
    return stack_error_set(err, -EIO, "control channel: %s", uv_strerror(r));
  }
  ch->pipe.data = ch;
  r = uv_pipe_open(&ch->pipe, fd);
  if (r < 0) {
    close(fd);
    uv_close((uv_handle_t *)&ch->pipe, on_closed);
    return stack_error_set(err, -EIO, "control channel: %s", uv_strerror(r));
  }
  if ((r = uv_read_start((uv_stream_t *)&ch->pipe, on_alloc, on_read)) < 0) {
    uv_close((uv_handle_t *)&ch->pipe, on_closed);
    return stack_error_set(err, -EIO, "control channel: %s", uv_strerror(r));
  }
  *out = ch;
  return 0;
}

static void on_written(uv_write_t *req, int status) {
  (void)status; /* a failed write shows up as a read error / EOF too */
  struct channel_write *w = (struct channel_write *)req;
  free(w->buf);
  free(w);
}

/* Queues the frame(s) in wr (takes its buffer). */
static int send_wr(struct channel *ch, struct proto_wr *wr, int enc) {
  if (enc < 0) {
    proto_wr_free(wr);
    return -EMSGSIZE;
  }
  if (ch->closed || uv_is_closing((uv_handle_t *)&ch->pipe)) {
    proto_wr_free(wr);
    return -EPIPE;
  }
  struct channel_write *w = xcalloc(1, sizeof *w);
  w->buf = wr->buf;
  uv_buf_t b = uv_buf_init((char *)wr->buf, (unsigned)wr->len);
  int r = uv_write(&w->req, (uv_stream_t *)&ch->pipe, &b, 1, on_written);
  if (r < 0) {
    free(w->buf);
    free(w);
    return -EPIPE;
  }
  return 0;
}

int channel_send_prepare(struct channel *ch, const char *root_dev, const char *data_dev,
                         struct stack_error **err) {
  struct proto_wr w = {0};
  int r = send_wr(ch, &w, proto_enc_prepare(&w, root_dev, data_dev));
  return r < 0 ? stack_error_errno(err, r, "control channel: send PREPARE") : 0;
}

int channel_send_configure(struct channel *ch, const struct proto_configure *c,
                           struct stack_error **err) {
  struct proto_wr w = {0};
  int r = send_wr(ch, &w, proto_enc_configure(&w, c));
  return r < 0 ? stack_error_errno(err, r, "control channel: send configuration") : 0;
}

int channel_send_start(struct channel *ch, uint16_t session, const struct proto_start *s,
                       struct stack_error **err) {
  struct proto_wr w = {0};
  int r = send_wr(ch, &w, proto_enc_start(&w, session, s));
  if (r == -EMSGSIZE)
    return stack_error_set(err, r,
                           "the command, environment and options take more than %u bytes",
                           PROTO_MAX_PAYLOAD);
  return r < 0 ? stack_error_errno(err, r, "control channel: start process") : 0;
}

int channel_send_stdin(struct channel *ch, uint16_t session, const void *p, size_t n) {
  const uint8_t *b = p;
  do { /* large writes are split into chunks */
    size_t k = n < PROTO_CHUNK ? n : PROTO_CHUNK;
    struct proto_wr w = {0};
    int r = send_wr(ch, &w, proto_enc_data(&w, PROTO_STDIN, session, b, k));
    if (r < 0)
      return r;
    b += k;
    n -= k;
  } while (n > 0);
  return 0;
}

int channel_send_signal(struct channel *ch, uint16_t session, int signum) {
  struct proto_wr w = {0};
  return send_wr(ch, &w, proto_enc_u32s(&w, PROTO_SIGNAL, session, 1, (uint32_t)signum, 0));
}

int channel_send_resize(struct channel *ch, uint16_t session, unsigned rows, unsigned cols) {
  struct proto_wr w = {0};
  return send_wr(ch, &w, proto_enc_u32s(&w, PROTO_RESIZE, session, 2, rows, cols));
}

int channel_send_shutdown(struct channel *ch) {
  struct proto_wr w = {0};
  return send_wr(ch, &w, proto_enc_u32s(&w, PROTO_SHUTDOWN, 0, 0, 0, 0));
}

int channel_send_top(struct channel *ch, uint16_t id) {
  struct proto_wr w = {0};
  return send_wr(ch, &w, proto_enc_u32s(&w, PROTO_TOP, id, 0, 0, 0));
}

int channel_attach(struct channel *ch, struct stack_error **err) {
  uint8_t nonce[PROTO_NONCE_SIZE];
  if (getrandom(nonce, sizeof nonce, 0) != (ssize_t)sizeof nonce)
    return stack_error_errno(err, -errno, "getrandom");
  channel_parser_hunt(&ch->parser, nonce);
  struct proto_wr w = {0};
  int r = send_wr(ch, &w, proto_enc_attach(&w, nonce));
  return r < 0 ? stack_error_errno(err, r, "control channel: send ATTACH") : 0;
}

size_t channel_write_queue_size(const struct channel *ch) {
  return ch->pipe.write_queue_size;
}

void channel_close(struct channel *ch) {
  if (ch == NULL)
    return;
  ch->closed = 1;
  ch->parser.failed = 1;
  uv_close((uv_handle_t *)&ch->pipe, on_closed);
}
