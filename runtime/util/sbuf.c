#include "sbuf.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "xalloc.h"

static void reserve(struct sbuf *b, size_t extra) {
  b->data = xgrow(b->data, &b->cap, b->len + extra + 1, 1);
}

void sbuf_append(struct sbuf *b, const void *data, size_t n) {
  reserve(b, n);
  if (n)
    memcpy(b->data + b->len, data, n);
  b->len += n;
  b->data[b->len] = '\0';
}

void sbuf_puts(struct sbuf *b, const char *s) { sbuf_append(b, s, strlen(s)); }

void sbuf_putc(struct sbuf *b, char c) { sbuf_append(b, &c, 1); }

void sbuf_vprintf(struct sbuf *b, const char *fmt, va_list ap) {
  va_list ap2;
  va_copy(ap2, ap);
  int n = vsnprintf(NULL, 0, fmt, ap2);
  va_end(ap2);
  if (n < 0)
    return;
  reserve(b, (size_t)n);
  vsnprintf(b->data + b->len, (size_t)n + 1, fmt, ap);
  b->len += (size_t)n;
}

void sbuf_printf(struct sbuf *b, const char *fmt, ...) {
  va_list ap;
  va_start(ap, fmt);
  sbuf_vprintf(b, fmt, ap);
  va_end(ap);
}

char *sbuf_steal(struct sbuf *b) {
  char *p = b->data ? b->data : xstrdup("");
  b->data = NULL;
  b->len = b->cap = 0;
  return p;
}

void sbuf_reset(struct sbuf *b) {
  b->len = 0;
  if (b->data)
    b->data[0] = '\0';
}

void sbuf_free(struct sbuf *b) {
  free(b->data);
  b->data = NULL;
  b->len = b->cap = 0;
}
