/* state_path.h: names that would leave the base are refused lexically,
 * and what is opened or created beneath a base follows no symlink there
 * (openat2 RESOLVE_BENEATH | RESOLVE_NO_SYMLINKS), while the base itself
 * may be a symlink. */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "runtime/util/cleanup.h"
#include "runtime/util/error.h"
#include "runtime/util/fsutil.h"
#include "runtime/util/state_path.h"
#include "runtime/util/xalloc.h"
#include "test.h"

static char tmp[] = "/tmp/stack-test-state-path-XXXXXX";

#define PARTS(...) ((const char *const[]){__VA_ARGS__, NULL})

static int check(const char *name) {
  _cleanup_error_ struct stack_error *e = NULL;
  int r = state_component_check("container name", name, &e);
  CHECK((r == 0) == (e == NULL));
  if (e)
    CHECK_MSG(strstr(e->msg, "container name") != NULL, "%s", e->msg);
  return r;
}

static void test_components(void) {
  CHECK_INTEQ(check("web-1"), 0);
  CHECK_INTEQ(check("a..b"), 0); /* dots inside a name are a name */
  CHECK_INTEQ(check("...") , 0);
  CHECK_INTEQ(check(".hidden"), 0);
  CHECK_INTEQ(check(""), -EINVAL);
  CHECK_INTEQ(check("."), -EINVAL);
  CHECK_INTEQ(check(".."), -EINVAL);
  CHECK_INTEQ(check("/"), -EINVAL);
  CHECK_INTEQ(check("a/b"), -EINVAL);
  CHECK_INTEQ(check("../../../../tmp/x/victim"), -EINVAL);
  CHECK_INTEQ(check("victim/"), -EINVAL);
  /* NUL-free long names: NAME_MAX bytes fit, one more does not */
  char longest[NAME_MAX + 2];
  memset(longest, 'a', NAME_MAX);
  longest[NAME_MAX] = '\0';
  CHECK_INTEQ(check(longest), 0);
  longest[NAME_MAX] = 'a';
  longest[NAME_MAX + 1] = '\0';
  _cleanup_error_ struct stack_error *e = NULL;
  CHECK_INTEQ(state_component_check("volume name", longest, &e), -ENAMETOOLONG);
  /* the message shows the start of it, not all of it */
  CHECK(e && strlen(e->msg) < 300);
}

static void test_join(void) {
  _cleanup_free_ char *p = NULL;
  _cleanup_error_ struct stack_error *e = NULL;
  CHECK_INTEQ(state_path_join("/var/lib/stack/", PARTS("projects", "web", "state.json"), &p, &e),
              0);
  CHECK_STREQ(p, "/var/lib/stack/projects/web/state.json");
  free(p);
  p = NULL;
  CHECK_INTEQ(state_path_join("/", PARTS("x"), &p, &e), 0);
  CHECK_STREQ(p, "/x");
  free(p);
  p = NULL;
  /* every part is checked, wherever it is */
  CHECK_INTEQ(state_path_join("/r", PARTS("layers", "../../../../tmp/x/victim.img"), &p, &e),
              -EINVAL);
  CHECK(p == NULL);
  CHECK(e && strstr(e->msg, "under /r") && strstr(e->msg, "victim.img"));
  stack_error_free(e);
  e = NULL;
  CHECK_INTEQ(state_path_join("/r", PARTS("..", "x"), &p, &e), -EINVAL);
  stack_error_free(e);
  e = NULL;
  CHECK_INTEQ(state_path_join("/r", PARTS("logs", ""), &p, &e), -EINVAL);
  stack_error_free(e);
  e = NULL;
  CHECK_INTEQ(state_path_join("/r", (const char *const[]){NULL}, &p, &e), -EINVAL);
  stack_error_free(e);
  e = NULL;
  CHECK_INTEQ(state_path_join("", PARTS("x"), &p, &e), -EINVAL);
  CHECK(p == NULL);
}

static bool is_dir(const char *p) {
  struct stat st;
  return lstat(p, &st) == 0 && S_ISDIR(st.st_mode);
}

