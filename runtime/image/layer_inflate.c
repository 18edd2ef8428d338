#include "layer_inflate.h"

#include <archive.h>
#include <archive_entry.h>
#include <errno.h>
#include <openssl/evp.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "runtime/util/error.h"
#include "runtime/util/xalloc.h"

#define CHUNK (1 << 20)

struct layer_inflater {
  pthread_t thread;
  EVP_MD_CTX *md;   /* sha256 of the decompressed stream: the layer's diff_id */
  bool complete;    /* the whole stream was decompressed and sent */
  int in_fd;        /* the compressed layer (not owned) */
  int wr, rd;       /* socket pair: the thread writes wr, the applier reads rd */
  char *error;      /* the thread's error message, or NULL */
};

static bool is_compressed(int fd) {
  unsigned char m[4];
  if (pread(fd, m, sizeof(m), 0) != (ssize_t)sizeof(m))
    return false;
  return (m[0] == 0x1f && m[1] == 0x8b) || (m[0] == 0x28 && m[1] == 0xb5 && m[2] == 0x2f && m[3] == 0xfd);
}

static void *inflate_main(void *arg) {
  struct layer_inflater *li = arg;
  struct archive *a = archive_read_new();
  char *buf = xmalloc(CHUNK);
  archive_read_support_filter_gzip(a);
  archive_read_support_filter_zstd(a);
  archive_read_support_format_raw(a);
  struct archive_entry *e;
  if (archive_read_open_fd(a, li->in_fd, CHUNK) != ARCHIVE_OK ||
      archive_read_next_header(a, &e) != ARCHIVE_OK) {
    li->error = xstrdup(archive_error_string(a) ? archive_error_string(a) : "cannot decompress");
    goto out;
  }
  for (;;) {
    la_ssize_t n = archive_read_data(a, buf, CHUNK);
    if (n == 0)
      break;
    if (n < 0) {
      li->error = xasprintf("decompressing: %s", archive_error_string(a));
      break;
    }
    EVP_DigestUpdate(li->md, buf, (size_t)n);
    for (la_ssize_t done = 0; done < n;) {
      /* MSG_NOSIGNAL: an applier that gave up closes its end, which must
       * not kill the process with SIGPIPE. */
      ssize_t w = send(li->wr, buf + done, (size_t)(n - done), MSG_NOSIGNAL);
      if (w < 0 && errno == EINTR)
        continue;
      if (w < 0)
        goto out; /* the reader stopped: its error says why */
      done += w;
    }
  }
  li->complete = li->error == NULL;
out:
  shutdown(li->wr, SHUT_WR);
  free(buf);
  archive_read_free(a);
  return NULL;
}

int layer_inflate_start(int fd, struct layer_inflater **out, int *out_fd,
                        struct stack_error **err) {
  *out = NULL;
  *out_fd = fd;
  if (!is_compressed(fd))
    return 0;
  int sv[2];
  if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv) < 0)
    return stack_error_errno(err, -errno, "cannot create a socket pair");
  int sz = CHUNK;
  setsockopt(sv[0], SOL_SOCKET, SO_SNDBUF, &sz, sizeof(sz));
  setsockopt(sv[1], SOL_SOCKET, SO_RCVBUF, &sz, sizeof(sz));
  struct layer_inflater *li = xcalloc(1, sizeof(*li));
  li->md = EVP_MD_CTX_new();
  if (li->md == NULL || EVP_DigestInit_ex(li->md, EVP_sha256(), NULL) != 1)
    abort();
  li->in_fd = fd;
  li->wr = sv[0];
  li->rd = sv[1];
  int r = pthread_create(&li->thread, NULL, inflate_main, li);
  if (r != 0) {
    close(sv[0]);
    close(sv[1]);
    EVP_MD_CTX_free(li->md);
    free(li);
    return stack_error_errno(err, -r, "cannot start the decompression thread");
  }
  *out = li;
  *out_fd = li->rd;
  return 0;
}

int layer_inflate_finish(struct layer_inflater *li, char **diff_id, struct stack_error **err) {
  if (diff_id)
    *diff_id = NULL;
  if (li == NULL)
    return 0;
  close(li->rd);
  pthread_join(li->thread, NULL);
  close(li->wr);
  int r = 0;
  if (li->error)
    r = stack_error_set(err, -EBADMSG, "%s", li->error);
  if (r == 0 && li->complete && diff_id) {
    unsigned char md[EVP_MAX_MD_SIZE];
    unsigned int n = 0;
    EVP_DigestFinal_ex(li->md, md, &n);
    *diff_id = xmalloc(7 + 2 * n + 1);
    memcpy(*diff_id, "sha256:", 7);
    for (unsigned i = 0; i < n; i++)
      sprintf(*diff_id + 7 + 2 * i, "%02x", md[i]);
  }
  EVP_MD_CTX_free(li->md);
  free(li->error);
  free(li);
  return r;
}
