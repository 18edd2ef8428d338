/* The content-addressed blob store.  Layout under the data root:
 *
 *   blobs/sha256/<hex>        committed, verified blobs (read-only, 0444)
 *   blobs/tmp/<hex>.partial   the in-progress download of one digest; an
 *                             exclusive flock on it serialises writers of the
 *                             same digest across processes, and it survives an
 *                             interruption so the next attempt can resume
 *   blobs/tmp/put.XXXXXX      anonymous temp files of blobstore_put()
 *
 * A blob only ever appears under sha256/ through rename() after its hash was
 * checked, so readers never see partial or unverified content, whatever
 * happens to the writer (disk full, SIGKILL, power loss after fdatasync). */
#include "blobstore.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <openssl/evp.h>
#include <stdio.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include "runtime/util/cleanup.h"
#include "runtime/util/error.h"
#include "runtime/util/fdio.h"
#include "runtime/util/fsutil.h"
#include "runtime/util/state_path.h"
#include "runtime/util/xalloc.h"

#define DIGEST_PREFIX "sha256:"
#define DIGEST_PREFIX_LEN 7
#define HEX_LEN 64

struct blobstore {
  char *blob_dir; /* <root>/blobs/sha256 */
  char *tmp_dir;  /* <root>/blobs/tmp */
  int lock_fd;    /* <root>/blobs/lock: shared while open, exclusive for GC */
};

struct blob_writer {
  struct blobstore *bs;
  EVP_MD_CTX *md;
  char *digest;
  char *partial; /* path of the temp file */
  int fd;        /* holds the flock */
  int64_t expected_size;
  uint64_t written;
};

static void evp_md_ctx_freep(EVP_MD_CTX **c) { EVP_MD_CTX_free(*c); }
#define _cleanup_md_ __attribute__((cleanup(evp_md_ctx_freep)))

int blobstore_check_digest(const char *digest, struct stack_error **err) {
  if (digest == NULL)
    return stack_error_set(err, -EINVAL, "missing digest");
  if (strncmp(digest, DIGEST_PREFIX, DIGEST_PREFIX_LEN) != 0)
    return stack_error_set(err, -EINVAL,
                           "unsupported digest \"%.80s\": only sha256:<64 hex digits> is supported",
                           digest);
  const char *h = digest + DIGEST_PREFIX_LEN;
  size_t n = 0;
  for (; h[n]; n++)
    if (!((h[n] >= '0' && h[n] <= '9') || (h[n] >= 'a' && h[n] <= 'f')) || n >= HEX_LEN)
      return stack_error_set(err, -EINVAL,
                             "invalid digest \"%.80s\": expected sha256: and 64 lowercase hex digits",
                             digest);
  if (n != HEX_LEN)
    return stack_error_set(err, -EINVAL,
                           "invalid digest \"%.80s\": expected sha256: and 64 lowercase hex digits",
                           digest);
  return 0;
}

static char *digest_from_md(const unsigned char *md) {
  static const char hex[] = "0123456789abcdef";
  char *s = xmalloc(DIGEST_PREFIX_LEN + HEX_LEN + 1);
  memcpy(s, DIGEST_PREFIX, DIGEST_PREFIX_LEN);
  for (int i = 0; i < 32; i++) {
    s[DIGEST_PREFIX_LEN + 2 * i] = hex[md[i] >> 4];
    s[DIGEST_PREFIX_LEN + 2 * i + 1] = hex[md[i] & 15];
  }
  s[DIGEST_PREFIX_LEN + HEX_LEN] = '\0';
  return s;
}

static char *digest_final(EVP_MD_CTX *md) {
  unsigned char buf[EVP_MAX_MD_SIZE];
  unsigned int n = 0;
  if (EVP_DigestFinal_ex(md, buf, &n) != 1 || n != 32)
    abort(); /* only fails on allocation failure */
  return digest_from_md(buf);
}

static EVP_MD_CTX *digest_new(void) {
  EVP_MD_CTX *md = EVP_MD_CTX_new();
  if (md == NULL || EVP_DigestInit_ex(md, EVP_sha256(), NULL) != 1)
    abort();
  return md;
}

