/* A container whose writable disk's file system fills up (issue 11): the
 * disk lives on a small ext4 loop-mounted here and nearly filled from the
 * host; the guest writes more than fits.  QEMU pauses the VM
 * (werror=enospc) and the runner says so (vm_state: paused, not by
 * request, the disk, its mount point, ENOSPC); exec is refused with a
 * message naming the disk and where to free space; a resume is refused
 * while the file system is full; once the host frees space the runner
 * resumes the VM by itself and the guest's write completes.  Then a
 * user's pause and resume (by request), and an exec session and a process
 * listing in a VM that does not answer (QEMU stopped with SIGSTOP) end
 * with an error after CONTAINER_EXEC_START_TIMEOUT_MS instead of waiting
 * forever. */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <unistd.h>

#include "helper_busybox.h"
#include "runtime/image/image.h"
#include "runtime/util/cleanup.h"
#include "runtime/util/error.h"
#include "runtime/util/fs_space.h"
#include "runtime/util/fsutil.h"
#include "runtime/util/sbuf.h"
#include "runtime/util/xalloc.h"
#include "runtime/vm/container.h"
#include "runtime/vm/kernel.h"
#include "test.h"

#define TIMEOUT_MS 240000
#define FS_MIB 48
#define LEFT_MIB 6  /* free space left on the file system before the guest writes */
#define WRITE_MIB 16

static char tmpdir[] = "/tmp/stack-diskfull.XXXXXX";
static char *mnt, *filler, *disk;
static bool mounted;

enum step { BOOTING, FILLING, PAUSED_FULL, RESUMED, USER_PAUSING, USER_PAUSED, CHECK_SIZE,
            HUNG_EXEC, STOPPING };

struct state {
  uv_loop_t loop;
  uv_timer_t timer;
  struct container *c;
  enum step step;
  struct sbuf out;
  int pauses, resumes;
  uint64_t freed_at; /* uv_now() when the filler went */
  uint64_t resumed_after;
  uint64_t hung_exec_at;
  struct sbuf exec_out;
  bool top_timed_out;
  bool done;
  int exit_code;
};

static struct state *S;

static void fail_now(const char *why) {
  fprintf(stderr, "FAIL: %s\n", why);
  test_failures++;
  uv_stop(&S->loop);
}

static int qemu_pid(struct container *c) { return container_qemu_pid(c); }

static void x_output(void *d, int fd, const uint8_t *p, size_t n) {
  (void)d, (void)fd;
  sbuf_append(&S->exec_out, p, n);
}

static void start_hung_exec(void);

static void size_exited(void *d, const struct container_status *st) {
  (void)d;
  CHECK_INTEQ(st->exit_code, 0);
  CHECK_STREQ(S->exec_out.data, "16777216\n");
  start_hung_exec();
}

static void hung_exited(void *d, const struct container_status *st) {
  (void)d;
  uint64_t took = uv_now(&S->loop) - S->hung_exec_at;
  CHECK_INTEQ(st->exit_code, CONTAINER_EXIT_FAILED);
  CHECK_MSG(st->error && strstr(st->error, "did not start within") &&
                strstr(st->error, "does not answer"),
            "%s", st->error ? st->error : "(no error)");
  CHECK_MSG(took >= CONTAINER_EXEC_START_TIMEOUT_MS - 1000 &&
                took < CONTAINER_EXEC_START_TIMEOUT_MS + 10000,
            "the session ended after %llu ms", (unsigned long long)took);
  int pid = qemu_pid(S->c);
  CHECK(pid > 0 && kill(pid, SIGCONT) == 0);
  S->step = STOPPING;
  CHECK_INTEQ(container_signal(S->c, SIGTERM), 0);
}

static void top_answered(void *d, const struct proto_procs *procs, const char *error) {
  (void)d;
  CHECK(procs == NULL);
  CHECK_MSG(error && strstr(error, "did not list its processes within"), "%s",
            error ? error : "(a list)");
  S->top_timed_out = true;
}

static void start_hung_exec(void) {
  static const struct container_exec_io io = {.output = x_output, .exited = hung_exited};
  int pid = qemu_pid(S->c);
  CHECK(pid > 0);
  if (pid <= 0 || kill(pid, SIGSTOP) < 0) {
    fail_now("cannot stop QEMU");
    return;
  }
  S->step = HUNG_EXEC;
  S->hung_exec_at = uv_now(&S->loop);
  char *argv[] = {"true", NULL};
  struct container_exec_opts o = {.argv = argv};
  uint16_t session;
  _cleanup_error_ struct stack_error *err = NULL;
  CHECK_INTEQ(container_exec(S->c, &o, &io, NULL, &session, &err), 0);
  /* a process listing does not wait forever either */
  CHECK_INTEQ(container_top(S->c, top_answered, NULL, &err), 0);
}

