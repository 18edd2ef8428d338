/* Base64 for bytes carried in JSON strings (exec input and output over the
 * supervisor socket), through OpenSSL's EVP block coder. */
#ifndef STACK_UTIL_BASE64_H
#define STACK_UTIL_BASE64_H

#include <stddef.h>

/* The standard padded encoding of p[0..n), NUL-terminated (caller frees). */
char *b64_encode(const void *p, size_t n);

/* Decodes a padded string into a new buffer (caller frees; NUL-terminated
 * for convenience, *n excludes it); NULL when s is not valid base64. */
unsigned char *b64_decode(const char *s, size_t *n);

#endif
