/* The control protocol (guest/proto.h) and the host's frame parser
 * (runtime/vm/channel.h): round trips, frames split anywhere, and what a
 * hostile guest could send. */
#include <errno.h>
#include <stdint.h>
#include <string.h>

#include "guest/proto.h"
#include "runtime/vm/channel.h"
#include "test.h"

struct seen {
  int hello, configured, started, out, err, exits, logs, closed, prepared, procs;
  uint16_t procs_id;
  uint32_t procs_total, procs_n, proc_pid[4], proc_uid[4];
  uint64_t proc_age[4];
  char proc_user[4][40], proc_cmd[4][64];
  uint32_t version, pid;
  int32_t cerr;
  int close_err;
  char kernel[64], outbuf[256], errbuf[256], exit_msg[64];
  size_t outlen, errlen;
  struct proto_exit exit;
};

static void h_hello(void *d, uint32_t v, uint32_t caps, const char *k) {
  struct seen *s = d;
  (void)caps;
  s->hello++;
  s->version = v;
  snprintf(s->kernel, sizeof s->kernel, "%s", k);
}
static void h_configured(void *d, int32_t e, const char *m) {
  struct seen *s = d;
  (void)m;
  s->configured++;
  s->cerr = e;
}
static void h_started(void *d, uint16_t sess, uint32_t pid) {
  struct seen *s = d;
  (void)sess;
  s->started++;
  s->pid = pid;
}
static void h_output(void *d, uint16_t sess, int fd, const uint8_t *p, size_t n) {
  struct seen *s = d;
  (void)sess;
  if (fd == 1 && s->outlen + n < sizeof s->outbuf) {
    memcpy(s->outbuf + s->outlen, p, n);
    s->outlen += n;
    s->out++;
  } else if (fd == 2 && s->errlen + n < sizeof s->errbuf) {
    memcpy(s->errbuf + s->errlen, p, n);
    s->errlen += n;
    s->err++;
  }
}
static void h_exited(void *d, uint16_t sess, const struct proto_exit *e) {
  struct seen *s = d;
  (void)sess;
  s->exits++;
  s->exit = *e;
  snprintf(s->exit_msg, sizeof s->exit_msg, "%s", e->message);
}
static void h_log(void *d, const char *m) {
  (void)m;
  ((struct seen *)d)->logs++;
}
static void h_closed(void *d, int e, const char *m) {
  (void)m;
  struct seen *s = d;
  s->closed++;
  s->close_err = e;
}

static void h_prepared(void *d, int32_t code, const char *m) {
  struct seen *s = d;
  s->prepared++;
  (void)code;
  (void)m;
}

static void h_procs(void *d, uint16_t id, const struct proto_procs *ps) {
  struct seen *s = d;
  s->procs++;
  s->procs_id = id;
  s->procs_total = ps->total;
  s->procs_n = ps->n;
  for (uint32_t i = 0; i < ps->n && i < 4; i++) {
    s->proc_pid[i] = ps->procs[i].pid;
    s->proc_uid[i] = ps->procs[i].uid;
    s->proc_age[i] = ps->procs[i].age_ms;
    snprintf(s->proc_user[i], sizeof s->proc_user[i], "%s", ps->procs[i].user);
    snprintf(s->proc_cmd[i], sizeof s->proc_cmd[i], "%s", ps->procs[i].cmd);
  }
}

static const struct channel_ops ops = {
    .hello = h_hello,   .configured = h_configured, .started = h_started,
    .output = h_output, .exited = h_exited,         .log = h_log,
    .closed = h_closed, .prepared = h_prepared,     .procs = h_procs};

/* A guest conversation: hello, configured, started, output, exit. */
static struct proto_wr conversation(void) {
  struct proto_wr w = {0};
  proto_enc_hello(&w, PROTO_VERSION, 3, "6.1.0-stack");
  proto_enc_status(&w, PROTO_PREPARED, 0, 0, "");
  proto_enc_status(&w, PROTO_CONFIGURED, 0, 0, "");
  proto_enc_u32s(&w, PROTO_STARTED, 0, 1, 42, 0);
  proto_enc_data(&w, PROTO_STDOUT, 0, "hi\n", 3);
  proto_enc_data(&w, PROTO_STDERR, 0, "oops\n", 5);
  proto_enc_data(&w, PROTO_STDOUT, 0, "", 0);
  struct proto_exit e = {PROTO_EXIT_SIGNAL, 15, "term"};
  proto_enc_exit(&w, 0, &e);
  return w;
}