char *blobstore_digest_of(const void *data, size_t len) {
  _cleanup_md_ EVP_MD_CTX *md = digest_new();
  EVP_DigestUpdate(md, data, len);
  return digest_final(md);
}

int blobstore_open(const char *root, struct blobstore **out, struct stack_error **err) {
  _cleanup_free_ char *blobs = fs_path_join(root, "blobs");
  _cleanup_free_ char *blob_dir = fs_path_join(blobs, "sha256");
  _cleanup_free_ char *tmp_dir = fs_path_join(blobs, "tmp");
  int r = fs_mkdir_p(blob_dir, 0755, err);
  if (r == 0)
    r = fs_mkdir_p(tmp_dir, 0700, err);
  if (r < 0)
    return stack_error_prefix(err, "cannot open the image store at %s", root);
  _cleanup_free_ char *lock = fs_path_join(blobs, "lock");
  _cleanup_close_ int lfd = open(lock, O_RDWR | O_CREAT | O_CLOEXEC, 0600);
  if (lfd < 0)
    return stack_error_errno(err, -errno, "cannot open %s", lock);
  /* Blobs are committed before the image record that references them is
   * written: a garbage collection must not run in between. */
  while (flock(lfd, LOCK_SH) < 0)
    if (errno != EINTR)
      return stack_error_errno(err, -errno, "cannot lock %s", lock);
  struct blobstore *bs = xcalloc(1, sizeof(*bs));
  bs->lock_fd = steal_fd(&lfd);
  bs->blob_dir = steal_pointer(&blob_dir);
  bs->tmp_dir = steal_pointer(&tmp_dir);
  *out = bs;
  return 0;
}

void blobstore_close(struct blobstore *bs) {
  if (bs == NULL)
    return;
  free(bs->blob_dir);
  free(bs->tmp_dir);
  if (bs->lock_fd >= 0)
    close(bs->lock_fd);
  free(bs);
}

/* Only call with a checked digest. */
static char *blob_path_checked(struct blobstore *bs, const char *digest) {
  char *p = NULL;
  state_path_join(bs->blob_dir, (const char *const[]){digest + DIGEST_PREFIX_LEN, NULL}, &p,
                  NULL);
  return p;
}

char *blobstore_path(struct blobstore *bs, const char *digest) {
  if (blobstore_check_digest(digest, NULL) < 0)
    return NULL;
  return blob_path_checked(bs, digest);
}

bool blobstore_has(struct blobstore *bs, const char *digest) {
  _cleanup_free_ char *p = blobstore_path(bs, digest);
  return p != NULL && access(p, F_OK) == 0;
}

int blobstore_open_blob(struct blobstore *bs, const char *digest, int *fd_out, int64_t *size_out,
                        struct stack_error **err) {
  int r = blobstore_check_digest(digest, err);
  if (r < 0)
    return r;
  _cleanup_free_ char *p = blob_path_checked(bs, digest);
  _cleanup_close_ int fd = open(p, O_RDONLY | O_CLOEXEC);
  if (fd < 0)
    return stack_error_errno(err, -errno, "blob %s is not in the store (%s)", digest, p);
  struct stat st;
  if (fstat(fd, &st) < 0)
    return stack_error_errno(err, -errno, "cannot stat %s", p);
  if (size_out)
    *size_out = st.st_size;
  *fd_out = steal_fd(&fd);
  return 0;
}

int blobstore_read(struct blobstore *bs, const char *digest, size_t max_size, char **data,
                   size_t *len, struct stack_error **err) {
  _cleanup_close_ int fd = -1;
  int r = blobstore_open_blob(bs, digest, &fd, NULL, err);
  if (r < 0)
    return r;
  _cleanup_free_ char *buf = NULL;
  size_t n = 0;
  r = fs_read_fd(fd, digest, max_size, &buf, &n, err);
  if (r < 0)
    return r;
  _cleanup_free_ char *got = blobstore_digest_of(buf, n);
  if (strcmp(got, digest) != 0)
    return stack_error_set(err, -EIO,
                           "blob %s in the store is corrupt (its content hashes to %s); "
                           "remove the image and pull it again",
                           digest, got);
  *data = steal_pointer(&buf);
  if (len)
    *len = n;
  return 0;
}

