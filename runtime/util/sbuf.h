/* A growable byte buffer, always NUL-terminated. */
#ifndef STACK_UTIL_SBUF_H
#define STACK_UTIL_SBUF_H

#include <stdarg.h>
#include <stddef.h>

struct sbuf {
  char *data; /* NULL until the first append */
  size_t len;
  size_t cap;
};

#define SBUF_INIT {NULL, 0, 0}

void sbuf_append(struct sbuf *b, const void *data, size_t n);
void sbuf_puts(struct sbuf *b, const char *s);
void sbuf_putc(struct sbuf *b, char c);
void sbuf_printf(struct sbuf *b, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
void sbuf_vprintf(struct sbuf *b, const char *fmt, va_list ap) __attribute__((format(printf, 2, 0)));
/* Returns the contents (never NULL) and resets the buffer; caller frees. */
char *sbuf_steal(struct sbuf *b);
void sbuf_reset(struct sbuf *b);
void sbuf_free(struct sbuf *b);

#define _cleanup_sbuf_ __attribute__((cleanup(sbuf_free)))

#endif