static void check_conversation(const struct seen *s) {
  CHECK_INTEQ(s->hello, 1);
  CHECK_INTEQ(s->version, PROTO_VERSION);
  CHECK_STREQ(s->kernel, "6.1.0-stack");
  CHECK_INTEQ(s->prepared, 1);
  CHECK_INTEQ(s->configured, 1);
  CHECK_INTEQ(s->cerr, 0);
  CHECK_INTEQ(s->pid, 42);
  CHECK(s->outlen == 3 && memcmp(s->outbuf, "hi\n", 3) == 0);
  CHECK(s->errlen == 5 && memcmp(s->errbuf, "oops\n", 5) == 0);
  CHECK_INTEQ(s->exits, 1);
  CHECK_INTEQ(s->exit.kind, PROTO_EXIT_SIGNAL);
  CHECK_INTEQ(s->exit.code, 15);
  CHECK_STREQ(s->exit_msg, "term");
  CHECK_INTEQ(s->closed, 0);
}

static void test_whole_and_split(void) {
  struct proto_wr w = conversation();
  CHECK(!w.bad);
  struct seen s = {0};
  struct channel_parser p = {0};
  CHECK_INTEQ(channel_parser_feed(&p, w.buf, w.len, &ops, &s), 0);
  check_conversation(&s);
  channel_parser_clear(&p);

  /* byte by byte, and in every two-piece split */
  memset(&s, 0, sizeof s);
  for (size_t i = 0; i < w.len; i++)
    CHECK_INTEQ(channel_parser_feed(&p, w.buf + i, 1, &ops, &s), 0);
  check_conversation(&s);
  channel_parser_clear(&p);
  for (size_t cut = 1; cut < w.len; cut += 7) {
    memset(&s, 0, sizeof s);
    CHECK_INTEQ(channel_parser_feed(&p, w.buf, cut, &ops, &s), 0);
    CHECK_INTEQ(channel_parser_feed(&p, w.buf + cut, w.len - cut, &ops, &s), 0);
    CHECK_INTEQ(s.exits, 1);
    CHECK(s.outlen == 3);
    channel_parser_clear(&p);
  }
  proto_wr_free(&w);
}

