/* Character classes and quoting shared by the builder's parsers.  The
 * reference frontend is written in Go, whose unicode.IsSpace and
 * strconv.Quote decide what a word is and how a parse tree prints; these
 * reproduce them for UTF-8 text (invalid bytes are taken one at a time). */
#ifndef STACK_BUILDER_TEXT_H
#define STACK_BUILDER_TEXT_H
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "runtime/util/sbuf.h"

/* Decodes the code point at s (n bytes left, n > 0); returns its length in
 * bytes (1 for an invalid byte, whose *cp is then 0xFFFD). */
size_t text_decode(const char *s, size_t n, uint32_t *cp);
/* Go's unicode.IsSpace. */
bool text_is_space(uint32_t cp);
/* Letters as Go's unicode.IsLetter sees them, for ASCII exactly; any other
 * code point from U+00C0 on that is not a space counts as a letter. */
bool text_is_letter(uint32_t cp);
/* Length of the run of Go spaces at s[0..n) (0 if none). */
size_t text_space_len(const char *s, size_t n);
/* Appends s[0..n) quoted as Go's strconv.Quote does. */
void text_quote(struct sbuf *b, const char *s, size_t n);
/* s[0..n) with Go's strings.TrimSpace: *start and *len of what is left. */
void text_trim(const char *s, size_t n, size_t *start, size_t *len);

#endif
