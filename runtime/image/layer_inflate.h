/* Decompression of a layer on a second thread, so that inflating (the
 * slowest part of unpacking a gzip layer) overlaps with applying the tar
 * stream to the tree. */
#ifndef STACK_IMAGE_LAYER_INFLATE_H
#define STACK_IMAGE_LAYER_INFLATE_H

struct stack_error;
struct layer_inflater;

/* If fd (at offset 0) holds gzip or zstd, starts a thread that writes the
 * decompressed stream to a socket and sets *out_fd to its reading end, and
 * *li to the thread; otherwise *out_fd = fd and *li = NULL. */
int layer_inflate_start(int fd, struct layer_inflater **li, int *out_fd, struct stack_error **err);

/* Closes the reading end, waits for the thread and frees li; returns the
 * thread's decompression error, if it had one.  *diff_id (may be NULL)
 * receives "sha256:<hex>" of the decompressed stream when the reader
 * consumed all of it, else NULL.  NULL li is fine. */
int layer_inflate_finish(struct layer_inflater *li, char **diff_id, struct stack_error **err);

#endif