static void test_configure_roundtrip(void) {
  struct proto_configure c = {0};
  uint8_t seed[4] = {1, 2, 3, 4};
  c.hostname = "web";
  c.hosts = "127.0.0.1 localhost\n";
  c.resolv = "nameserver 10.0.0.1\n";
  c.root_dev = "/dev/vda";
  c.data_dev = "/dev/vdb";
  c.realtime_sec = 1700000000;
  c.realtime_nsec = 5;
  c.seed = seed;
  c.seed_len = 4;
  c.n_ifaces = 1;
  c.ifaces[0] = (struct proto_iface){"52:54:00:00:00:01", "52:54:00:aa:bb:cc", "eth0", 1500, 2,
                                      {"10.0.0.2/24", "fd00::2/64"}};
  c.n_routes = 1;
  c.routes[0] = (struct proto_route){"default", "10.0.0.1", ""};
  c.n_mounts = 1;
  c.mounts[0] = (struct proto_mount){"tmpfs", "/cache", "tmpfs", "size=1m"};
  c.flags = PROTO_CONFIGURE_HOST_BOUND | PROTO_CONFIGURE_READ_ONLY;
  c.n_sysctls = 2;
  c.sysctls[0] = "net.core.somaxconn=1024";
  c.sysctls[1] = "vm.swappiness=7";
  static const uint8_t secret[] = {'s', 0, 'x'}; /* any bytes, NUL too */
  c.n_files = 1;
  c.files[0] = (struct proto_file){"/run/secrets/db", secret, 3, 0400, 1000, 1001};
  c.domainname = "example.com";
  struct proto_wr w = {0};
  CHECK_INTEQ(proto_enc_configure(&w, &c), 0);
  struct proto_hdr h;
  CHECK_INTEQ(proto_hdr_decode(w.buf, &h), 0);
  CHECK_INTEQ(h.type, PROTO_CONFIGURE);
  CHECK_INTEQ(h.len, w.len - PROTO_HDR_SIZE);
  struct proto_configure d;
  CHECK_INTEQ(proto_dec_configure(w.buf + PROTO_HDR_SIZE, h.len, &d), 0);
  CHECK_STREQ(d.hostname, "web");
  CHECK_INTEQ(d.flags, PROTO_CONFIGURE_HOST_BOUND | PROTO_CONFIGURE_READ_ONLY);
  CHECK_INTEQ(d.n_sysctls, 2);
  CHECK_STREQ(d.sysctls[1], "vm.swappiness=7");
  CHECK_INTEQ(d.n_files, 1);
  CHECK_STREQ(d.files[0].path, "/run/secrets/db");
  CHECK(d.files[0].len == 3 && memcmp(d.files[0].content, secret, 3) == 0);
  CHECK(d.files[0].mode == 0400 && d.files[0].uid == 1000 && d.files[0].gid == 1001);
  CHECK_STREQ(d.resolv, "nameserver 10.0.0.1\n");
  CHECK_STREQ(d.domainname, "example.com");
  CHECK_STREQ(d.data_dev, "/dev/vdb");
  CHECK(d.realtime_sec == 1700000000 && d.realtime_nsec == 5);
  CHECK(d.seed_len == 4 && memcmp(d.seed, seed, 4) == 0);
  CHECK_INTEQ(d.n_ifaces, 1);
  CHECK_STREQ(d.ifaces[0].addrs[1], "fd00::2/64");
  CHECK_INTEQ(d.ifaces[0].mtu, 1500);
  CHECK_STREQ(d.ifaces[0].set_mac, "52:54:00:aa:bb:cc");
  CHECK_STREQ(d.ifaces[0].name, "eth0");
  CHECK_STREQ(d.routes[0].gw, "10.0.0.1");
  CHECK_STREQ(d.mounts[0].options, "size=1m");
  /* every truncation is refused */
  for (uint32_t n = 0; n < h.len; n++)
    CHECK(proto_dec_configure(w.buf + PROTO_HDR_SIZE, n, &d) < 0);
  proto_wr_free(&w);
}

static void test_prepare_roundtrip(void) {
  struct proto_wr w = {0};
  CHECK(proto_enc_prepare(&w, "/dev/vda", "") == 0);
  struct proto_hdr h;
  CHECK(proto_hdr_decode(w.buf, &h) == 0);
  CHECK_INTEQ(h.type, PROTO_PREPARE);
  const char *root = NULL, *data = NULL;
  CHECK(proto_dec_prepare(w.buf + PROTO_HDR_SIZE, h.len, &root, &data) == 0);
  CHECK_STREQ(root, "/dev/vda");
  CHECK_STREQ(data, "");
  /* a truncated payload is refused */
  CHECK(proto_dec_prepare(w.buf + PROTO_HDR_SIZE, h.len - 1, &root, &data) < 0);
  proto_wr_free(&w);
}

