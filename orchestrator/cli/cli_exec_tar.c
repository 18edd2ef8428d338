#include "cli_exec_tar.h"

#include <errno.h>

#include "cli_exec_stream.h"
#include "runtime/util/error.h"

static la_ssize_t pull_read(struct archive *a, void *data, const void **buf) {
  struct cli_exec_tar *t = data;
  int r = cli_exec_stream_read(t->x, t->err);
  if (r < 0) {
    t->rc = r;
    archive_set_error(a, EIO, "%s", (*t->err)->msg);
    return -1;
  }
  *buf = t->x->chunk;
  return r > 0 ? (la_ssize_t)t->x->n : 0;
}

int cli_exec_tar_open(struct archive *in, struct cli_exec_tar *t, struct cli_exec_stream *x,
                      struct stack_error **err) {
  *t = (struct cli_exec_tar){x, err, 0};
  archive_read_support_format_tar(in);
  archive_read_support_format_gnutar(in);
  if (archive_read_open(in, t, NULL, pull_read, NULL) != ARCHIVE_OK)
    return t->rc < 0 ? t->rc : stack_error_set(err, -EIO, "%s", archive_error_string(in));
  return 0;
}

void cli_archive_freep(struct archive **a) {
  if (*a)
    archive_free(*a);
}
