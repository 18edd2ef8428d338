#include "runtime/vm/template.h"

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <dirent.h>
#include <sys/file.h>
#include <sys/random.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cjson/cJSON.h>

#include "guest/proto.h"
#include "runtime/image/blobstore.h"
#include "runtime/util/cleanup.h"
#include "runtime/util/dlist.h"
#include "runtime/util/du.h"
#include "runtime/util/error.h"
#include "runtime/util/fsutil.h"
#include "runtime/util/paths.h"
#include "runtime/util/sbuf.h"
#include "runtime/util/xalloc.h"
#include "runtime/vm/channel.h"
#include "runtime/vm/kernel.h"
#include "runtime/vm/qemu.h"
#include "runtime/vm/qmp.h"

/* Bump when what a template holds or how clones use it changes. */
#define TEMPLATE_FORMAT 3
/* At most this many templates are kept: the least recently used go first
 * (each is a ~50 MB state file). */
#define TEMPLATE_KEEP 12
/* Boot to HELLO and save: ~0.6 s normally, seconds on a loaded machine. */
#define BUILD_TIMEOUT_MS 60000

struct template_wait {
  struct template_wait *prev, *next;
  struct build *b;
  template_cb cb;
  void *data;
};

struct build {
  struct build *prev, *next;
  struct template_cache *tc;
  char *key;
  char *dir, *state_path, *tmp_path, *run_dir, *mig_path;
  char *ram_tmp; /* the RAM file being written (shared RAM), else NULL */
  int lock_fd, out_fd;
  /* the state and RAM files made durable off the loop before they are put
   * in place: their own descriptors, closed when the work is done */
  uv_work_t sync;
  int sync_fd[2];
  int sync_err;
  struct vm *vm;
  struct channel *ch;
  struct qmp *q;
  uv_pipe_t server, conn;
  bool server_open, conn_open;
  uv_timer_t timer;
  int handles; /* libuv handles still open: memory goes at 0 */
  bool done;
  struct template_wait *waits;
};

struct template_cache {
  uv_loop_t *loop;
  struct build *builds;
};

void template_mac(size_t i, char out[18]) {
  /* QEMU's own prefix with a fixed tail; never seen on a network (the guest
   * takes the container's MAC before its link goes up) */
  snprintf(out, 18, "52:54:00:5e:00:%02x", (unsigned)(i & 0xff));
}

int template_enabled(void) {
  const char *e = getenv("STACK_TEMPLATES");
  return !(e && (strcmp(e, "0") == 0 || strcmp(e, "off") == 0 || strcmp(e, "no") == 0));
}

static void add_identity(struct sbuf *b, const char *what, const char *path) {
  struct stat st;
  if (path && stat(path, &st) == 0)
    sbuf_printf(b, "%s=%s:%lld:%lld.%09ld:%llu", what, path, (long long)st.st_size,
                (long long)st.st_mtim.tv_sec, st.st_mtim.tv_nsec, (unsigned long long)st.st_ino);
  else
    sbuf_printf(b, "%s=%s:missing", what, path ? path : "");
  sbuf_putc(b, '\0');
}

/* The key of spec's shape: the command line a template of it would run,
 * with per-VM paths replaced by fixed ones, and the files it loads. */