static void test_start_roundtrip(void) {
  char *argv[] = {"sh", "-c", "exit 7", NULL};
  char *env[] = {"A=1", "B=", NULL};
  struct proto_start s = {.argv = argv, .env = env, .user = "1000:1000", .workdir = "/w",
                          .flags = PROTO_START_TTY, .umask = 022, .rows = 24, .cols = 80,
                          .n_rlimits = 1, .caps = 0xa80425fbULL, .pids_max = 100};
  s.rlimits[0] = (struct proto_rlimit){7, 1024, 4096};
  struct proto_wr w = {0};
  CHECK_INTEQ(proto_enc_start(&w, 3, &s), 0);
  struct proto_hdr h;
  CHECK_INTEQ(proto_hdr_decode(w.buf, &h), 0);
  CHECK_INTEQ(h.session, 3);
  struct proto_start d;
  CHECK_INTEQ(proto_dec_start(w.buf + PROTO_HDR_SIZE, h.len, &d), 0);
  CHECK_STREQ(d.argv[2], "exit 7");
  CHECK(d.argv[3] == NULL);
  CHECK_STREQ(d.env[1], "B=");
  CHECK_STREQ(d.user, "1000:1000");
  CHECK_INTEQ(d.rows, 24);
  CHECK(d.rlimits[0].hard == 4096);
  CHECK(d.caps == 0xa80425fbULL);
  CHECK(d.pids_max == 100);
  free(d.argv);
  free(d.env);
  /* an empty argv is refused */
  char *none[] = {NULL};
  s.argv = none;
  proto_wr_free(&w);
  CHECK_INTEQ(proto_enc_start(&w, 0, &s), 0);
  CHECK(proto_dec_start(w.buf + PROTO_HDR_SIZE, w.len - PROTO_HDR_SIZE, &d) < 0);
  proto_wr_free(&w);
}

static void test_hostile(void) {
  struct seen s = {0};
  struct channel_parser p = {0};
  /* a length over the cap */
  uint8_t big[8] = {0xff, 0xff, 0xff, 0x7f, PROTO_STDOUT, 0, 0, 0};
  CHECK_INTEQ(channel_parser_feed(&p, big, 8, &ops, &s), -EBADMSG);
  CHECK_INTEQ(s.closed, 1);
  CHECK_INTEQ(s.close_err, -EBADMSG);
  /* and nothing after it is looked at */
  struct proto_wr w = conversation();
  CHECK_INTEQ(channel_parser_feed(&p, w.buf, w.len, &ops, &s), -EBADMSG);
  CHECK_INTEQ(s.hello, 0);
  channel_parser_clear(&p);
  proto_wr_free(&w);

  /* a frame only the host may send */
  memset(&s, 0, sizeof s);
  proto_enc_u32s(&w, PROTO_SHUTDOWN, 0, 0, 0, 0);
  CHECK_INTEQ(channel_parser_feed(&p, w.buf, w.len, &ops, &s), -EBADMSG);
  channel_parser_clear(&p);
  proto_wr_free(&w);

  /* a string whose length runs past the frame */
  memset(&s, 0, sizeof s);
  size_t at = proto_wr_begin(&w, PROTO_LOG, 0);
  proto_wr_u32(&w, 0);
  proto_wr_u32(&w, 1000);
  proto_wr_raw(&w, "abc", 4);
  proto_wr_end(&w, at);
  CHECK_INTEQ(channel_parser_feed(&p, w.buf, w.len, &ops, &s), -EBADMSG);
  CHECK_INTEQ(s.logs, 0);
  channel_parser_clear(&p);
  proto_wr_free(&w);

  /* a string with a NUL inside */
  memset(&s, 0, sizeof s);
  at = proto_wr_begin(&w, PROTO_LOG, 0);
  proto_wr_u32(&w, 0);
  proto_wr_u32(&w, 3);
  proto_wr_raw(&w, "a\0b", 4);
  proto_wr_end(&w, at);
  CHECK_INTEQ(channel_parser_feed(&p, w.buf, w.len, &ops, &s), -EBADMSG);
  channel_parser_clear(&p);
  proto_wr_free(&w);

  /* an exit kind that does not exist, and trailing bytes */
  memset(&s, 0, sizeof s);
  struct proto_exit e = {7, 0, ""};
  proto_enc_exit(&w, 0, &e);
  CHECK_INTEQ(channel_parser_feed(&p, w.buf, w.len, &ops, &s), -EBADMSG);
  CHECK_INTEQ(s.exits, 0);
  channel_parser_clear(&p);
  proto_wr_free(&w);
  memset(&s, 0, sizeof s);
  at = proto_wr_begin(&w, PROTO_STARTED, 0);
  proto_wr_u32(&w, 1);
  proto_wr_u32(&w, 2);
  proto_wr_end(&w, at);
  CHECK_INTEQ(channel_parser_feed(&p, w.buf, w.len, &ops, &s), -EBADMSG);
  CHECK_INTEQ(s.started, 0);
  channel_parser_clear(&p);
  proto_wr_free(&w);
}