/* Moves a fully written and verified temp file into place. */
static int commit_file(struct blobstore *bs, int fd, const char *tmp, const char *digest,
                       struct stack_error **err) {
  _cleanup_free_ char *dst = blob_path_checked(bs, digest);
  /* Durable before visible: after a crash a blob is either whole or absent. */
  if (fchmod(fd, 0444) < 0 || fdatasync(fd) < 0)
    return stack_error_errno(err, -errno, "cannot write blob %s", digest);
  if (rename(tmp, dst) < 0)
    return stack_error_errno(err, -errno, "cannot store blob %s at %s", digest, dst);
  return 0;
}

int blobstore_put(struct blobstore *bs, const char *expected_digest, const void *data, size_t len,
                  char **digest_out, struct stack_error **err) {
  int r;
  if (expected_digest && (r = blobstore_check_digest(expected_digest, err)) < 0)
    return r;
  _cleanup_free_ char *digest = blobstore_digest_of(data, len);
  if (expected_digest && strcmp(digest, expected_digest) != 0)
    return stack_error_set(err, -EBADMSG, "content does not match its digest: expected %s, got %s",
                           expected_digest, digest);
  if (!blobstore_has(bs, digest)) {
    _cleanup_free_ char *tmp = fs_path_join(bs->tmp_dir, "put.XXXXXX");
    _cleanup_close_ int fd = mkostemp(tmp, O_CLOEXEC);
    if (fd < 0)
      return stack_error_errno(err, -errno, "cannot create a temp file in %s", bs->tmp_dir);
    r = fd_write_all(fd, data, len);
    if (r < 0) {
      unlink(tmp);
      return stack_error_errno(err, r, "cannot write blob %s", digest);
    }
    r = commit_file(bs, fd, tmp, digest, err);
    if (r < 0) {
      unlink(tmp);
      return r;
    }
  }
  if (digest_out)
    *digest_out = steal_pointer(&digest);
  return 0;
}

/* Re-hashes what a previous attempt left in the partial file so the writer
 * can continue the digest from there. */
static int rehash_partial(struct blob_writer *w, struct stack_error **err) {
  struct stat st;
  if (fstat(w->fd, &st) < 0)
    return stack_error_errno(err, -errno, "cannot stat %s", w->partial);
  if (w->expected_size >= 0 && st.st_size > w->expected_size) {
    /* Longer than the blob can be: worthless, start again. */
    if (ftruncate(w->fd, 0) < 0)
      return stack_error_errno(err, -errno, "cannot truncate %s", w->partial);
    return 0;
  }
  char buf[1 << 16];
  uint64_t done = 0;
  while (done < (uint64_t)st.st_size) {
    ssize_t n = pread(w->fd, buf, sizeof(buf), (off_t)done);
    if (n < 0 && errno == EINTR)
      continue;
    if (n < 0)
      return stack_error_errno(err, -errno, "cannot read %s", w->partial);
    if (n == 0)
      break;
    EVP_DigestUpdate(w->md, buf, (size_t)n);
    done += (uint64_t)n;
  }
  w->written = done;
  if (ftruncate(w->fd, (off_t)done) < 0 || lseek(w->fd, (off_t)done, SEEK_SET) < 0)
    return stack_error_errno(err, -errno, "cannot resume %s", w->partial);
  return 0;
}