static int shape_key(const struct vm_spec *spec, uint64_t data_bytes, char **out,
                     struct stack_error **err) {
  struct vm_host probed;
  const struct vm_host *host = spec->host;
  int r;
  if (!host) {
    if ((r = vm_host_probe(&probed, err)) < 0)
      return r;
    host = &probed;
  }
  _cleanup_free_ char *kernel = NULL;
  if ((r = kernel_find(spec->kernel, &kernel, NULL, err)) < 0)
    return r;
  struct vm_net nets[PROTO_MAX_IFACES];
  char macs[PROTO_MAX_IFACES][18];
  if (spec->n_nets > PROTO_MAX_IFACES)
    return stack_error_set(err, -E2BIG, "%zu networks: at most %d", spec->n_nets,
                           PROTO_MAX_IFACES);
  for (size_t i = 0; i < spec->n_nets; i++) {
    template_mac(i, macs[i]);
    nets[i] = (struct vm_net){.tap = "tap", .mac = macs[i]};
  }
  struct vm_share shares[PROTO_MAX_MOUNTS];
  if (spec->n_shares > PROTO_MAX_MOUNTS)
    return stack_error_set(err, -E2BIG, "%zu shared directories: at most %d", spec->n_shares,
                           PROTO_MAX_MOUNTS);
  for (size_t i = 0; i < spec->n_shares; i++)
    shares[i] = (struct vm_share){"/share", spec->shares[i].tag, spec->shares[i].readonly,
                                  spec->shares[i].model};
  struct vm_spec norm = *spec;
  norm.name = NULL;
  norm.shares = shares;
  norm.root_disk = "/root";
  norm.data_disk = "/data";
  norm.nets = nets;
  norm.control_socket = "/ctl";
  norm.qmp_socket = "/qmp";
  norm.incoming = NULL;
  norm.ram = host->shared_ram ? VM_RAM_TEMPLATE_BUILD : VM_RAM_ANON;
  norm.ram_file = "/ram";
  _cleanup_strv_ char **argv = NULL;
  if ((r = qemu_build_argv(&norm, host, kernel, "/console", &argv, err)) < 0)
    return r;
  struct sbuf b = SBUF_INIT;
  sbuf_printf(&b, "stack-template-%d proto-%d", TEMPLATE_FORMAT, PROTO_VERSION);
  sbuf_putc(&b, '\0');
  for (size_t i = 0; argv[i]; i++) {
    /* TCG's threading is no part of the saved machine: clones restore
     * one template whichever they get (accel.h) */
    if (strcmp(argv[i], "-accel") == 0 && argv[i + 1]) {
      i++;
      continue;
    }
    sbuf_puts(&b, argv[i]);
    sbuf_putc(&b, '\0');
  }
  _cleanup_free_ char *qemu = fs_which(argv[0]);
  add_identity(&b, "qemu", qemu);
  add_identity(&b, "kernel", kernel);
  add_identity(&b, "initrd", spec->initrd);
  add_identity(&b, "root", spec->root_disk);
  sbuf_printf(&b, "data=%llu", (unsigned long long)data_bytes);
  sbuf_putc(&b, '\0');
  _cleanup_free_ char *digest = blobstore_digest_of(b.data, b.len);
  sbuf_free(&b);
  /* "sha256:" + 64 hex: 16 hex are plenty for a cache key */
  *out = xstrndup(digest + 7, 16);
  return 0;
}

char *template_ram_path(const char *state_path, unsigned long long state_ino) {
  _cleanup_free_ char *dir = xstrdup(state_path);
  char *slash = strrchr(dir, '/');
  if (slash)
    *slash = '\0';
  _cleanup_free_ char *name = xasprintf("ram.%llu", state_ino);
  return fs_path_join(slash ? dir : ".", name);
}

char *template_data_disk(const char *state_path) {
  _cleanup_free_ char *dir = xstrdup(state_path);
  char *slash = strrchr(dir, '/');
  if (slash)
    *slash = '\0';
  return fs_path_join(dir, "data.img");
}

/* ---- building ---- */

static void build_release(struct build *b) {
  free(b->key);
  free(b->dir);
  free(b->state_path);
  free(b->tmp_path);
  free(b->run_dir);
  free(b->mig_path);
  free(b->ram_tmp);
  free(b);
}

static void on_build_handle_closed(uv_handle_t *h) {
  struct build *b = h->data;
  if (--b->handles == 0)
    build_release(b);
}

/* Tells the waiters (state_path NULL: failed) and tears the build down:
 * the template VM is killed (its state, if any, is already on disk). */
static void build_finish(struct build *b, const char *state_path, const char *error) {
  if (b->done)
    return;
  b->done = true;
  if (b->tc)
    DLIST_REMOVE(&b->tc->builds, b);
  struct template_wait *w;
  while ((w = b->waits) != NULL) {
    DLIST_REMOVE(&b->waits, w);
    template_cb cb = w->cb;
    void *data = w->data;
    free(w);
    if (cb)
      cb(data, state_path, error);
  }
  qmp_close(b->q);
  b->q = NULL;
  channel_close(b->ch);
  b->ch = NULL;
  if (b->vm)
    vm_free(b->vm); /* kills QEMU */
  b->vm = NULL;
  if (b->out_fd >= 0)
    close(b->out_fd);
  b->out_fd = -1;
  if (b->tmp_path)
    unlink(b->tmp_path);
  if (b->ram_tmp)
    unlink(b->ram_tmp);
  if (b->mig_path)
    unlink(b->mig_path);
  if (b->run_dir)
    rmdir(b->run_dir);
  if (b->lock_fd >= 0)
    close(b->lock_fd); /* releases the flock */
  b->lock_fd = -1;
  uv_timer_stop(&b->timer);
  uv_close((uv_handle_t *)&b->timer, on_build_handle_closed);
  if (b->server_open)
    uv_close((uv_handle_t *)&b->server, on_build_handle_closed);
  if (b->conn_open)
    uv_close((uv_handle_t *)&b->conn, on_build_handle_closed);
  b->server_open = b->conn_open = false;
}