static void on_user_resumed(void *d, int status, const char *error) {
  (void)d;
  CHECK_MSG(status == 0, "resume: %s", error ? error : "");
}

static void on_user_paused(void *d, int status, const char *error) {
  (void)d;
  CHECK_MSG(status == 0, "pause: %s", error ? error : "");
}

static void on_vm_state(void *d, const struct container_vm_state *st) {
  struct state *s = d;
  _cleanup_error_ struct stack_error *err = NULL;
  char *argv[] = {"true", NULL};
  struct container_exec_opts o = {.argv = argv};
  static const struct container_exec_io xio = {.output = x_output, .exited = size_exited};
  uint16_t session;
  if (st->paused) {
    s->pauses++;
    if (s->step == FILLING) {
      s->step = PAUSED_FULL;
      CHECK(!st->by_request);
      CHECK(st->nospace);
      CHECK_STREQ(st->disk, disk);
      CHECK_STREQ(st->fs, mnt);
      CHECK_MSG(st->reason && strstr(st->reason, "No space"), "%s", st->reason);
      CHECK(container_vm_state(s->c)->paused);
      /* nothing runs in a paused guest: refused at once, saying why */
      CHECK_INTEQ(container_exec(s->c, &o, &xio, NULL, &session, &err), -EAGAIN);
      CHECK_MSG(err && strstr(err->msg, "is paused: its disk") && strstr(err->msg, disk) &&
                    strstr(err->msg, "free space on") && strstr(err->msg, mnt),
                "%s", err ? err->msg : "");
      stack_error_free(err);
      err = NULL;
      CHECK_INTEQ(container_top(s->c, top_answered, NULL, &err), -EAGAIN);
      CHECK_MSG(err && strstr(err->msg, "is paused: its disk"), "%s", err ? err->msg : "");
      stack_error_free(err);
      err = NULL;
      /* still full: a resume would only stop again */
      CHECK_INTEQ(container_resume(s->c, false, on_user_resumed, NULL, &err), -ENOSPC);
      CHECK_MSG(err && strstr(err->msg, "still full") && strstr(err->msg, mnt), "%s",
                err ? err->msg : "");
      /* the host frees space: the runner resumes the VM by itself */
      CHECK_INTEQ(unlink(filler), 0);
      s->freed_at = uv_now(&s->loop);
    } else if (s->step == USER_PAUSING) {
      s->step = USER_PAUSED;
      CHECK(st->by_request);
      CHECK(st->disk == NULL && !st->nospace);
      CHECK_INTEQ(container_exec(s->c, &o, &xio, NULL, &session, &err), -EAGAIN);
      CHECK_MSG(err && strstr(err->msg, "is paused: unpause it first"), "%s",
                err ? err->msg : "");
      stack_error_free(err);
      err = NULL;
      CHECK_INTEQ(container_resume(s->c, false, on_user_resumed, NULL, &err), 0);
    } else if (s->step == PAUSED_FULL) {
      /* the write retried and stopped again: acceptable only if the
       * space went meanwhile (it does not here) */
      fail_now("paused again after the space was freed");
    } else {
      fail_now("an unexpected pause");
    }
    return;
  }
  s->resumes++;
  if (s->step == PAUSED_FULL) {
    s->step = RESUMED;
    CHECK(!st->by_request);
    s->resumed_after = uv_now(&s->loop) - s->freed_at;
    CHECK_MSG(s->resumed_after <= CONTAINER_SPACE_CHECK_MS + 3000,
              "resumed %llu ms after space was freed", (unsigned long long)s->resumed_after);
  } else if (s->step == USER_PAUSED) {
    CHECK(st->by_request);
    s->step = CHECK_SIZE;
    char *wc[] = {"sh", "-c", "wc -c </big", NULL};
    struct container_exec_opts w = {.argv = wc};
    CHECK_INTEQ(container_exec(s->c, &w, &xio, NULL, &session, &err), 0);
  } else {
    fail_now("an unexpected resume");
  }
}

static void on_output(void *d, int fd, const uint8_t *p, size_t n) {
  struct state *s = d;
  if (fd != 1) {
    fwrite(p, 1, n, stderr);
    return;
  }
  sbuf_append(&s->out, p, n);
  _cleanup_error_ struct stack_error *err = NULL;
  if (s->step == BOOTING && strstr(s->out.data, "writing\n")) {
    s->step = FILLING;
  } else if (s->step == RESUMED && strstr(s->out.data, "written\n")) {
    s->step = USER_PAUSING;
    CHECK_INTEQ(container_pause(s->c, on_user_paused, NULL, &err), 0);
  } else if (strstr(s->out.data, "written\n") && s->step < RESUMED) {
    fail_now("the write completed without a pause");
  }
}

static void on_exited(void *d, const struct container_status *st) {
  struct state *s = d;
  s->done = true;
  s->exit_code = st->exit_code;
  CHECK_MSG(st->error == NULL, "%s", st->error);
  uv_stop(&s->loop);
}

