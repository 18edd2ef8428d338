/* The blob store: digest validation, verified puts, resumable writers,
 * rejection of wrong content, and that nothing unverified becomes visible. */
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "runtime/image/blobstore.h"
#include "runtime/util/cleanup.h"
#include "runtime/util/error.h"
#include "runtime/util/fsutil.h"
#include "runtime/util/xalloc.h"
#include "test.h"

#define HELLO_DIGEST "sha256:2cf24dba5fb0a30e26e83b2ac5b9e29e1b161e5c1fa7425e73043362938b9824"

static void test_check_digest(void) {
  CHECK(blobstore_check_digest(HELLO_DIGEST, NULL) == 0);
  const char *bad[] = {"", "sha256:", "sha512:2cf24dba", "sha256:../../../etc/passwd",
                       "sha256:2CF24DBA5FB0A30E26E83B2AC5B9E29E1B161E5C1FA7425E73043362938B9824",
                       HELLO_DIGEST "0", "sha256:2cf24dba5fb0a30e26e83b2ac5b9e29e1b161e5c1fa7425e73043362938b982/"};
  for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
    _cleanup_error_ struct stack_error *e = NULL;
    CHECK_MSG(blobstore_check_digest(bad[i], &e) == -EINVAL, "%s", bad[i]);
    CHECK(e != NULL && strstr(e->msg, "digest") != NULL);
  }
  CHECK(blobstore_check_digest(NULL, NULL) == -EINVAL);
}

static void test_put_read(const char *root) {
  struct blobstore *bs = NULL;
  _cleanup_error_ struct stack_error *e = NULL;
  CHECK(blobstore_open(root, &bs, &e) == 0);
  _cleanup_free_ char *d = NULL;
  CHECK(blobstore_put(bs, NULL, "hello", 5, &d, &e) == 0);
  CHECK_STREQ(d, HELLO_DIGEST);
  CHECK(blobstore_has(bs, HELLO_DIGEST));
  CHECK(blobstore_put(bs, HELLO_DIGEST, "hello", 5, NULL, &e) == 0);
  CHECK(blobstore_put(bs, HELLO_DIGEST, "hellO", 5, NULL, &e) == -EBADMSG);
  CHECK(e && strstr(e->msg, HELLO_DIGEST));
  _cleanup_free_ char *data = NULL;
  size_t len = 0;
  CHECK(blobstore_read(bs, HELLO_DIGEST, 100, &data, &len, &e) == 0);
  CHECK_INTEQ(len, 5);
  CHECK(data && memcmp(data, "hello", 5) == 0);
  /* A blob bigger than the limit is refused. */
  free(data);
  data = NULL;
  CHECK(blobstore_read(bs, HELLO_DIGEST, 3, &data, &len, NULL) == -EFBIG);
  _cleanup_strv_ char **all = NULL;
  CHECK(blobstore_list(bs, &all, &e) == 0);
  CHECK(all && all[0] && !all[1] && strcmp(all[0], HELLO_DIGEST) == 0);
  CHECK(blobstore_remove(bs, HELLO_DIGEST, &e) == 0);
  CHECK(!blobstore_has(bs, HELLO_DIGEST));
  CHECK(blobstore_remove(bs, "sha256:..", NULL) == -EINVAL);
  CHECK(blobstore_path(bs, "sha256:/etc/passwd") == NULL);
  blobstore_close(bs);
}

static void test_writer_resume(const char *root) {
  struct blobstore *bs = NULL;
  _cleanup_error_ struct stack_error *e = NULL;
  CHECK(blobstore_open(root, &bs, &e) == 0);
  size_t n = 300000;
  _cleanup_free_ char *buf = xmalloc(n);
  for (size_t i = 0; i < n; i++)
    buf[i] = (char)(i * 7 + i / 1000);
  _cleanup_free_ char *dg = blobstore_digest_of(buf, n);

  struct blob_writer *w = NULL;
  uint64_t off = 99;
  CHECK(blobstore_writer_open(bs, dg, (int64_t)n, &w, &off, &e) == 0);
  CHECK_INTEQ(off, 0);
  CHECK(blob_writer_write(w, buf, 123456, &e) == 0);
  blob_writer_abort(w, true); /* interrupted */
  CHECK(!blobstore_has(bs, dg));

  CHECK(blobstore_writer_open(bs, dg, (int64_t)n, &w, &off, &e) == 0);
  CHECK_INTEQ(off, 123456);
  CHECK(blob_writer_write(w, buf + off, n - off, &e) == 0);
  /* More than declared is refused. */
  CHECK(blob_writer_write(w, "x", 1, NULL) == -EBADMSG);
  CHECK(blob_writer_commit(w, &e) == 0);
  CHECK(blobstore_has(bs, dg));

  /* Already committed: the writer is a no-op. */
  CHECK(blobstore_writer_open(bs, dg, (int64_t)n, &w, &off, &e) == 0);
  CHECK_INTEQ(off, n);
  CHECK(blob_writer_commit(w, &e) == 0);

  /* Wrong content: error, nothing enters the store, no partial left. */
  char *other = xstrdup("sha256:0000000000000000000000000000000000000000000000000000000000000000");
  CHECK(blobstore_writer_open(bs, other, 5, &w, &off, &e) == 0);
  CHECK(blob_writer_write(w, "hello", 5, &e) == 0);
  CHECK(blob_writer_commit(w, &e) == -EBADMSG);
  CHECK(e && strstr(e->msg, other));
  CHECK(!blobstore_has(bs, other));
  _cleanup_free_ char *partial = xasprintf("%s/blobs/tmp/%s.partial", root, other + 7);
  CHECK(!fs_exists(partial));

  /* Truncated: commit refuses. */
  CHECK(blobstore_writer_open(bs, other, 10, &w, &off, &e) == 0);
  CHECK(blob_writer_write(w, "hello", 5, &e) == 0);
  CHECK(blob_writer_commit(w, &e) == -EBADMSG);
  CHECK(!blobstore_has(bs, other));

  /* A stale partial longer than the declared size is discarded. */
  CHECK(blobstore_writer_open(bs, other, -1, &w, &off, &e) == 0);
  CHECK(blob_writer_write(w, "hello world", 11, &e) == 0);
  blob_writer_abort(w, true);
  CHECK(blobstore_writer_open(bs, other, 5, &w, &off, &e) == 0);
  CHECK_INTEQ(off, 0);
  blob_writer_abort(w, false);
  CHECK(!fs_exists(partial));
  free(other);
  blobstore_close(bs);
}

int main(void) {
  char tmpl[] = "/tmp/stack-test-blobstore-XXXXXX";
  CHECK(mkdtemp(tmpl) != NULL);
  test_check_digest();
  test_put_read(tmpl);
  test_writer_resume(tmpl);
  fs_rm_rf(tmpl, NULL);
  TEST_DONE();
}
