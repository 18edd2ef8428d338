/* Layer application on the in-memory tree: ordinary semantics (whiteouts,
 * opaque dirs, links, replacement) and hostile layers, which must fail with
 * an error naming the entry or stay inside the image root. */
#include <errno.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/mman.h>
#include <sys/sysmacros.h>
#include <unistd.h>

#include "runtime/image/blobstore.h"
#include "runtime/image/layer_tree.h"
#include "runtime/util/cleanup.h"
#include "runtime/util/error.h"
#include "tar_build.h"
#include "test.h"

#define E(...) (&(struct tb_entry){__VA_ARGS__})

static int apply(struct layer_tree *t, struct tar_build *b, struct stack_error **err) {
  tb_close(b);
  int r = layer_tree_apply_memory(t, b->buf, b->used, "test", err);
  tb_free(b);
  return r;
}

static void test_semantics(void) {
  struct layer_tree *t = NULL;
  _cleanup_error_ struct stack_error *e = NULL;
  CHECK(layer_tree_new(&t, &e) == 0);
  struct tar_build b;
  tb_open(&b, TB_GZIP);
  tb_add(&b, E(.path = "etc/", .type = AE_IFDIR));
  tb_add(&b, E(.path = "etc/passwd", .type = AE_IFREG, .data = "root:x:0:0\n"));
  tb_add(&b, E(.path = "etc/gone", .type = AE_IFREG, .data = "x"));
  tb_add(&b, E(.path = "opq/a", .type = AE_IFREG, .data = "a"));
  tb_add(&b, E(.path = "opq/sub/b", .type = AE_IFREG, .data = "b"));
  tb_add(&b, E(.path = "bin/sh", .type = AE_IFREG, .perm = 04755, .uid = 1000, .gid = 7,
               .data = "#!"));
  tb_add(&b, E(.path = "bin/ash", .hardlink = "bin/sh"));
  tb_add(&b, E(.path = "usr/bin", .type = AE_IFLNK, .symlink = "/bin"));
  tb_add(&b, E(.path = "dev/null", .type = AE_IFCHR, .perm = 0666, .dev_major = 1, .dev_minor = 3));
  tb_add(&b, E(.path = "fifo", .type = AE_IFIFO));
  tb_add(&b, E(.path = "x", .type = AE_IFREG, .data = "x", .xattr_name = "user.k",
               .xattr_value = "v"));
  CHECK(apply(t, &b, &e) == 0);
  if (e)
    fprintf(stderr, "%s\n", e->msg);

  tb_open(&b, TB_ZSTD);
  tb_add(&b, E(.path = "etc/.wh.gone", .type = AE_IFREG, .data = ""));
  tb_add(&b, E(.path = "opq/c", .type = AE_IFREG, .data = "c"));
  tb_add(&b, E(.path = "opq/.wh..wh..opq", .type = AE_IFREG, .data = ""));
  tb_add(&b, E(.path = "usr/bin/new", .type = AE_IFREG, .data = "through the symlink"));
  tb_add(&b, E(.path = "bin/sh", .type = AE_IFREG, .data = "replaced"));
  tb_add(&b, E(.path = "x", .type = AE_IFDIR, .perm = 0700));
  CHECK(apply(t, &b, &e) == 0);

  CHECK(layer_tree_lookup(t, "etc/passwd") != NULL);
  CHECK(layer_tree_lookup(t, "etc/gone") == NULL);
  CHECK(layer_tree_lookup(t, "etc/.wh.gone") == NULL);
  CHECK(layer_tree_lookup(t, "opq/a") == NULL);
  CHECK(layer_tree_lookup(t, "opq/sub") == NULL);
  CHECK(layer_tree_lookup(t, "opq/c") != NULL);
  CHECK(layer_tree_lookup(t, "opq/.wh..wh..opq") == NULL);
  struct lt_dentry *d = layer_tree_lookup(t, "bin/new");
  CHECK(d && S_ISREG(d->inode->mode) && d->inode->size == strlen("through the symlink"));
  struct lt_dentry *sh = layer_tree_lookup(t, "bin/sh"), *ash = layer_tree_lookup(t, "bin/ash");
  CHECK(sh && ash && sh->inode != ash->inode); /* replacing a name breaks the link */
  CHECK(ash && ash->inode->mode == (S_IFREG | 04755) && ash->inode->uid == 1000 &&
        ash->inode->gid == 7 && ash->inode->refs == 1);
  d = layer_tree_lookup(t, "dev/null");
  CHECK(d && S_ISCHR(d->inode->mode) && major(d->inode->rdev) == 1 && minor(d->inode->rdev) == 3);
  d = layer_tree_lookup(t, "fifo");
  CHECK(d && S_ISFIFO(d->inode->mode));
  d = layer_tree_lookup(t, "x");
  CHECK(d && d->inode->mode == (S_IFDIR | 0700) && d->inode->nxattrs == 0);
  d = layer_tree_lookup(t, "usr/bin");
  CHECK(d && S_ISLNK(d->inode->mode) && strcmp(d->inode->symlink, "/bin") == 0);
  layer_tree_free(t);
}