int blobstore_writer_open(struct blobstore *bs, const char *expected_digest, int64_t expected_size,
                          struct blob_writer **out, uint64_t *resume_offset,
                          struct stack_error **err) {
  int r = blobstore_check_digest(expected_digest, err);
  if (r < 0)
    return r;
  struct blob_writer *w = xcalloc(1, sizeof(*w));
  w->bs = bs;
  w->fd = -1;
  w->expected_size = expected_size;
  w->digest = xstrdup(expected_digest);
  w->md = digest_new();
  if (blobstore_has(bs, expected_digest)) {
    w->written = expected_size >= 0 ? (uint64_t)expected_size : 0;
    *resume_offset = w->written;
    *out = w;
    return 0;
  }
  w->partial = xasprintf("%s/%s.partial", bs->tmp_dir, expected_digest + DIGEST_PREFIX_LEN);
  w->fd = open(w->partial, O_RDWR | O_CREAT | O_CLOEXEC, 0600);
  if (w->fd < 0) {
    r = stack_error_errno(err, -errno, "cannot create %s", w->partial);
    goto fail;
  }
  /* Another process pulling the same blob: wait for it, then either the blob
   * is committed (the caller sees a complete resume) or we take over. */
  while (flock(w->fd, LOCK_EX) < 0) {
    if (errno != EINTR) {
      r = stack_error_errno(err, -errno, "cannot lock %s", w->partial);
      goto fail;
    }
  }
  /* The file we locked may have been renamed into place or unlinked by the
   * previous holder; if so, reopen. */
  struct stat a, b;
  if (fstat(w->fd, &a) < 0 || stat(w->partial, &b) < 0 || a.st_ino != b.st_ino ||
      a.st_dev != b.st_dev) {
    close(w->fd);
    w->fd = -1;
    if (blobstore_has(bs, expected_digest)) {
      /* Already there: nothing to write.  commit() is then a no-op. */
      w->written = expected_size >= 0 ? (uint64_t)expected_size : 0;
      *resume_offset = w->written;
      *out = w;
      return 0;
    }
    blob_writer_abort(w, true);
    return blobstore_writer_open(bs, expected_digest, expected_size, out, resume_offset, err);
  }
  r = rehash_partial(w, err);
  if (r < 0)
    goto fail;
  *resume_offset = w->written;
  *out = w;
  return 0;
fail:
  blob_writer_abort(w, true);
  return r;
}

int blob_writer_write(struct blob_writer *w, const void *data, size_t len,
                      struct stack_error **err) {
  if (w->fd < 0)
    return 0; /* the blob was committed by someone else meanwhile */
  if (w->expected_size >= 0 && w->written + len > (uint64_t)w->expected_size)
    return stack_error_set(err, -EBADMSG, "blob %s is larger than its declared size %lld",
                           w->digest, (long long)w->expected_size);
  int r = fd_write_all(w->fd, data, len);
  if (r < 0)
    return stack_error_errno(err, r, "cannot write blob %s to %s", w->digest, w->partial);
  EVP_DigestUpdate(w->md, data, len);
  w->written += len;
  return 0;
}

static void writer_free(struct blob_writer *w) {
  if (w->fd >= 0)
    close(w->fd); /* also drops the flock */
  EVP_MD_CTX_free(w->md);
  free(w->digest);
  free(w->partial);
  free(w);
}

int blob_writer_commit(struct blob_writer *w, struct stack_error **err) {
  if (w->fd < 0) {
    writer_free(w);
    return 0;
  }
  int r = 0;
  if (w->expected_size >= 0 && w->written != (uint64_t)w->expected_size) {
    r = stack_error_set(err, -EBADMSG, "blob %s is truncated: got %llu of %lld bytes", w->digest,
                        (unsigned long long)w->written, (long long)w->expected_size);
  } else {
    _cleanup_free_ char *got = digest_final(w->md);
    if (strcmp(got, w->digest) != 0)
      r = stack_error_set(err, -EBADMSG, "blob content does not match its digest: expected %s, got %s",
                          w->digest, got);
    else
      r = commit_file(w->bs, w->fd, w->partial, w->digest, err);
  }
  /* Bad content is never worth resuming from. */
  if (r == -EBADMSG)
    unlink(w->partial);
  writer_free(w);
  return r;
}