/* PROCS: round trip, the bounds a guest may not pass, and TOP's frame. */
static void test_procs(void) {
  struct proto_proc procs[2] = {
      {7, 1, 0, 0x8800, 1500, 20, "root", "sh -c sleep 300"},
      {9, 7, 999, 0, 5ull << 40, 0, "", "[sleep]"},
  };
  struct proto_procs ps = {3, 2, procs};
  struct proto_wr w = {0};
  CHECK_INTEQ(proto_enc_procs(&w, 5, &ps), 0);
  CHECK_INTEQ(w.len, PROTO_HDR_SIZE + 8 + proto_proc_size(&procs[0]) + proto_proc_size(&procs[1]));
  struct seen s = {0};
  struct channel_parser p = {0};
  CHECK_INTEQ(channel_parser_feed(&p, w.buf, w.len, &ops, &s), 0);
  CHECK_INTEQ(s.procs, 1);
  CHECK_INTEQ(s.procs_id, 5);
  CHECK_INTEQ(s.procs_total, 3);
  CHECK_INTEQ(s.procs_n, 2);
  CHECK_INTEQ(s.proc_pid[1], 9);
  CHECK_INTEQ(s.proc_uid[1], 999);
  CHECK(s.proc_age[1] == 5ull << 40);
  CHECK_STREQ(s.proc_user[0], "root");
  CHECK_STREQ(s.proc_cmd[0], "sh -c sleep 300");
  CHECK_STREQ(s.proc_user[1], "");
  channel_parser_clear(&p);
  proto_wr_free(&w);

  /* a sender may not exceed the bounds: total below n, too many, too long */
  struct proto_procs bad = {1, 2, procs};
  CHECK_INTEQ(proto_enc_procs(&w, 1, &bad), -1);
  proto_wr_free(&w);
  char longcmd[PROTO_PROC_CMD_MAX + 2];
  memset(longcmd, 'x', sizeof longcmd - 1);
  longcmd[sizeof longcmd - 1] = '\0';
  struct proto_proc lp = {1, 0, 0, 0, 0, 0, "u", longcmd};
  struct proto_procs lps = {1, 1, &lp};
  CHECK_INTEQ(proto_enc_procs(&w, 1, &lps), -1);
  proto_wr_free(&w);
  /* ... and a guest that does is cut off */
  uint8_t frame[PROTO_HDR_SIZE + 8] = {8, 0, 0, 0, PROTO_PROCS, 0, 1, 0,
                                       1, 0, 0, 0, 2, 0, 0, 0}; /* total 1 < n 2 */
  memset(&s, 0, sizeof s);
  CHECK_INTEQ(channel_parser_feed(&p, frame, sizeof frame, &ops, &s), -EBADMSG);
  CHECK_INTEQ(s.procs, 0);
  CHECK_INTEQ(s.closed, 1);
  channel_parser_clear(&p);
  uint8_t many[PROTO_HDR_SIZE + 8] = {8, 0, 0, 0, PROTO_PROCS, 0, 1, 0,
                                      0xff, 0xff, 0, 0, 0xff, 0xff, 0, 0}; /* n without data */
  memset(&s, 0, sizeof s);
  CHECK_INTEQ(channel_parser_feed(&p, many, sizeof many, &ops, &s), -EBADMSG);
  channel_parser_clear(&p);
  /* TOP goes from the host only */
  CHECK_INTEQ(proto_enc_u32s(&w, PROTO_TOP, 3, 0, 0, 0), 0);
  memset(&s, 0, sizeof s);
  CHECK_INTEQ(channel_parser_feed(&p, w.buf, w.len, &ops, &s), -EBADMSG);
  channel_parser_clear(&p);
  proto_wr_free(&w);
}

int main(void) {
  test_procs();
  test_whole_and_split();
  test_configure_roundtrip();
  test_start_roundtrip();
  test_prepare_roundtrip();
  test_hostile();
  TEST_DONE();
}
