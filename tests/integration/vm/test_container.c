/* container.h with a real VM: a main process, exec sessions running
 * concurrently with it (own stdout/stderr/stdin, exit codes, a command that
 * does not exist, the container's environment), then the main process
 * stopped by a forwarded signal.  The image is busybox-static imported
 * with image_import(); the whole run is under a timeout. */
#include <errno.h>
#include <fcntl.h>
#include <linux/if_tun.h>
#include <net/if.h>
#include <stdio.h>
#include <sys/ioctl.h>
#include <sys/resource.h>
#include <signal.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "runtime/image/image.h"
#include "runtime/util/cleanup.h"
#include "runtime/util/error.h"
#include "runtime/util/fsutil.h"
#include "runtime/util/sbuf.h"
#include "runtime/util/xalloc.h"
#include "runtime/vm/container.h"
#include "runtime/vm/kernel.h"
#include "helper_busybox.h"
#include "test.h"

#define TIMEOUT_MS 120000

static char tmpdir[] = "/tmp/stack-ctrtest.XXXXXX";

struct execrun {
  const char *name;
  struct sbuf out, err;
  int code;
  bool done;
  char *error;
};

struct state {
  uv_loop_t loop;
  uv_timer_t timer;
  struct container *c;
  struct sbuf out;
  struct execrun x[5];
  int pending;
  bool main_done;
  struct container_status st;
  char *st_error;
};

static void x_output(void *d, int fd, const uint8_t *p, size_t n) {
  struct execrun *x = d;
  sbuf_append(fd == 2 ? &x->err : &x->out, p, n);
}

static void x_exited(void *d, const struct container_status *st);
static const struct container_exec_io xio = {x_output, x_exited};

static struct state *g_state_for_exec; /* the exec callbacks' way back */

static void x_exited(void *d, const struct container_status *st) {
  struct execrun *x = d;
  struct state *s = g_state_for_exec;
  x->done = true;
  x->code = st->exit_code;
  x->error = st->error ? xstrdup(st->error) : NULL;
  if (--s->pending == 0) /* all sessions done: stop the main process */
    CHECK_INTEQ(container_signal(s->c, SIGTERM), 0);
}

static void on_output(void *d, int fd, const uint8_t *p, size_t n) {
  struct state *s = d;
  if (fd == 1)
    sbuf_append(&s->out, p, n);
}

static void on_started(void *d) {
  struct state *s = d;
  _cleanup_error_ struct stack_error *err = NULL;
  char *a0[] = {"sh", "-c", "echo exec1 $FOO; echo e1err >&2; exit 3", NULL};
  char *a1[] = {"cat", NULL};
  char *a2[] = {"no-such-binary", NULL};
  char *a3[] = {"sh", "-c", "stty size; tty", NULL};
  char *a4[] = {"sh", "-c", "read x; stty size", NULL};
  char *env1[] = {"FOO=from-exec", NULL};
  struct container_exec_opts o0 = {.argv = a0, .env = env1};
  struct container_exec_opts o1 = {.argv = a1, .interactive = true};
  struct container_exec_opts o2 = {.argv = a2};
  struct container_exec_opts o3 = {.argv = a3, .tty = true, .rows = 30, .cols = 90};
  struct container_exec_opts o4 = {.argv = a4, .tty = true, .interactive = true, .rows = 5, .cols = 5};
  uint16_t id[5];
  s->x[0].name = "sh";
  s->x[1].name = "cat";
  s->x[2].name = "missing";
  s->x[3].name = "tty";
  s->x[4].name = "resize";
  CHECK_INTEQ(container_exec(s->c, &o0, &xio, &s->x[0], &id[0], &err), 0);
  CHECK_INTEQ(container_exec(s->c, &o1, &xio, &s->x[1], &id[1], &err), 0);
  CHECK_INTEQ(container_exec(s->c, &o2, &xio, &s->x[2], &id[2], &err), 0);
  CHECK_INTEQ(container_exec(s->c, &o3, &xio, &s->x[3], &id[3], &err), 0);
  CHECK(id[0] != id[1] && id[1] != id[2] && id[2] != id[3] && id[0] != 0);
  CHECK_INTEQ(container_exec(s->c, &o4, &xio, &s->x[4], &id[4], &err), 0);
  s->pending = 5;
  /* frames are handled in order: the new size is set before the line that
   * lets the shell go on */
  CHECK_INTEQ(container_exec_resize(s->c, id[4], 40, 100), 0);
  CHECK_INTEQ(container_exec_stdin(s->c, id[4], "go\n", 3), 0);
  CHECK_INTEQ(container_exec_stdin(s->c, id[1], "abc", 3), 0);
  CHECK_INTEQ(container_exec_stdin(s->c, id[1], NULL, 0), 0);
}