void blob_writer_abort(struct blob_writer *w, bool keep_partial) {
  if (w == NULL)
    return;
  if (!keep_partial && w->fd >= 0)
    unlink(w->partial);
  writer_free(w);
}

int blobstore_remove(struct blobstore *bs, const char *digest, struct stack_error **err) {
  int r = blobstore_check_digest(digest, err);
  if (r < 0)
    return r;
  _cleanup_free_ char *p = blob_path_checked(bs, digest);
  if (unlink(p) < 0 && errno != ENOENT)
    return stack_error_errno(err, -errno, "cannot remove blob %s", p);
  return 0;
}

int blobstore_list(struct blobstore *bs, char ***out, struct stack_error **err) {
  _cleanup_closedir_ DIR *d = opendir(bs->blob_dir);
  if (d == NULL)
    return stack_error_errno(err, -errno, "cannot list %s", bs->blob_dir);
  size_t n = 0, cap = 0;
  char **v = NULL;
  struct dirent *de;
  while ((de = readdir(d)) != NULL) {
    _cleanup_free_ char *dg = xasprintf(DIGEST_PREFIX "%s", de->d_name);
    if (blobstore_check_digest(dg, NULL) < 0)
      continue;
    v = xgrow(v, &cap, n + 2, sizeof(*v));
    v[n++] = steal_pointer(&dg);
  }
  v = xgrow(v, &cap, n + 1, sizeof(*v));
  v[n] = NULL;
  *out = v;
  return 0;
}

int blobstore_lock_exclusive(struct blobstore *bs, struct stack_error **err) {
  while (flock(bs->lock_fd, LOCK_EX) < 0)
    if (errno != EINTR)
      return stack_error_errno(err, -errno, "cannot lock the image store");
  return 0;
}

int blobstore_clean_tmp(struct blobstore *bs, uint64_t *freed, struct stack_error **err) {
  _cleanup_closedir_ DIR *d = opendir(bs->tmp_dir);
  if (d == NULL)
    return stack_error_errno(err, -errno, "cannot list %s", bs->tmp_dir);
  struct dirent *de;
  while ((de = readdir(d)) != NULL) {
    if (de->d_name[0] == '.')
      continue;
    _cleanup_free_ char *p = fs_path_join(bs->tmp_dir, de->d_name);
    _cleanup_close_ int fd = open(p, O_RDONLY | O_CLOEXEC);
    struct stat st;
    /* A writer still holds its lock: not ours to remove. */
    if (fd < 0 || flock(fd, LOCK_EX | LOCK_NB) < 0 || fstat(fd, &st) < 0)
      continue;
    if (unlink(p) == 0 && freed)
      *freed += (uint64_t)st.st_size;
  }
  return 0;
}

int blobstore_writer_open_new(struct blobstore *bs, struct blob_writer **out,
                              struct stack_error **err) {
  struct blob_writer *w = xcalloc(1, sizeof(*w));
  w->bs = bs;
  w->expected_size = -1;
  w->md = digest_new();
  w->partial = fs_path_join(bs->tmp_dir, "new.XXXXXX");
  w->fd = mkostemp(w->partial, O_CLOEXEC);
  if (w->fd < 0 || flock(w->fd, LOCK_EX) < 0) {
    int r = stack_error_errno(err, -errno, "cannot create a temp file in %s", bs->tmp_dir);
    blob_writer_abort(w, false);
    return r;
  }
  w->digest = xstrdup("(new blob)");
  *out = w;
  return 0;
}

int blob_writer_commit_digest(struct blob_writer *w, char **digest_out, uint64_t *size_out,
                              struct stack_error **err) {
  _cleanup_free_ char *digest = digest_final(w->md);
  int r = 0;
  if (blobstore_has(w->bs, digest))
    unlink(w->partial);
  else if ((r = commit_file(w->bs, w->fd, w->partial, digest, err)) < 0)
    unlink(w->partial);
  if (r == 0) {
    if (size_out)
      *size_out = w->written;
    if (digest_out)
      *digest_out = steal_pointer(&digest);
  }
  writer_free(w);
  return r;
}
