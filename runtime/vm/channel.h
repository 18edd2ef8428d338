/* The host side of the guest control channel (guest/proto.h) on a libuv
 * stream.
 *
 * The guest is not trusted: channel_parser_feed() checks every frame
 * (size cap, known types, the directions a guest may send, exact payload
 * layout) and stops at the first violation; nothing a guest sends can make
 * the host allocate more than one frame's cap or read out of bounds.
 */
#ifndef STACK_VM_CHANNEL_H
#define STACK_VM_CHANNEL_H

#include <stddef.h>
#include <stdint.h>
#include <uv.h>

#include "guest/proto.h"

struct stack_error;
struct channel;

/* What the guest says.  Any callback may be NULL.  Strings and buffers are
 * valid during the call only. */
struct channel_ops {
  void (*hello)(void *data, uint32_t version, uint32_t caps, const char *kernel);
  void (*configured)(void *data, int32_t error, const char *message);
  void (*started)(void *data, uint16_t session, uint32_t pid);
  /* fd is 1 (stdout) or 2 (stderr) */
  void (*output)(void *data, uint16_t session, int fd, const uint8_t *p, size_t n);
  void (*exited)(void *data, uint16_t session, const struct proto_exit *e);
  void (*log)(void *data, const char *message);
  /* The stream ended (error 0: EOF) or the guest broke the protocol
   * (error < 0, message says how).  No callback follows. */
  void (*closed)(void *data, int error, const char *message);
  /* PREPARED: the root is mounted (a template being built) */
  void (*prepared)(void *data, int32_t error, const char *message);
  /* PROCS: the answer to TOP request id (strings valid during the call) */
  void (*procs)(void *data, uint16_t id, const struct proto_procs *procs);
  /* ATTACHED: the guest's answer to channel_attach() (guest/proto.h) */
  void (*attached)(void *data, const struct proto_attached *a);
};

/* The frame parser alone, without I/O (the fuzz target drives it). */
struct channel_parser {
  uint8_t *buf;
  size_t len, cap;
  int failed;
  /* After channel_parser_hunt(): bytes are skipped until the ATTACHED
   * frame that starts with match; tail holds the last bytes seen, which
   * may be its beginning. */
  int hunting;
  uint8_t match[PROTO_ATTACHED_MATCH];
  uint8_t tail[PROTO_ATTACHED_MATCH - 1];
  size_t tail_len;
};

/* Feeds bytes from the guest, calling ops for each complete frame.  Returns
 * 0, or -EBADMSG after a protocol violation (then ops->closed was called
 * and later calls fail at once). */
int channel_parser_feed(struct channel_parser *p, const void *data, size_t n,
                        const struct channel_ops *ops, void *ud);
void channel_parser_clear(struct channel_parser *p);
/* Makes the parser skip everything up to the ATTACHED frame answering
 * nonce (what came before belongs to frames whose beginning was lost). */
void channel_parser_hunt(struct channel_parser *p, const uint8_t nonce[PROTO_NONCE_SIZE]);

/* Takes ownership of fd (a connected control socket, vm_connect_control())
 * and starts reading. */
int channel_open(uv_loop_t *loop, int fd, const struct channel_ops *ops, void *data,
                 struct channel **out, struct stack_error **err);

/* Takes over a guest that another host talked to (its supervisor died):
 * sends ATTACH with a fresh nonce and skips what the guest says until its
 * ATTACHED (ops->attached). */
int channel_attach(struct channel *ch, struct stack_error **err);

/* Senders: each queues one frame (libuv writes it in order); -EPIPE once the
 * channel is closed. */
/* PREPARE: mount the container's root now (a template of an image). */
int channel_send_prepare(struct channel *ch, const char *root_dev, const char *data_dev,
                         struct stack_error **err);
int channel_send_configure(struct channel *ch, const struct proto_configure *c,
                           struct stack_error **err);
int channel_send_start(struct channel *ch, uint16_t session, const struct proto_start *s,
                       struct stack_error **err);
/* n == 0 closes the session's stdin. */
int channel_send_stdin(struct channel *ch, uint16_t session, const void *p, size_t n);
int channel_send_signal(struct channel *ch, uint16_t session, int signum);
int channel_send_resize(struct channel *ch, uint16_t session, unsigned rows, unsigned cols);
int channel_send_shutdown(struct channel *ch);
/* TOP: asks the guest for the container's processes (answered by PROCS
 * with the same id). */
int channel_send_top(struct channel *ch, uint16_t id);

/* Bytes queued and not yet written (for stdin back-pressure). */
size_t channel_write_queue_size(const struct channel *ch);

/* Stops reading, drops unsent frames and frees the channel (on the loop's
 * next iteration).  No callback is called after this.  NULL is fine. */
void channel_close(struct channel *ch);

#endif
