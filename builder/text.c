#include "builder/text.h"

#include <stdio.h>

size_t text_decode(const char *s, size_t n, uint32_t *cp) {
  const unsigned char *u = (const unsigned char *)s;
  unsigned char c = u[0];
  if (c < 0x80) {
    *cp = c;
    return 1;
  }
  size_t len;
  uint32_t v, min;
  if ((c & 0xE0) == 0xC0) {
    len = 2, v = c & 0x1F, min = 0x80;
  } else if ((c & 0xF0) == 0xE0) {
    len = 3, v = c & 0x0F, min = 0x800;
  } else if ((c & 0xF8) == 0xF0) {
    len = 4, v = c & 0x07, min = 0x10000;
  } else {
    *cp = 0xFFFD;
    return 1;
  }
  if (len > n) {
    *cp = 0xFFFD;
    return 1;
  }
  for (size_t i = 1; i < len; i++) {
    if ((u[i] & 0xC0) != 0x80) {
      *cp = 0xFFFD;
      return 1;
    }
    v = (v << 6) | (u[i] & 0x3F);
  }
  if (v < min || v > 0x10FFFF || (v >= 0xD800 && v <= 0xDFFF)) {
    *cp = 0xFFFD;
    return 1;
  }
  *cp = v;
  return len;
}

bool text_is_space(uint32_t cp) {
  switch (cp) {
  case '\t': case '\n': case '\v': case '\f': case '\r': case ' ':
  case 0x85: case 0xA0: case 0x1680: case 0x2028: case 0x2029: case 0x202F:
  case 0x205F: case 0x3000:
    return true;
  }
  return cp >= 0x2000 && cp <= 0x200A;
}

bool text_is_letter(uint32_t cp) {
  if (cp < 0x80)
    return (cp >= 'a' && cp <= 'z') || (cp >= 'A' && cp <= 'Z');
  return cp >= 0xC0 && cp != 0xD7 && cp != 0xF7 && !text_is_space(cp);
}

size_t text_space_len(const char *s, size_t n) {
  size_t i = 0;
  while (i < n) {
    uint32_t cp;
    size_t l = text_decode(s + i, n - i, &cp);
    if (!text_is_space(cp))
      break;
    i += l;
  }
  return i;
}

void text_trim(const char *s, size_t n, size_t *start, size_t *len) {
  size_t a = text_space_len(s, n);
  size_t end = a, last = a;
  while (end < n) {
    uint32_t cp;
    size_t l = text_decode(s + end, n - end, &cp);
    end += l;
    if (!text_is_space(cp))
      last = end;
  }
  *start = a;
  *len = last - a;
}

/* Go's unicode.IsPrint, closely enough: controls, non-ASCII spaces, format
 * characters, private use and noncharacters are not printable. */
static bool is_print(uint32_t cp) {
  if (cp < 0x20 || cp == 0x7F || (cp >= 0x80 && cp < 0xA0) || cp == 0xAD)
    return false;
  if (cp != ' ' && text_is_space(cp))
    return false;
  if ((cp >= 0x200B && cp <= 0x200F) || (cp >= 0x202A && cp <= 0x202E) ||
      (cp >= 0x2060 && cp <= 0x206F) || cp == 0xFEFF || (cp >= 0xFFF9 && cp <= 0xFFFB) ||
      (cp >= 0xE000 && cp <= 0xF8FF) || (cp & 0xFFFE) == 0xFFFE || cp >= 0xF0000)
    return false;
  return true;
}

void text_quote(struct sbuf *b, const char *s, size_t n) {
  sbuf_putc(b, '"');
  for (size_t i = 0; i < n;) {
    uint32_t cp;
    size_t l = text_decode(s + i, n - i, &cp);
    unsigned char c = (unsigned char)s[i];
    if (cp == 0xFFFD && l == 1 && c >= 0x80) {
      sbuf_printf(b, "\\x%02x", c);
    } else if (cp == '"' || cp == '\\') {
      sbuf_putc(b, '\\');
      sbuf_putc(b, (char)cp);
    } else if (is_print(cp)) {
      sbuf_append(b, s + i, l);
    } else {
      switch (cp) {
      case '\a': sbuf_puts(b, "\\a"); break;
      case '\b': sbuf_puts(b, "\\b"); break;
      case '\f': sbuf_puts(b, "\\f"); break;
      case '\n': sbuf_puts(b, "\\n"); break;
      case '\r': sbuf_puts(b, "\\r"); break;
      case '\t': sbuf_puts(b, "\\t"); break;
      case '\v': sbuf_puts(b, "\\v"); break;
      default:
        if (cp < 0x20 || cp == 0x7F)
          sbuf_printf(b, "\\x%02x", (unsigned)cp);
        else if (cp < 0x10000)
          sbuf_printf(b, "\\u%04x", (unsigned)cp);
        else
          sbuf_printf(b, "\\U%08x", (unsigned)cp);
      }
    }
    i += l;
  }
  sbuf_putc(b, '"');
}
