/* runtime/vm/ksm.c against a directory laid out as /sys/kernel/mm/ksm:
 * what `stack system ksm` reads and writes. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "runtime/util/cleanup.h"
#include "runtime/util/error.h"
#include "runtime/util/fsutil.h"
#include "runtime/util/xalloc.h"
#include "runtime/vm/ksm.h"
#include "test.h"

static void put(const char *dir, const char *name, const char *text) {
  _cleanup_free_ char *p = fs_path_join(dir, name);
  CHECK(fs_write_file_atomic(p, text, strlen(text), 0644, NULL) == 0);
}

static char *get(const char *dir, const char *name) {
  _cleanup_free_ char *p = fs_path_join(dir, name);
  char *text = NULL;
  if (fs_read_file(p, 64, &text, NULL, NULL) < 0)
    return xstrdup("");
  return text;
}

int main(void) {
  char tmpl[] = "/tmp/test_ksm.XXXXXX";
  char *dir = mkdtemp(tmpl);
  CHECK(dir != NULL);

  /* no KSM in the kernel: a message that says so */
  struct ksm_status st;
  _cleanup_error_ struct stack_error *e = NULL;
  CHECK(ksm_read(dir, &st, &e) == -ENOENT);
  CHECK(e && strstr(e->msg, "CONFIG_KSM") != NULL);
  CHECK_INTEQ(st.run, -1);
  _cleanup_error_ struct stack_error *e2 = NULL;
  CHECK(ksm_on(dir, 0, 0, &e2) == -ENOENT);

  /* a kernel as Debian 12's: off, its defaults */
  put(dir, "run", "0\n");
  put(dir, "pages_to_scan", "100\n");
  put(dir, "sleep_millisecs", "200\n");
  put(dir, "pages_shared", "10\n");
  put(dir, "pages_sharing", "2500\n");
  put(dir, "pages_unshared", "7\n");
  put(dir, "full_scans", "3\n");
  put(dir, "general_profit", "9000000\n");
  put(dir, "use_zero_pages", "0\n");
  CHECK(ksm_read(dir, &st, NULL) == 0);
  CHECK_INTEQ(st.run, 0);
  CHECK_INTEQ(st.pages_to_scan, 100);
  CHECK_INTEQ(st.sleep_ms, 200);
  CHECK_INTEQ(st.pages_shared, 10);
  CHECK_INTEQ(st.pages_sharing, 2500);
  CHECK_INTEQ(st.pages_unshared, 7);
  CHECK_INTEQ(st.full_scans, 3);
  CHECK_INTEQ(st.general_profit, 9000000);
  CHECK(!st.use_zero_pages);
  CHECK(st.ksmd_cpu_s == -1); /* only read for the real sysfs */

  /* on: the defaults, zero pages merged, then run */
  CHECK(ksm_on(dir, 0, 0, NULL) == 0);
  _cleanup_free_ char *run = get(dir, "run"), *pages = get(dir, "pages_to_scan"),
                      *sleep_ms = get(dir, "sleep_millisecs"), *zero = get(dir, "use_zero_pages");
  CHECK_STREQ(run, "1\n");
  CHECK_INTEQ(atoi(pages), KSM_DEFAULT_PAGES);
  CHECK_INTEQ(atoi(sleep_ms), KSM_DEFAULT_SLEEP_MS);
  CHECK_STREQ(zero, "1\n");
  CHECK(ksm_on(dir, 2000, 50, NULL) == 0);
  _cleanup_free_ char *pages2 = get(dir, "pages_to_scan"), *sleep2 = get(dir, "sleep_millisecs");
  CHECK_STREQ(pages2, "2000\n");
  CHECK_STREQ(sleep2, "50\n");

  /* off keeps merged pages; off --unmerge writes 2 */
  CHECK(ksm_off(dir, false, NULL) == 0);
  _cleanup_free_ char *off = get(dir, "run");
  CHECK_STREQ(off, "0\n");
  CHECK(ksm_off(dir, true, NULL) == 0);
  _cleanup_free_ char *unmerge = get(dir, "run");
  CHECK_STREQ(unmerge, "2\n");

  /* a kernel before 4.14 / 6.1: no use_zero_pages, no general_profit */
  _cleanup_free_ char *zp = fs_path_join(dir, "use_zero_pages");
  _cleanup_free_ char *gp = fs_path_join(dir, "general_profit");
  unlink(zp);
  unlink(gp);
  CHECK(ksm_on(dir, 0, 0, NULL) == 0);
  CHECK(access(zp, F_OK) != 0);
  CHECK(ksm_read(dir, &st, NULL) == 0);
  CHECK_INTEQ(st.general_profit, -1);
  CHECK_INTEQ(st.run, 1);

  /* garbage in a counter is not a number: left at 0 */
  put(dir, "pages_sharing", "many\n");
  CHECK(ksm_read(dir, &st, NULL) == 0);
  CHECK_INTEQ(st.pages_sharing, 0);
  put(dir, "run", "x\n");
  _cleanup_error_ struct stack_error *e3 = NULL;
  CHECK(ksm_read(dir, &st, &e3) == -EINVAL);

  /* a read-only setting (not root): the error names the file */
  if (geteuid() != 0) {
    _cleanup_free_ char *p = fs_path_join(dir, "run");
    chmod(p, 0444);
    _cleanup_error_ struct stack_error *e4 = NULL;
    CHECK(ksm_off(dir, false, &e4) < 0);
  }

  static const char *const files[] = {"run", "pages_to_scan", "sleep_millisecs", "pages_shared",
                                      "pages_sharing", "pages_unshared", "full_scans",
                                      "use_zero_pages", "general_profit"};
  for (size_t i = 0; i < sizeof files / sizeof files[0]; i++) {
    _cleanup_free_ char *p = fs_path_join(dir, files[i]);
    unlink(p);
  }
  rmdir(dir);
  TEST_DONE();
}