static void test_open_and_mkdir(void) {
  _cleanup_free_ char *base = xasprintf("%s/root", tmp);
  _cleanup_free_ char *outside = xasprintf("%s/outside", tmp);
  _cleanup_error_ struct stack_error *e = NULL;
  CHECK_INTEQ(fs_mkdir_p(outside, 0700, NULL), 0);
  _cleanup_free_ char *victim = xasprintf("%s/victim.log", outside);
  CHECK_INTEQ(fs_write_file_atomic(victim, "keep", 4, 0600, NULL), 0);

  /* mkdir -p beneath a base that does not exist yet */
  CHECK_INTEQ(state_mkdir(base, PARTS("projects", "p", "logs"), 0700, &e), 0);
  _cleanup_free_ char *logs = xasprintf("%s/projects/p/logs", base);
  CHECK(is_dir(logs));
  CHECK_INTEQ(state_mkdir(base, PARTS("projects", "p", "logs"), 0700, &e), 0); /* again */

  /* create, append, read */
  int fd = state_open(base, PARTS("projects", "p", "logs", "web.log"),
                      O_WRONLY | O_CREAT | O_APPEND, 0600, &e);
  CHECK(fd >= 0);
  CHECK_INTEQ(write(fd, "x\n", 2), 2);
  CHECK(fcntl(fd, F_GETFD) & FD_CLOEXEC);
  close(fd);
  fd = state_open(base, PARTS("projects", "p", "logs", "web.log"), O_RDONLY, 0, &e);
  CHECK(fd >= 0);
  close(fd);
  fd = state_open(base, PARTS("projects", "p", "logs", "none.log"), O_RDONLY, 0, &e);
  CHECK_INTEQ(fd, -ENOENT);
  stack_error_free(e);
  e = NULL;

  /* a symlink planted beneath the base, as the last part or on the way,
   * is refused: the file it points to is not touched */
  _cleanup_free_ char *link = xasprintf("%s/victim.log", logs);
  CHECK_INTEQ(symlink(victim, link), 0);
  fd = state_open(base, PARTS("projects", "p", "logs", "victim.log"),
                  O_WRONLY | O_CREAT | O_APPEND, 0600, &e);
  CHECK_INTEQ(fd, -ELOOP);
  CHECK(e && strstr(e->msg, "symlink"));
  stack_error_free(e);
  e = NULL;
  fd = state_open(base, PARTS("projects", "p", "logs", "victim.log"), O_PATH, 0, &e);
  CHECK_INTEQ(fd, -ELOOP);
  stack_error_free(e);
  e = NULL;
  _cleanup_free_ char *dirlink = xasprintf("%s/projects/q", base);
  CHECK_INTEQ(symlink(outside, dirlink), 0);
  fd = state_open(base, PARTS("projects", "q", "victim.log"), O_WRONLY | O_TRUNC, 0, &e);
  CHECK_INTEQ(fd, -ELOOP);
  stack_error_free(e);
  e = NULL;
  CHECK(state_mkdir(base, PARTS("projects", "q", "logs"), 0700, &e) < 0);
  CHECK(e && strstr(e->msg, "symlink"));
  stack_error_free(e);
  e = NULL;
  _cleanup_free_ char *escaped = xasprintf("%s/logs", outside);
  CHECK(!fs_exists(escaped));
  _cleanup_free_ char *text = NULL;
  CHECK_INTEQ(fs_read_file(victim, 100, &text, NULL, NULL), 0);
  CHECK_STREQ(text, "keep");

  /* a regular file where a directory is wanted */
  _cleanup_free_ char *file = xasprintf("%s/projects/f", base);
  CHECK_INTEQ(fs_write_file_atomic(file, "", 0, 0600, NULL), 0);
  CHECK(state_mkdir(base, PARTS("projects", "f", "logs"), 0700, &e) < 0);
  stack_error_free(e);
  e = NULL;

  /* names are checked before anything is opened */
  CHECK_INTEQ(state_open(base, PARTS("projects", "..", "outside", "victim.log"), O_RDONLY, 0, &e),
              -EINVAL);
  stack_error_free(e);
  e = NULL;
  CHECK_INTEQ(state_mkdir(base, PARTS("..", "made"), 0700, &e), -EINVAL);
  stack_error_free(e);
  e = NULL;
  _cleanup_free_ char *made = xasprintf("%s/made", tmp);
  CHECK(!fs_exists(made));

  /* the base may itself be a symlink (STACK_ROOT=/a/link): it is resolved */
  _cleanup_free_ char *base_link = xasprintf("%s/root-link", tmp);
  CHECK_INTEQ(symlink(base, base_link), 0);
  fd = state_open(base_link, PARTS("projects", "p", "logs", "web.log"), O_RDONLY, 0, &e);
  CHECK(fd >= 0);
  if (fd >= 0)
    close(fd);
  CHECK_INTEQ(state_mkdir(base_link, PARTS("projects", "r"), 0700, &e), 0);
  _cleanup_free_ char *r = xasprintf("%s/projects/r", base);
  CHECK(is_dir(r));
}

int main(void) {
  if (mkdtemp(tmp) == NULL)
    return 1;
  test_components();
  test_join();
  test_open_and_mkdir();
  fs_rm_rf(tmp, NULL);
  TEST_DONE();
}