static void on_exited(void *d, const struct container_status *st) {
  struct state *s = d;
  s->main_done = true;
  s->st = *st;
  s->st_error = st->error ? xstrdup(st->error) : NULL;
  uv_stop(&s->loop);
}

static void on_timeout(uv_timer_t *t) {
  struct state *s = t->data;
  fprintf(stderr, "timeout: the container did not finish in %d ms\n", TIMEOUT_MS);
  uv_stop(&s->loop);
}

/* ---- a run to completion, for the network and ulimit checks ---- */

struct simple {
  uv_loop_t *loop;
  struct sbuf out;
  int code;
  bool done;
  char error[512];
};

static void s_output(void *d, int fd, const uint8_t *p, size_t n) {
  struct simple *s = d;
  if (fd == 1)
    sbuf_append(&s->out, p, n);
  else
    fwrite(p, 1, n, stderr);
}

static void s_exited(void *d, const struct container_status *st) {
  struct simple *s = d;
  s->done = true;
  s->code = st->exit_code;
  if (st->error)
    snprintf(s->error, sizeof s->error, "%s", st->error);
  uv_stop(s->loop);
}

static void on_simple_timeout(uv_timer_t *t) {
  fprintf(stderr, "timeout: the container did not finish in %d ms\n", TIMEOUT_MS);
  uv_stop(t->data);
}

/* A persistent tap for QEMU to open, or -1 (no /dev/net/tun). */
static int tap_make(const char *name, int persist) {
  int fd = open("/dev/net/tun", O_RDWR | O_CLOEXEC);
  if (fd < 0)
    return -1;
  struct ifreq ifr = {0};
  snprintf(ifr.ifr_name, sizeof ifr.ifr_name, "%s", name);
  ifr.ifr_flags = IFF_TAP | IFF_NO_PI;
  int r = ioctl(fd, TUNSETIFF, &ifr) < 0 ? -1 : ioctl(fd, TUNSETPERSIST, persist);
  close(fd);
  return r < 0 ? -1 : 0;
}

/* The guest configures its interface (found by MAC, renamed, MTU,
 * addresses), the default route, resolv.conf, /etc/hosts and ulimits as
 * asked. */