/* Applies one hostile layer to a tree with an /etc/passwd and a symlink to
 * /etc; expects failure naming `entry` (NULL: expect success). */
static void hostile(void (*fill)(struct tar_build *), const char *entry, int code) {
  struct layer_tree *t = NULL;
  _cleanup_error_ struct stack_error *e = NULL;
  CHECK(layer_tree_new(&t, &e) == 0);
  struct tar_build b;
  tb_open(&b, TB_PLAIN);
  tb_add(&b, E(.path = "etc/passwd", .type = AE_IFREG, .data = "root"));
  CHECK(apply(t, &b, &e) == 0);
  tb_open(&b, TB_PLAIN);
  fill(&b);
  int r = apply(t, &b, &e);
  if (entry) {
    CHECK_MSG(r == code, "%s: got %d", entry, r);
    CHECK_MSG(e && strstr(e->msg, entry), "error should name %s: %s", entry, e ? e->msg : "none");
  } else {
    CHECK_MSG(r == 0, "%s", e ? e->msg : "");
  }
  layer_tree_free(t);
}

static void f_dotdot(struct tar_build *b) {
  tb_add(b, E(.path = "a/../../../../tmp/evil", .type = AE_IFREG, .data = "x"));
}
static void f_absolute(struct tar_build *b) {
  tb_add(b, E(.path = "/tmp/evil-abs", .type = AE_IFREG, .data = "x"));
}
static void f_hardlink_out(struct tar_build *b) {
  tb_add(b, E(.path = "shadow", .hardlink = "../../etc/shadow"));
}
static void f_hardlink_abs(struct tar_build *b) {
  tb_add(b, E(.path = "shadow2", .hardlink = "/etc/shadow"));
}
static void f_hardlink_missing(struct tar_build *b) {
  tb_add(b, E(.path = "ghost", .hardlink = "no/such/file"));
}
static void f_symlink_loop(struct tar_build *b) {
  tb_add(b, E(.path = "l1", .type = AE_IFLNK, .symlink = "l2"));
  tb_add(b, E(.path = "l2", .type = AE_IFLNK, .symlink = "l1"));
  tb_add(b, E(.path = "l1/file", .type = AE_IFREG, .data = "x"));
}
static void f_through_file(struct tar_build *b) {
  tb_add(b, E(.path = "etc/passwd/x", .type = AE_IFREG, .data = "x"));
}
static void f_bad_whiteout(struct tar_build *b) {
  tb_add(b, E(.path = "etc/.wh..", .type = AE_IFREG, .data = ""));
}
/* Each symlink hop adds a level: a chain that would nest the tree deeper
 * than LT_MAX_DEPTH is refused rather than overflowing the stack later. */
static void f_deep(struct tar_build *b) {
  static char path[8192];
  size_t o = 0;
  for (int i = 0; i < 1000 && o + 3 < sizeof(path); i++) {
    memcpy(path + o, "a/", 2);
    o += 2;
  }
  memcpy(path + o, "l", 2);
  tb_add(b, E(.path = path, .type = AE_IFLNK, .symlink = path));
  memcpy(path + o, "l/x", 4);
  tb_add(b, E(.path = path, .type = AE_IFREG, .data = "x"));
}
static void f_big_owner(struct tar_build *b) {
  tb_add(b, E(.path = "owner", .type = AE_IFREG, .uid = 1LL << 40, .data = "x"));
}

/* A symlink to the host's /etc (absolute and by ..), then writes through it:
 * the writes land in the image's /etc. */
static void f_symlink_escape(struct tar_build *b) {
  tb_add(b, E(.path = "evil", .type = AE_IFLNK, .symlink = "/etc"));
  tb_add(b, E(.path = "evil/passwd", .type = AE_IFREG, .data = "pwned"));
  tb_add(b, E(.path = "up", .type = AE_IFLNK, .symlink = "../../../../../etc"));
  tb_add(b, E(.path = "up/hosts", .type = AE_IFREG, .data = "h"));
}
static void test_symlink_stays_inside(void) {
  struct layer_tree *t = NULL;
  _cleanup_error_ struct stack_error *e = NULL;
  CHECK(layer_tree_new(&t, &e) == 0);
  struct tar_build b;
  tb_open(&b, TB_PLAIN);
  f_symlink_escape(&b);
  CHECK(apply(t, &b, &e) == 0);
  struct lt_dentry *d = layer_tree_lookup(t, "etc/passwd");
  CHECK(d && d->inode->size == 5);
  CHECK(layer_tree_lookup(t, "etc/hosts") != NULL);
  layer_tree_free(t);
}

/* A header that declares fewer bytes than its data, and one that declares
 * more than the archive holds. */