static void build_fail(struct build *b, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void build_fail(struct build *b, const char *fmt, ...) {
  va_list ap;
  va_start(ap, fmt);
  _cleanup_free_ char *m = xvasprintf(fmt, ap);
  va_end(ap);
  _cleanup_free_ char *msg = xasprintf("building the VM template %s: %s", b->key, m);
  build_finish(b, NULL, msg);
}

static void on_timeout(uv_timer_t *t) {
  build_fail(t->data, "no result within %d s; see %s/console.log", BUILD_TIMEOUT_MS / 1000,
             ((struct build *)t->data)->dir);
}

static void on_vm_exit(struct vm *vm, int64_t status, int sig, void *data) {
  struct build *b = data;
  const char *qerr = vm_stderr(vm);
  build_fail(b, "QEMU ended (status %lld, signal %d) before the template was saved%s%s",
             (long long)status, sig, *qerr ? ": " : "", qerr);
}

/* Puts the RAM file where clones of the state find it: ram.<the state
 * file's inode> (template_ram_path()), readable by every VM's QEMU and
 * writable by none; RAM files of earlier builds go (clones still running
 * keep theirs: they have it open). */
static int commit_ram(struct build *b) {
  struct stat st;
  if (stat(b->tmp_path, &st) < 0) {
    build_fail(b, "cannot stat %s: %s", b->tmp_path, strerror(errno));
    return -1;
  }
  _cleanup_free_ char *ram = template_ram_path(b->state_path, st.st_ino);
  if (chown(b->ram_tmp, geteuid(), getegid()) < 0 || chmod(b->ram_tmp, 0644) < 0 ||
      rename(b->ram_tmp, ram) < 0) {
    build_fail(b, "cannot install %s: %s", ram, strerror(errno));
    return -1;
  }
  free(b->ram_tmp);
  b->ram_tmp = NULL;
  DIR *d = opendir(b->dir);
  struct dirent *de;
  while (d && (de = readdir(d)) != NULL) {
    if (strncmp(de->d_name, "ram.", 4) != 0 || strcmp(de->d_name, strrchr(ram, '/') + 1) == 0)
      continue;
    _cleanup_free_ char *old = fs_path_join(b->dir, de->d_name);
    unlink(old);
  }
  if (d)
    closedir(d);
  return 0;
}

/* Puts the files in place once they are on disk: after a crash a state
 * file must never name a RAM file the page cache had not written yet
 * (clones would restore a guest with pages of zeros). */
static void commit(struct build *b) {
  if (b->ram_tmp && commit_ram(b) < 0)
    return;
  if (rename(b->tmp_path, b->state_path) < 0) {
    build_fail(b, "cannot rename %s: %s", b->tmp_path, strerror(errno));
    return;
  }
  build_finish(b, b->state_path, NULL);
}

static void sync_work(uv_work_t *w) {
  struct build *b = w->data;
  for (int i = 0; i < 2; i++)
    if (b->sync_fd[i] >= 0 && fsync(b->sync_fd[i]) < 0 && b->sync_err == 0)
      b->sync_err = errno;
}

static void sync_done(uv_work_t *w, int status) {
  struct build *b = w->data;
  for (int i = 0; i < 2; i++)
    if (b->sync_fd[i] >= 0)
      close(b->sync_fd[i]);
  if (!b->done) {
    if (status < 0 || b->sync_err)
      build_fail(b, "cannot write %s to disk: %s", b->dir,
                 status < 0 ? uv_strerror(status) : strerror(b->sync_err));
    else
      commit(b);
  }
  if (--b->handles == 0)
    build_release(b);
}

static void start_sync(struct build *b) {
  b->sync_fd[0] = open(b->tmp_path, O_RDONLY | O_CLOEXEC);
  b->sync_fd[1] = b->ram_tmp ? open(b->ram_tmp, O_RDONLY | O_CLOEXEC) : -1;
  if (b->sync_fd[0] < 0 || (b->ram_tmp && b->sync_fd[1] < 0)) {
    int e = errno;
    for (int i = 0; i < 2; i++)
      if (b->sync_fd[i] >= 0)
        close(b->sync_fd[i]);
    build_fail(b, "cannot open %s again: %s", b->sync_fd[0] < 0 ? b->tmp_path : b->ram_tmp,
               strerror(e));
    return;
  }
  b->sync_err = 0;
  b->sync.data = b;
  /* a handle's worth of lifetime: the build is freed after sync_done */
  b->handles++;
  int r = uv_queue_work(b->tc->loop, &b->sync, sync_work, sync_done);
  if (r < 0) {
    b->handles--;
    for (int i = 0; i < 2; i++)
      if (b->sync_fd[i] >= 0)
        close(b->sync_fd[i]);
    build_fail(b, "cannot queue the write to disk: %s", uv_strerror(r));
  }
}

static void on_query(struct qmp *q, int status, const cJSON *ret, const char *error_desc,
                     void *data) {
  (void)q;
  struct build *b = data;
  if (b->done)
    return;
  const cJSON *st = ret ? cJSON_GetObjectItemCaseSensitive(ret, "status") : NULL;
  const cJSON *desc = ret ? cJSON_GetObjectItemCaseSensitive(ret, "error-desc") : NULL;
  if (status < 0 || !cJSON_IsString(st) || strcmp(st->valuestring, "completed") != 0) {
    build_fail(b, "migration %s%s%s", cJSON_IsString(st) ? st->valuestring : "failed",
               cJSON_IsString(desc) ? ": " : "",
               cJSON_IsString(desc) ? desc->valuestring : error_desc ? error_desc : "");
    return;
  }
  start_sync(b);
}

static void on_mig_alloc(uv_handle_t *h, size_t suggested, uv_buf_t *buf) {
  (void)h;
  (void)suggested;
  buf->base = xmalloc(1 << 20);
  buf->len = 1 << 20;
}

/* The migration stream, written to the state file as it comes (a few tens
 * of MB, once per template: plain writes into the page cache). */
static void on_mig_read(uv_stream_t *s, ssize_t n, const uv_buf_t *buf) {
  struct build *b = s->data;
  if (n > 0 && !b->done) {
    const char *p = buf->base;
    size_t left = (size_t)n;
    while (left > 0) {
      ssize_t w = write(b->out_fd, p, left);
      if (w < 0 && errno == EINTR)
        continue;
      if (w < 0) {
        free(buf->base);
        build_fail(b, "writing %s: %s", b->tmp_path, strerror(errno));
        return;
      }
      p += w;
      left -= (size_t)w;
    }
  }
  free(buf->base);
  if (n == UV_EOF && !b->done) {
    /* QEMU closes the stream after the migration ended: ask how */
    uv_read_stop(s);
    if (close(b->out_fd) < 0) {
      b->out_fd = -1;
      build_fail(b, "writing %s: %s", b->tmp_path, strerror(errno));
      return;
    }
    b->out_fd = -1;
    _cleanup_error_ struct stack_error *e = NULL;
    if (qmp_execute(b->q, "query-migrate", NULL, on_query, b, &e) < 0)
      build_fail(b, "%s", e->msg);
  } else if (n < 0 && !b->done) {
    build_fail(b, "reading the migration stream: %s", uv_strerror((int)n));
  }
}

static void on_mig_conn(uv_stream_t *server, int status) {
  struct build *b = server->data;
  if (b->done || b->conn_open)
    return;
  if (status < 0) {
    build_fail(b, "migration socket: %s", uv_strerror(status));
    return;
  }
  uv_pipe_init(b->tc->loop, &b->conn, 0);
  b->conn.data = b;
  b->conn_open = true;
  b->handles++;
  int r = uv_accept(server, (uv_stream_t *)&b->conn);
  if (r == 0)
    r = uv_read_start((uv_stream_t *)&b->conn, on_mig_alloc, on_mig_read);
  if (r < 0)
    build_fail(b, "migration socket: %s", uv_strerror(r));
}

static void on_migrate(struct qmp *q, int status, const cJSON *ret, const char *error_desc,
                       void *data) {
  (void)q;
  (void)ret;
  struct build *b = data;
  if (status < 0 && !b->done)
    build_fail(b, "QMP migrate: %s", error_desc ? error_desc : strerror(-status));
}

static void start_migrate(struct qmp *q, struct build *b) {
  cJSON *args = cJSON_CreateObject();
  _cleanup_free_ char *uri = xasprintf("unix:%s", b->mig_path);
  cJSON_AddStringToObject(args, "uri", uri);
  _cleanup_error_ struct stack_error *e = NULL;
  if (qmp_execute(q, "migrate", args, on_migrate, b, &e) < 0)
    build_fail(b, "%s", e->msg);
}

static void on_caps(struct qmp *q, int status, const cJSON *ret, const char *error_desc,
                    void *data) {
  (void)ret;
  struct build *b = data;
  if (b->done)
    return;
  if (status < 0) {
    build_fail(b, "QMP migrate-set-capabilities: %s", error_desc ? error_desc : strerror(-status));
    return;
  }
  start_migrate(q, b);
}

static void on_qmp(struct qmp *q, int status, void *data) {
  struct build *b = data;
  if (b->done)
    return;
  if (status < 0) {
    build_fail(b, "QMP connection closed");
    return;
  }
  if (b->ram_tmp == NULL) {
    start_migrate(q, b);
    return;
  }
  /* the RAM stays in its file, which clones map: the state holds the
   * devices only */
  _cleanup_error_ struct stack_error *e = NULL;
  if (qmp_execute(q, "migrate-set-capabilities", qmp_ignore_shared_args(), on_caps, b, &e) < 0)
    build_fail(b, "%s", e->msg);
}

/* The guest's root is mounted (PREPARED) and its init waits for
 * CONFIGURE: save it now.  The control connection stays open until QEMU is
 * killed, so the state says "host connected" and a clone whose host
 * connected before the restore sees no change. */
static void on_prepared(void *data, int32_t error, const char *message) {
  struct build *b = data;
  if (b->done)
    return;
  if (error < 0) {
    build_fail(b, "the guest could not mount the image: %s", message);
    return;
  }
  _cleanup_error_ struct stack_error *e = NULL;
  if (qmp_connect(b->tc->loop, vm_qmp_path(b->vm), on_qmp, NULL, b, &b->q, &e) < 0)
    build_fail(b, "%s", e->msg);
}

/* The guest's init said HELLO: have it mount the image's root (the same in
 * every container of the image), then save. */
static void on_hello(void *data, uint32_t version, uint32_t caps, const char *kernel) {
  (void)caps;
  (void)kernel;
  struct build *b = data;
  if (b->done)
    return;
  if (version != PROTO_VERSION) {
    build_fail(b, "the guest init speaks protocol %u, this stack %u: rebuild the initramfs",
               version, PROTO_VERSION);
    return;
  }
  _cleanup_error_ struct stack_error *e = NULL;
  if (channel_send_prepare(b->ch, "/dev/vda", "/dev/vdb", &e) < 0)
    build_fail(b, "%s", e->msg);
}

static void on_closed(void *data, int error, const char *message) {
  struct build *b = data;
  if (!b->done && error < 0)
    build_fail(b, "the guest broke the control protocol: %s", message);
}

static const struct channel_ops build_ops = {
    .hello = on_hello, .prepared = on_prepared, .closed = on_closed};

/* ---- housekeeping ---- */

/* Whether the template in dir still has its files: meta lists the kernel,
 * initramfs and image disk it was made from, one path per line; a
 * template whose image was removed can never be used again. */
static bool template_alive(const char *dir) {
  _cleanup_free_ char *meta = fs_path_join(dir, "meta");
  _cleanup_free_ char *text = NULL;
  if (fs_read_file(meta, 65536, &text, NULL, NULL) < 0)
    return false;
  char *save = NULL;
  for (char *line = strtok_r(text, "\n", &save); line; line = strtok_r(NULL, "\n", &save))
    if (line[0] == '/' && access(line, F_OK) < 0)
      return false;
  return true;
}

struct aged {
  char *dir;
  struct timespec used;
};

static int by_age(const void *a, const void *b) {
  const struct aged *x = a, *y = b;
  if (x->used.tv_sec != y->used.tv_sec)
    return x->used.tv_sec < y->used.tv_sec ? -1 : 1;
  return x->used.tv_nsec < y->used.tv_nsec ? -1 : x->used.tv_nsec > y->used.tv_nsec;
}

/* Removes dir unless someone is building it (its lock is held); whether
 * it did. */
static bool remove_if_unlocked(const char *dir) {
  _cleanup_free_ char *lock = fs_path_join(dir, "lock");
  _cleanup_close_ int fd = open(lock, O_RDWR | O_CLOEXEC);
  if (fd >= 0 && flock(fd, LOCK_EX | LOCK_NB) < 0)
    return false;
  return fs_rm_rf(dir, NULL) == 0;
}

static void remove_unlocked(const char *dir) { (void)remove_if_unlocked(dir); }

/* Before a build: templates whose image, kernel or initramfs is gone are
 * removed, then the least recently used beyond TEMPLATE_KEEP (a clone in
 * progress keeps what it opened: QEMU reads the state from an open fd). */
static void collect_garbage(const char *root, const char *keep) {
  DIR *d = opendir(root);
  if (d == NULL)
    return;
  struct aged *list = NULL;
  size_t n = 0, cap = 0;
  struct dirent *de;
  while ((de = readdir(d)) != NULL) {
    if (de->d_name[0] == '.' || strcmp(de->d_name, keep) == 0)
      continue;
    _cleanup_free_ char *dir = fs_path_join(root, de->d_name);
    _cleanup_free_ char *state = fs_path_join(dir, "state");
    struct stat st;
    if (!template_alive(dir) || stat(state, &st) < 0) {
      /* a build in progress has no state yet but holds its lock */
      remove_unlocked(dir);
      continue;
    }
    list = xgrow(list, &cap, n + 1, sizeof *list);
    list[n++] = (struct aged){steal_pointer(&dir), st.st_mtim};
  }
  closedir(d);
  qsort(list, n, sizeof *list, by_age);
  for (size_t i = 0; i < n; i++) {
    if (n - i >= TEMPLATE_KEEP) /* keeps TEMPLATE_KEEP - 1 besides the new one */
      remove_unlocked(list[i].dir);
    free(list[i].dir);
  }
  free(list);
}

static int write_meta(const char *dir, const struct vm_spec *spec, const char *kernel,
                      struct stack_error **err) {
  _cleanup_free_ char *meta = fs_path_join(dir, "meta");
  _cleanup_free_ char *text = xasprintf("%s\n%s\n%s\n", kernel, spec->initrd ? spec->initrd : "",
                                        spec->root_disk ? spec->root_disk : "");
  return fs_write_file_atomic(meta, text, strlen(text), 0600, err);
}

static int build_start(struct template_cache *tc, const struct vm_spec *spec, uint64_t data_bytes,
                       const char *key, const char *dir, struct build **out,
                       struct stack_error **err) {
  int r = fs_mkdir_p(dir, 0700, err);
  if (r < 0)
    return r;
  _cleanup_free_ char *lock = fs_path_join(dir, "lock");
  _cleanup_close_ int lock_fd = open(lock, O_RDWR | O_CREAT | O_CLOEXEC, 0600);
  if (lock_fd < 0)
    return stack_error_errno(err, -errno, "cannot open %s", lock);
  if (flock(lock_fd, LOCK_EX | LOCK_NB) < 0)
    return errno == EWOULDBLOCK ? -EBUSY : stack_error_errno(err, -errno, "flock %s", lock);
  _cleanup_free_ char *kernel = NULL;
  if ((r = kernel_find(spec->kernel, &kernel, NULL, err)) < 0 ||
      (r = write_meta(dir, spec, kernel, err)) < 0)
    return r;
  _cleanup_free_ char *parent = xstrdup(dir);
  *strrchr(parent, '/') = '\0';
  collect_garbage(parent, key);

  struct build *b = xcalloc(1, sizeof *b);
  b->tc = tc;
  b->key = xstrdup(key);
  b->dir = xstrdup(dir);
  b->state_path = fs_path_join(dir, "state");
  b->tmp_path = fs_path_join(dir, "state.tmp");
  b->out_fd = -1;
  b->lock_fd = steal_fd(&lock_fd);
  uint32_t rnd = 0;
  if (getrandom(&rnd, sizeof rnd, 0) != (ssize_t)sizeof rnd)
    rnd = (uint32_t)getpid();
  _cleanup_free_ char *run = stack_run_dir();
  b->run_dir = xasprintf("%s/tpl-%08x", run, rnd);
  b->mig_path = fs_path_join(b->run_dir, "mig.sock");
  uv_timer_init(tc->loop, &b->timer);
  b->timer.data = b;
  b->handles = 1;
  DLIST_PUSH(&tc->builds, b);

  _cleanup_free_ char *data = fs_path_join(dir, "data.img");
  _cleanup_free_ char *ctl = fs_path_join(b->run_dir, "ctl.sock");
  _cleanup_free_ char *qmp = fs_path_join(b->run_dir, "qmp.sock");
  char taps[PROTO_MAX_IFACES][16], macs[PROTO_MAX_IFACES][18];
  struct vm_net nets[PROTO_MAX_IFACES];
  for (size_t i = 0; i < spec->n_nets && i < PROTO_MAX_IFACES; i++) {
    /* throw-away taps (vm_start() makes them): they go with QEMU */
    snprintf(taps[i], sizeof taps[i], "stkt%08x%u", rnd, (unsigned)(i & 7));
    template_mac(i, macs[i]);
    nets[i] = (struct vm_net){.tap = taps[i], .mac = macs[i]};
  }
  /* the template's shares are an empty directory: the guest does not
   * mount them before it is configured, and a clone brings its own */
  _cleanup_free_ char *empty = fs_path_join(dir, "share");
  struct vm_share shares[PROTO_MAX_MOUNTS];
  for (size_t i = 0; i < spec->n_shares && i < PROTO_MAX_MOUNTS; i++)
    shares[i] = (struct vm_share){empty, spec->shares[i].tag, spec->shares[i].readonly,
                                  spec->shares[i].model};
  /* QEMU connects to the migration socket by name: it is in its jail */
  const char *jail_paths[] = {b->mig_path, NULL};
  struct vm_spec ts = *spec;
  ts.name = "stack-template";
  ts.shares = shares;
  ts.state_dir = dir;
  ts.data_disk = data;
  ts.nets = nets;
  ts.control_socket = ctl;
  ts.qmp_socket = qmp;
  ts.incoming = NULL;
  ts.restored = NULL;
  ts.jail_paths = jail_paths;
  const struct vm_host *host = spec->host;
  struct vm_host probed;
  if (!host) {
    if ((r = vm_host_probe(&probed, err)) < 0)
      goto fail;
    host = &probed;
  }
  if (host->shared_ram) {
    b->ram_tmp = fs_path_join(dir, "ram.tmp");
    _cleanup_close_ int rfd = open(b->ram_tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
    if (rfd < 0) {
      r = stack_error_errno(err, -errno, "cannot create %s", b->ram_tmp);
      goto fail;
    }
    ts.ram = VM_RAM_TEMPLATE_BUILD;
    ts.ram_file = b->ram_tmp;
  } else {
    ts.ram = VM_RAM_ANON;
    ts.ram_file = NULL;
  }
  int fd;
  b->out_fd = open(b->tmp_path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
  if (b->out_fd < 0) {
    r = stack_error_errno(err, -errno, "cannot create %s", b->tmp_path);
    goto fail;
  }
  /* a fresh data disk: clones get copies of it as the template left it */
  unlink(data);
  if ((r = fs_mkdir_p(b->run_dir, 0700, err)) < 0 || (r = fs_mkdir_p(empty, 0700, err)) < 0 ||
      (r = vm_create_data_disk(data, data_bytes, err)) < 0)
    goto fail;
  /* the migration socket listens before QEMU starts, so its jail shows it */
  if ((r = uv_pipe_init(tc->loop, &b->server, 0)) == 0) {
    b->server.data = b;
    b->server_open = true;
    b->handles++;
    unlink(b->mig_path);
    r = uv_pipe_bind(&b->server, b->mig_path);
  }
  if (r == 0)
    r = uv_listen((uv_stream_t *)&b->server, 1, on_mig_conn);
  if (r < 0) {
    r = stack_error_set(err, r, "migration socket %s: %s", b->mig_path, uv_strerror(r));
    goto fail;
  }
  if ((r = vm_start(tc->loop, &ts, on_vm_exit, b, &b->vm, err)) < 0)
    goto fail;
  if ((fd = vm_connect_control(b->vm, err)) < 0) {
    r = fd;
    goto fail;
  }
  if ((r = channel_open(tc->loop, fd, &build_ops, b, &b->ch, err)) < 0)
    goto fail;
  uv_timer_start(&b->timer, on_timeout, BUILD_TIMEOUT_MS, 0);
  *out = b;
  return 0;
fail:
  build_finish(b, NULL, NULL);
  return stack_error_prefix(err, "building a VM template");
}

/* ---- the cache ---- */

struct template_cache *template_cache_new(uv_loop_t *loop) {
  struct template_cache *tc = xcalloc(1, sizeof *tc);
  tc->loop = loop;
  return tc;
}

void template_cache_free(struct template_cache *tc) {
  if (!tc)
    return;
  struct build *b;
  while ((b = tc->builds) != NULL) {
    struct template_wait *w;
    while ((w = b->waits) != NULL) {
      DLIST_REMOVE(&b->waits, w);
      free(w);
    }
    build_finish(b, NULL, NULL);
    b->tc = NULL;
  }
  free(tc);
}

void template_wait_cancel(struct template_wait *w) {
  if (!w)
    return;
  DLIST_REMOVE(&w->b->waits, w);
  free(w);
}

int template_get(struct template_cache *tc, const struct vm_spec *spec, uint64_t data_bytes,
                 template_cb cb, void *data, char **state_path, struct template_wait **wait,
                 struct stack_error **err) {
  *state_path = NULL;
  *wait = NULL;
  _cleanup_free_ char *key = NULL;
  int r = shape_key(spec, data_bytes, &key, err);
  if (r < 0)
    return r;
  _cleanup_free_ char *cache = stack_cache_dir();
  _cleanup_free_ char *dir = xasprintf("%s/templates/%s", cache, key);
  _cleanup_free_ char *state = fs_path_join(dir, "state");
  if (access(state, R_OK) == 0) {
    /* its mtime says when it was last used (collect_garbage()) */
    utimensat(AT_FDCWD, state, NULL, 0);
    *state_path = steal_pointer(&state);
    return 1;
  }
  struct build *b = tc->builds;
  while (b && strcmp(b->key, key) != 0)
    b = b->next;
  if (b == NULL && (r = build_start(tc, spec, data_bytes, key, dir, &b, err)) < 0)
    return r;
  struct template_wait *w = xcalloc(1, sizeof *w);
  w->b = b;
  w->cb = cb;
  w->data = data;
  DLIST_PUSH(&b->waits, w);
  *wait = w;
  return 0;
}

void template_stats(size_t *count, unsigned long long *bytes) {
  *count = 0;
  *bytes = 0;
  _cleanup_free_ char *cache = stack_cache_dir();
  _cleanup_free_ char *root = fs_path_join(cache, "templates");
  DIR *d = opendir(root);
  if (d == NULL)
    return;
  struct dirent *de;
  while ((de = readdir(d)) != NULL) {
    if (de->d_name[0] == '.')
      continue;
    _cleanup_free_ char *dir = fs_path_join(root, de->d_name);
    DIR *td = opendir(dir);
    struct dirent *te;
    while (td && (te = readdir(td)) != NULL) {
      /* the state, the writable disk and the RAM file (shared RAM) */
      bool state = strcmp(te->d_name, "state") == 0;
      if (!state && strcmp(te->d_name, "data.img") != 0 && strncmp(te->d_name, "ram.", 4) != 0)
        continue;
      struct stat st;
      _cleanup_free_ char *f = fs_path_join(dir, te->d_name);
      if (stat(f, &st) == 0) {
        *bytes += (unsigned long long)st.st_blocks * 512ULL;
        if (state)
          (*count)++;
      }
    }
    if (td)
      closedir(td);
  }
  closedir(d);
}

void template_prune(char ***keys, uint64_t *freed) {
  if (keys)
    *keys = NULL;
  _cleanup_free_ char *cache = stack_cache_dir();
  _cleanup_free_ char *root = fs_path_join(cache, "templates");
  _cleanup_closedir_ DIR *d = opendir(root);
  size_t n = 0, cap = 0;
  for (struct dirent *de; d && (de = readdir(d));) {
    if (de->d_name[0] == '.')
      continue;
    _cleanup_free_ char *dir = fs_path_join(root, de->d_name);
    uint64_t size = fs_disk_usage(dir);
    if (!remove_if_unlocked(dir))
      continue;
    *freed += size;
    if (keys) {
      *keys = xgrow(*keys, &cap, n + 2, sizeof(char *));
      (*keys)[n++] = xstrdup(de->d_name);
      (*keys)[n] = NULL;
    }
  }
}