static void test_network(struct image_handle *img) {
  char tap[IFNAMSIZ];
  snprintf(tap, sizeof tap, "stkt%d", (int)(getpid() % 100000));
  if (tap_make(tap, 1) < 0) {
    printf("network part skipped: cannot make a tap (%s)\n", strerror(errno));
    return;
  }
  uv_loop_t loop;
  uv_loop_init(&loop);
  uv_timer_t timer;
  uv_timer_init(&loop, &timer);
  timer.data = &loop;
  struct simple s = {.loop = &loop, .code = -1};
  uv_timer_start(&timer, on_simple_timeout, TIMEOUT_MS, 0);
  char *cmd[] = {"sh", "-c",
                 "cat /sys/class/net/lan0/mtu; ip -4 addr show dev lan0 | grep -o 'inet [0-9./]*'; "
                 "ip route | grep -o 'default via [0-9.]*'; cat /etc/resolv.conf; "
                 "grep -c '10.77.0.2.*box' /etc/hosts; grep 'db$' /etc/hosts; ulimit -n",
                 NULL};
  const char *addrs[] = {"10.77.0.2/24", NULL};
  const char *gws[] = {"10.77.0.1", NULL};
  const char *extra[] = {"10.77.0.9 db", NULL};
  struct container_net net = {tap, "52:54:00:12:34:56", "lan0", 1400, addrs};
  struct proto_rlimit rl = {RLIMIT_NOFILE, 123, 456};
  struct container_opts o = {.cmd = cmd, .remove = true, .mem_mib = 256, .hostname = "box",
                             .nets = &net, .n_nets = 1, .gateways = gws,
                             .resolv_conf = "nameserver 10.77.0.1\n", .extra_hosts = extra,
                             .rlimits = &rl, .n_rlimits = 1};
  static const struct container_io io = {.output = s_output, .exited = s_exited};
  struct container *c = NULL;
  _cleanup_error_ struct stack_error *err = NULL;
  int r = container_start(&loop, img, &o, &io, &s, &c, &err);
  CHECK_MSG(r == 0, "%s", err ? err->msg : "");
  if (r == 0)
    uv_run(&loop, UV_RUN_DEFAULT);
  CHECK(s.done);
  CHECK_INTEQ(s.code, 0);
  CHECK_MSG(s.error[0] == 0, "%s", s.error);
  CHECK_STREQ(s.out.data, "1400\ninet 10.77.0.2/24\ndefault via 10.77.0.1\nnameserver 10.77.0.1\n1\n"
                          "10.77.0.9 db\n123\n");
  container_free(c);
  uv_close((uv_handle_t *)&timer, NULL);
  uv_run(&loop, UV_RUN_DEFAULT);
  uv_loop_close(&loop);
  sbuf_free(&s.out);
  tap_make(tap, 0);
}