static void test_lying_sizes(void) {
  for (int variant = 0; variant < 2; variant++) {
    struct layer_tree *t = NULL;
    _cleanup_error_ struct stack_error *e = NULL;
    CHECK(layer_tree_new(&t, &e) == 0);
    struct tar_build b;
    tb_open_format(&b, TB_PLAIN, 1);
    char big[3000];
    memset(big, 'A', sizeof(big) - 1);
    big[sizeof(big) - 1] = '\0';
    tb_add(&b, E(.path = "big", .type = AE_IFREG, .data = big));
    tb_close(&b);
    size_t len = b.used;
    if (variant == 0) {
      tb_patch_size(&b, 0, 10);
    } else {
      tb_patch_size(&b, 0, 1 << 20);
      len = 512 + 1024; /* truncated */
    }
    int r = layer_tree_apply_memory(t, b.buf, len, "liar", &e);
    CHECK_MSG(r < 0, "variant %d accepted", variant);
    CHECK_MSG(e && strstr(e->msg, "\"big\""), "variant %d: %s", variant, e ? e->msg : "none");
    tb_free(&b);
    layer_tree_free(t);
  }
}

static void test_garbage(void) {
  struct layer_tree *t = NULL;
  _cleanup_error_ struct stack_error *e = NULL;
  CHECK(layer_tree_new(&t, &e) == 0);
  const char junk[] = "this is not a tar archive at all, not even close........";
  CHECK(layer_tree_apply_memory(t, junk, sizeof(junk), "junk", &e) < 0);
  CHECK(e && strstr(e->msg, "junk"));
  CHECK(layer_tree_apply_memory(t, "", 0, "empty", NULL) == 0);
  layer_tree_free(t);
}

/* Through a file descriptor (the threaded decompression path): gzip and
 * zstd apply, a corrupt or truncated stream is an error, not a hang. */
static void test_fd_path(void) {
  /* Plain first: its digest is what the others' diff_id must be. */
  enum tb_filter filters[] = {TB_PLAIN, TB_GZIP, TB_ZSTD};
  char *plain_digest = NULL;
  for (int i = 0; i < 3; i++) {
    struct tar_build b;
    tb_open(&b, filters[i]);
    for (int k = 0; k < 200; k++) {
      char p[32];
      snprintf(p, sizeof(p), "d/f%d", k);
      tb_add(&b, E(.path = p, .type = AE_IFREG, .data = "some content that compresses"));
    }
    tb_close(&b);
    for (int cut = 0; cut < 3; cut++) {
      int fd = memfd_create("layer", MFD_CLOEXEC);
      size_t len = b.used;
      if (cut == 1)
        len = b.used / 2;
      CHECK(write(fd, b.buf, len) == (ssize_t)len);
      if (cut == 2 && filters[i] != TB_PLAIN)
        CHECK(pwrite(fd, "garbagegarbage", 14, 20) == 14);
      CHECK(lseek(fd, 0, SEEK_SET) == 0);
      struct layer_tree *t = NULL;
      _cleanup_error_ struct stack_error *e = NULL;
      CHECK(layer_tree_new(&t, &e) == 0);
      _cleanup_free_ char *diff_id = NULL;
      int r = layer_tree_apply_fd(t, fd, "fdlayer", &diff_id, &e);
      if (cut == 0) {
        CHECK_MSG(r == 0, "filter %d: %s", i, e ? e->msg : "");
        if (filters[i] == TB_PLAIN) {
          CHECK(diff_id == NULL);
          plain_digest = blobstore_digest_of(b.buf, b.used);
        } else {
          CHECK_STREQ(diff_id, plain_digest);
        }
        CHECK(layer_tree_lookup(t, "d/f199") != NULL);
      } else if (cut == 1 || filters[i] != TB_PLAIN) {
        CHECK_MSG(r < 0, "filter %d cut %d accepted", i, cut);
        CHECK(e && strstr(e->msg, "fdlayer"));
      }
      layer_tree_free(t);
      close(fd);
    }
    tb_free(&b);
  }
  free(plain_digest);
}

int main(void) {
  test_fd_path();
  test_semantics();
  hostile(f_dotdot, "a/../../../../tmp/evil", -EPERM);
  hostile(f_absolute, "/tmp/evil-abs", -EPERM);
  hostile(f_hardlink_out, "shadow", -EPERM);
  hostile(f_hardlink_abs, "shadow2", -EPERM);
  hostile(f_hardlink_missing, "ghost", -ENOENT);
  hostile(f_symlink_loop, "l1/file", -ELOOP);
  hostile(f_through_file, "etc/passwd/x", -ENOTDIR);
  hostile(f_bad_whiteout, "etc/.wh..", -EINVAL);
  hostile(f_big_owner, "owner", -EINVAL);
  hostile(f_deep, "l/x", -ELOOP);
  hostile(f_symlink_escape, NULL, 0);
  test_symlink_stays_inside();
  test_lying_sizes();
  test_garbage();
  TEST_DONE();
}
