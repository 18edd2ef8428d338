/* A libuv read-allocation callback that hands out a fresh heap buffer of
 * the suggested size; the read callback frees buf->base.  Header-only, so
 * that stack_util itself does not link libuv. */
#ifndef STACK_UTIL_UV_ALLOC_H
#define STACK_UTIL_UV_ALLOC_H

#include <uv.h>

#include "runtime/util/xalloc.h"

static inline void uv_alloc_heap(uv_handle_t *h, size_t suggested, uv_buf_t *buf) {
  (void)h;
  buf->base = xmalloc(suggested);
  buf->len = suggested;
}

#endif