/* A root disk the guest cannot mount: a clear error, exit 125, no hang. */
static void test_bad_root(const struct image_handle *img) {
  _cleanup_free_ char *junk = xasprintf("%s/junk.img", tmpdir);
  _cleanup_close_ int fd = open(junk, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
  CHECK(fd >= 0 && ftruncate(fd, 1 << 20) == 0);
  struct image_handle bad = *img;
  bad.rootfs_path = junk;
  uv_loop_t loop;
  uv_loop_init(&loop);
  uv_timer_t timer;
  uv_timer_init(&loop, &timer);
  timer.data = &loop;
  uv_timer_start(&timer, on_simple_timeout, TIMEOUT_MS, 0);
  struct simple s = {.loop = &loop, .code = -1};
  char *cmd[] = {"true", NULL};
  struct container_opts o = {.cmd = cmd, .remove = true, .mem_mib = 256};
  static const struct container_io io = {.output = s_output, .exited = s_exited};
  struct container *c = NULL;
  _cleanup_error_ struct stack_error *err = NULL;
  int r = container_start(&loop, &bad, &o, &io, &s, &c, &err);
  CHECK_MSG(r == 0, "%s", err ? err->msg : "");
  if (r == 0)
    uv_run(&loop, UV_RUN_DEFAULT);
  CHECK(s.done);
  CHECK_INTEQ(s.code, CONTAINER_EXIT_FAILED);
  CHECK_MSG(strstr(s.error, "could not set up the container: mount image disk /dev/vda"),
            "%s", s.error);
  container_free(c);
  uv_close((uv_handle_t *)&timer, NULL);
  uv_run(&loop, UV_RUN_DEFAULT);
  uv_loop_close(&loop);
  sbuf_free(&s.out);
}

int main(void) {
  char *kernel = NULL;
  _cleanup_error_ struct stack_error *err = NULL;
  if (access("/bin/busybox", X_OK) < 0)
    TEST_SKIP("busybox-static is not installed");
  if (kernel_find(NULL, &kernel, NULL, &err) < 0)
    TEST_SKIP("no guest kernel: %s", err->msg);
  free(kernel);
  if (mkdtemp(tmpdir) == NULL)
    return 1;
  _cleanup_free_ char *root = xasprintf("%s/root", tmpdir);
  _cleanup_free_ char *run = xasprintf("%s/run", tmpdir);
  _cleanup_free_ char *tree = xasprintf("%s/tree", tmpdir);
  setenv("STACK_ROOT", root, 1);
  setenv("STACK_RUN_DIR", run, 1);
  CHECK_INTEQ(busybox_tree(tree), 0);
  struct image_handle *img = NULL;
  int r = image_import(root, tree, "ctrtest:latest", NULL, &err);
  CHECK_MSG(r == 0, "%s", err ? err->msg : "");
  if (r == 0)
    r = image_get(root, "ctrtest:latest", &(struct image_get_opts){.pull = IMAGE_PULL_NEVER}, &img,
                  &err);
  CHECK_MSG(r == 0, "%s", err ? err->msg : "");

  struct state s = {0};
  g_state_for_exec = &s;
  if (img) {
    uv_loop_init(&s.loop);
    uv_timer_init(&s.loop, &s.timer);
    s.timer.data = &s;
    uv_timer_start(&s.timer, on_timeout, TIMEOUT_MS, 0);
    char *cmd[] = {"sh", "-c", "echo main $FOO; sleep 60", NULL};
    char *env[] = {"FOO=from-run", NULL};
    struct container_opts o = {.cmd = cmd, .env = env, .remove = true, .mem_mib = 256};
    static const struct container_io io = {.output = on_output, .started = on_started, .exited = on_exited};
    r = container_start(&s.loop, img, &o, &io, &s, &s.c, &err);
    CHECK_MSG(r == 0, "%s", err ? err->msg : "");
    if (r == 0)
      uv_run(&s.loop, UV_RUN_DEFAULT);
    CHECK(s.main_done);
    CHECK_STREQ(s.out.data, "main from-run\n");
    CHECK_STREQ(s.x[0].out.data, "exec1 from-exec\n");
    CHECK_STREQ(s.x[0].err.data, "e1err\n");
    CHECK_INTEQ(s.x[0].code, 3);
    CHECK_STREQ(s.x[1].out.data, "abc");
    CHECK_INTEQ(s.x[1].code, 0);
    CHECK_INTEQ(s.x[2].code, CONTAINER_EXIT_NOTFOUND);
    CHECK(s.x[2].error && strstr(s.x[2].error, "no-such-binary"));
    CHECK_STREQ(s.x[3].out.data, "30 90\r\n/dev/pts/0\r\n");
    CHECK_INTEQ(s.x[3].code, 0);
    CHECK_STREQ(s.x[4].out.data, "go\r\n40 100\r\n");
    CHECK_INTEQ(s.st.exit_code, 128 + SIGTERM);
    CHECK_INTEQ(s.st.signal, SIGTERM);
    CHECK_MSG(s.st_error == NULL, "%s", s.st_error);
    _cleanup_free_ char *state = s.c ? xstrdup(container_state_dir(s.c)) : NULL;
    container_free(s.c);
    uv_close((uv_handle_t *)&s.timer, NULL);
    uv_run(&s.loop, UV_RUN_DEFAULT);
    CHECK(uv_loop_close(&s.loop) == 0);
    CHECK(state == NULL || !fs_exists(state)); /* --rm removed it */
  }
  if (img) {
    test_network(img);
    test_bad_root(img);
  }
  for (int i = 0; i < 5; i++) {
    sbuf_free(&s.x[i].out);
    sbuf_free(&s.x[i].err);
    free(s.x[i].error);
  }
  sbuf_free(&s.out);
  free(s.st_error);
  image_handle_free(img);
  fs_rm_rf(tmpdir, NULL);
  TEST_DONE();
}