static void on_timeout(uv_timer_t *t) {
  struct state *s = t->data;
  fprintf(stderr, "timeout at step %d: %s\n", (int)s->step, s->out.data ? s->out.data : "");
  int pid = s->c ? qemu_pid(s->c) : -1;
  if (pid > 0)
    kill(pid, SIGCONT);
  uv_stop(&s->loop);
}

static int run(const char *cmd) {
  int r = system(cmd);
  return r == 0 ? 0 : -1;
}

/* Runs at exit, also after a failed check or a skip. */
static void cleanup(void) {
  if (mounted && umount(mnt) < 0)
    umount2(mnt, MNT_DETACH);
  mounted = false;
  fs_rm_rf(tmpdir, NULL);
  free(mnt);
  free(filler);
  free(disk);
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
  atexit(cleanup);
  _cleanup_free_ char *root = xasprintf("%s/root", tmpdir);
  _cleanup_free_ char *run_dir = xasprintf("%s/run", tmpdir);
  _cleanup_free_ char *tree = xasprintf("%s/tree", tmpdir);
  _cleanup_free_ char *img_file = xasprintf("%s/fs.img", tmpdir);
  mnt = xasprintf("%s/mnt", tmpdir);
  filler = xasprintf("%s/filler", mnt);
  disk = xasprintf("%s/data.img", mnt);
  setenv("STACK_ROOT", root, 1);
  setenv("STACK_RUN_DIR", run_dir, 1);
  CHECK_INTEQ(busybox_tree(tree), 0);

  /* the small file system: no blocks reserved for root, so that QEMU and
   * the host's filler see the same free space */
  _cleanup_free_ char *mk = xasprintf("truncate -s %dM %s && mkfs.ext4 -q -F -m 0 %s && mkdir %s",
                                      FS_MIB, img_file, img_file, mnt);
  CHECK_INTEQ(run(mk), 0);
  _cleanup_free_ char *mount_cmd = xasprintf("mount -o loop %s %s", img_file, mnt);
  if (run(mount_cmd) < 0)
    TEST_SKIP("cannot loop-mount a file system here (root and loop devices are needed)");
  mounted = true;
  struct fs_space sp;
  CHECK_INTEQ(fs_space_get(mnt, true, &sp, &err), 0);
  _cleanup_free_ char *fill =
      xasprintf("fallocate -l %llu %s", (unsigned long long)(sp.avail - (LEFT_MIB << 20)), filler);
  CHECK_INTEQ(run(fill), 0);

  struct image_handle *img = NULL;
  int r = image_import(root, tree, "diskfull:latest", NULL, &err);
  if (r == 0)
    r = image_get(root, "diskfull:latest", &(struct image_get_opts){.pull = IMAGE_PULL_NEVER},
                  &img, &err);
  CHECK_MSG(r == 0, "%s", err ? err->msg : "");
  if (img == NULL)
    TEST_DONE();

  struct state s = {.step = BOOTING, .exit_code = -1};
  S = &s;
  uv_loop_init(&s.loop);
  uv_timer_init(&s.loop, &s.timer);
  s.timer.data = &s;
  uv_timer_start(&s.timer, on_timeout, TIMEOUT_MS, 0);
  /* random bytes: QEMU turns zeroes into holes (detect-zeroes=unmap) */
  _cleanup_free_ char *script =
      xasprintf("echo writing; dd if=/dev/urandom of=/big bs=1M count=%d conv=fsync 2>/dev/null "
                "&& echo written; exec sleep 600",
                WRITE_MIB);
  char *cmd[] = {"sh", "-c", script, NULL};
  struct container_opts o = {.cmd = cmd, .remove = true, .mem_mib = 256, .data_disk = disk};
  static const struct container_io io = {
      .output = on_output, .exited = on_exited, .vm_state = on_vm_state};
  r = container_start(&s.loop, img, &o, &io, &s, &s.c, &err);
  CHECK_MSG(r == 0, "%s", err ? err->msg : "");
  if (r == 0)
    uv_run(&s.loop, UV_RUN_DEFAULT);
  CHECK(s.done);
  CHECK_INTEQ(s.step, STOPPING);
  CHECK_INTEQ(s.exit_code, 128 + SIGTERM);
  CHECK_INTEQ(s.pauses, 2);
  CHECK_INTEQ(s.resumes, 2);
  CHECK(s.top_timed_out);
  printf("resumed %llu ms after the space was freed\n", (unsigned long long)s.resumed_after);
  container_free(s.c);
  uv_close((uv_handle_t *)&s.timer, NULL);
  uv_run(&s.loop, UV_RUN_DEFAULT);
  CHECK(uv_loop_close(&s.loop) == 0);
  image_handle_free(img);
  sbuf_free(&s.out);
  sbuf_free(&s.exec_out);
  TEST_DONE();
}
