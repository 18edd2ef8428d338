/* log_hold.h: a log file on a full file system (/dev/full answers every
 * write with ENOSPC) keeps its lines in memory up to LOG_HOLD_MAX, counts
 * the rest, and writes them with a "lost" line once writing works again;
 * a write cut short (RLIMIT_FSIZE) leaves no partial line. */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <unistd.h>

#include "orchestrator/supervisor/log_hold.h"
#include "runtime/util/cleanup.h"
#include "runtime/util/fsutil.h"
#include "runtime/util/xalloc.h"
#include "test.h"

static char *lost_line(void *ctx, uint64_t lost, int error) {
  return xasprintf("%s: %llu lost (%s)\n", (const char *)ctx, (unsigned long long)lost,
                   strerror(error));
}

static char *read_all(const char *path) {
  char *text = NULL;
  if (fs_read_file(path, 0, &text, NULL, NULL) < 0)
    return xstrdup("");
  return text;
}

static void test_full_then_room(const char *dir) {
  struct log_hold h = {0};
  uint64_t size = 0;
  _cleanup_close_ int full = open("/dev/full", O_WRONLY | O_CLOEXEC);
  CHECK(full >= 0);
  CHECK_INTEQ(log_hold_write(&h, full, &size, "one\n", 4, lost_line, "x"), LOG_HOLD_FAILED);
  CHECK_INTEQ(h.error, ENOSPC);
  CHECK(log_hold_pending(&h));
  CHECK_INTEQ(log_hold_write(&h, full, &size, "two\n", 4, lost_line, "x"), LOG_HOLD_FAILING);
  /* a retry with nothing new is still failing */
  CHECK_INTEQ(log_hold_write(&h, full, &size, "", 0, lost_line, "x"), LOG_HOLD_FAILING);
  CHECK_INTEQ(h.held.len, 8);
  CHECK_INTEQ(size, 0);
  /* past LOG_HOLD_MAX lines are counted, not kept */
  char line[1024];
  memset(line, 'a', sizeof line - 1);
  line[sizeof line - 1] = '\n';
  int n = 0;
  while (h.lost < 3) {
    log_hold_write(&h, full, &size, line, sizeof line, lost_line, "x");
    n++;
  }
  CHECK(h.held.len <= LOG_HOLD_MAX);
  CHECK_INTEQ(n, (int)((LOG_HOLD_MAX - 8) / sizeof line) + 3);
  /* a file that cannot be opened holds too */
  CHECK_INTEQ(log_hold_write(&h, -ENOSPC, &size, line, sizeof line, lost_line, "x"),
              LOG_HOLD_FAILING);
  CHECK_INTEQ(h.lost, 4);

  /* room again: held lines, the lost line, then the new one */
  _cleanup_free_ char *path = xasprintf("%s/log", dir);
  _cleanup_close_ int fd = open(path, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0600);
  size_t held = h.held.len;
  CHECK_INTEQ(log_hold_write(&h, fd, &size, "new\n", 4, lost_line, "x"), LOG_HOLD_RECOVERED);
  CHECK(!log_hold_pending(&h));
  CHECK_INTEQ(h.held.len, 0);
  CHECK_INTEQ(h.lost, 0);
  _cleanup_free_ char *text = read_all(path);
  const char *marker = "x: 4 lost (No space left on device)\n";
  CHECK_INTEQ(size, held + strlen(marker) + 4);
  CHECK_INTEQ(strlen(text), size);
  CHECK(strncmp(text, "one\ntwo\naaa", 11) == 0);
  CHECK(strncmp(text + held, marker, strlen(marker)) == 0);
  CHECK_STREQ(text + held + strlen(marker), "new\n");
  CHECK_INTEQ(log_hold_write(&h, fd, &size, "more\n", 5, lost_line, "x"), LOG_HOLD_OK);
  log_hold_clear(&h);
}

/* A file size limit cuts a write short: the file is cut back to its last
 * whole line, and the line waits. */
static void test_partial(const char *dir) {
  signal(SIGXFSZ, SIG_IGN);
  struct rlimit old;
  getrlimit(RLIMIT_FSIZE, &old);
  _cleanup_free_ char *path = xasprintf("%s/partial", dir);
  _cleanup_close_ int fd = open(path, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0600);
  struct log_hold h = {0};
  uint64_t size = 0;
  CHECK_INTEQ(log_hold_write(&h, fd, &size, "first\n", 6, lost_line, "x"), LOG_HOLD_OK);
  struct rlimit lim = {10, old.rlim_max};
  CHECK(setrlimit(RLIMIT_FSIZE, &lim) == 0);
  CHECK_INTEQ(log_hold_write(&h, fd, &size, "second\n", 7, lost_line, "x"), LOG_HOLD_FAILED);
  CHECK_INTEQ(h.error, EFBIG);
  CHECK_INTEQ(size, 6);
  struct stat st;
  CHECK(fstat(fd, &st) == 0 && st.st_size == 6);
  CHECK(setrlimit(RLIMIT_FSIZE, &old) == 0);
  CHECK_INTEQ(log_hold_write(&h, fd, &size, "", 0, lost_line, "x"), LOG_HOLD_RECOVERED);
  _cleanup_free_ char *text = read_all(path);
  CHECK_STREQ(text, "first\nsecond\n");
  log_hold_clear(&h);
}

int main(void) {
  char dir[] = "/tmp/stack-loghold.XXXXXX";
  if (mkdtemp(dir) == NULL)
    return 1;
  test_full_then_room(dir);
  test_partial(dir);
  fs_rm_rf(dir, NULL);
  TEST_DONE();
}
