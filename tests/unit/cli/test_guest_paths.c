#include <stdlib.h>
#include <string.h>

#include "orchestrator/cli/cli_guest_paths.h"
#include "runtime/util/cleanup.h"
#include "test.h"

static void split(const char *in, const char *dir, const char *base, bool contents,
                  bool want_dir) {
  struct cp_path p;
  cp_path_split(in, &p);
  CHECK_STREQ(p.dir, dir);
  CHECK_STREQ(p.base, base);
  CHECK(p.contents == contents);
  CHECK(p.want_dir == want_dir);
  cp_path_clear(&p);
}

static void rename_is(const char *path, const char *top, const char *dest, const char *want) {
  _cleanup_free_ char *got = cp_entry_rename(path, top, dest);
  if (want == NULL)
    CHECK(got == NULL);
  else
    CHECK_STREQ(got, want);
}

int main(void) {
  split("/data/a.txt", "/data", "a.txt", false, false);
  split("/data/", "/", "data", false, true);
  split("/data/.", "/", "data", true, true);
  split("/.", "/", ".", true, false);
  split("/", "/", ".", false, false);
  split("rel", ".", "rel", false, false);
  split("out/d//", "out", "d", false, true);

  /* a directory copied under a new name; its entries follow */
  rename_is("data", "data", "d1", "d1");
  rename_is("data/sub/b.txt", "data", "d1", "d1/sub/b.txt");
  rename_is("./data/x", "data", "d1", "d1/x");
  /* anything outside the top entry is refused */
  rename_is("other.txt", "data", "d1", NULL);
  rename_is("database/x", "data", "d1", NULL);
  rename_is("", "data", "d1", NULL);
  /* .. stays for libarchive's secure extraction to refuse */
  rename_is("data/../../x", "data", "d1", "d1/../../x");
  /* a directory's contents */
  rename_is(".", ".", ".", ".");
  rename_is("./sub/b.txt", ".", ".", "sub/b.txt");
  rename_is("./sub", ".", "into", "into/sub");

  _cleanup_strv_ char **m = guest_mount_points(
      "overlay / overlay rw 0 0\nproc /proc proc rw 0 0\n"
      "vol /with\\040space 9p rw 0 0\nbad\n\nx /nul\\000byte t 0 0\ny relative t 0 0\nz /last t");
  CHECK(m != NULL);
  CHECK_STREQ(m[0], "/proc");
  CHECK_STREQ(m[1], "/with space");
  CHECK_STREQ(m[2], "/last");
  CHECK(m[3] == NULL);
  CHECK(guest_mount_points("") == NULL);
  TEST_DONE();
}
