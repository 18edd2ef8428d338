/* A tar archive read from an exec session's stdout (`cp` from a
 * container, `export`, `commit`): the container's own tar writes it, the
 * CLI reads its entries with libarchive as they arrive. */
#ifndef STACK_CLI_EXEC_TAR_H
#define STACK_CLI_EXEC_TAR_H

#include <archive.h>

struct cli_exec_stream;
struct stack_error;

/* What the reader pulls from; rc keeps the session's error (a failed read
 * is reported by libarchive as an I/O error only). */
struct cli_exec_tar {
  struct cli_exec_stream *x;
  struct stack_error **err;
  int rc;
};

/* Opens in (tar and GNU tar) on x's stdout, t holding the reader's state
 * (it must live as long as in).  On failure the session's error if it had
 * one, else libarchive's. */
int cli_exec_tar_open(struct archive *in, struct cli_exec_tar *t, struct cli_exec_stream *x,
                      struct stack_error **err);

/* For __attribute__((cleanup)): frees a libarchive handle. */
void cli_archive_freep(struct archive **a);

#endif
