#include "compose_scalar.h"

#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

bool cscalar_parse_bool(const char *s, bool *out) {
  if (!strcmp(s, "true") || !strcmp(s, "True") || !strcmp(s, "TRUE")) {
    *out = true;
    return true;
  }
  if (!strcmp(s, "false") || !strcmp(s, "False") || !strcmp(s, "FALSE")) {
    *out = false;
    return true;
  }
  return false;
}

static bool all_digits(const char *s, const char *set) {
  if (*s == '\0')
    return false;
  for (; *s; s++)
    if (strchr(set, *s) == NULL)
      return false;
  return true;
}

bool cscalar_parse_int(const char *s, int64_t *out) {
  const char *p = s;
  bool neg = false;
  if (*p == '+' || *p == '-')
    neg = *p++ == '-';
  int base = 10;
  const char *digits = p;
  if (p[0] == '0' && (p[1] == 'x' || p[1] == 'X')) {
    base = 16, digits = p + 2;
    if (!all_digits(digits, "0123456789abcdefABCDEF"))
      return false;
  } else if (p[0] == '0' && p[1] == 'o') {
    base = 8, digits = p + 2;
    if (!all_digits(digits, "01234567"))
      return false;
  } else if (p[0] == '0' && p[1] == 'b') {
    base = 2, digits = p + 2;
    if (!all_digits(digits, "01"))
      return false;
  } else if (p[0] == '0' && p[1] != '\0') {
    base = 8, digits = p + 1; /* Go's ParseInt(s, 0, 64): a leading 0 is octal */
    if (!all_digits(digits, "01234567"))
      return false;
  } else if (!all_digits(digits, "0123456789")) {
    return false;
  }
  errno = 0;
  unsigned long long v = strtoull(digits, NULL, base);
  if (errno != 0 || v > (unsigned long long)INT64_MAX + (neg ? 1 : 0))
    return false;
  *out = neg ? (int64_t)(0 - v) : (int64_t)v;
  return true;
}

bool cscalar_parse_float(const char *s, double *out) {
  int64_t i;
  if (cscalar_parse_int(s, &i)) {
    *out = (double)i;
    return true;
  }
  const char *p = s;
  if (*p == '+' || *p == '-')
    p++;
  if (!strcmp(p, ".inf") || !strcmp(p, ".Inf") || !strcmp(p, ".INF")) {
    *out = s[0] == '-' ? -INFINITY : INFINITY;
    return true;
  }
  if (p == s && (!strcmp(s, ".nan") || !strcmp(s, ".NaN") || !strcmp(s, ".NAN"))) {
    *out = NAN;
    return true;
  }
  /* [0-9]*(.[0-9]*)?([eE][-+]?[0-9]+)? with at least one digit before the exponent */
  bool digit = false;
  while (*p >= '0' && *p <= '9')
    p++, digit = true;
  if (*p == '.') {
    p++;
    while (*p >= '0' && *p <= '9')
      p++, digit = true;
  }
  if (!digit)
    return false;
  if (*p == 'e' || *p == 'E') {
    p++;
    if (*p == '+' || *p == '-')
      p++;
    if (!(*p >= '0' && *p <= '9'))
      return false;
    while (*p >= '0' && *p <= '9')
      p++;
  }
  if (*p != '\0')
    return false;
  *out = strtod(s, NULL);
  return true;
}

enum cscalar_type cscalar_type_of(const char *s) {
  if (s[0] == '\0' || !strcmp(s, "~") || !strcmp(s, "null") || !strcmp(s, "Null") ||
      !strcmp(s, "NULL"))
    return CSCALAR_NULL;
  bool b;
  if (cscalar_parse_bool(s, &b))
    return CSCALAR_BOOL;
  int64_t i;
  if (cscalar_parse_int(s, &i))
    return CSCALAR_INT;
  /* digits too many for int64 still read as a number */
  double d;
  if (cscalar_parse_float(s, &d))
    return CSCALAR_FLOAT;
  return CSCALAR_STRING;
}

enum cscalar_type cscalar_type(const struct cnode *n) {
  if (n == NULL || n->kind == CNODE_NULL)
    return CSCALAR_NULL;
  if (n->kind != CNODE_SCALAR || n->quoted)
    return CSCALAR_STRING;
  return cscalar_type_of(n->str);
}

bool cnode_equal(const struct cnode *a, const struct cnode *b) {
  enum cnode_kind ka = a ? a->kind : CNODE_NULL, kb = b ? b->kind : CNODE_NULL;
  if (ka == CNODE_SCALAR && cnode_is_null(a))
    ka = CNODE_NULL;
  if (kb == CNODE_SCALAR && cnode_is_null(b))
    kb = CNODE_NULL;
  if (ka != kb)
    return false;
  switch (ka) {
  case CNODE_NULL:
    return true;
  case CNODE_SCALAR:
    return a->quoted == b->quoted && strcmp(a->str, b->str) == 0;
  case CNODE_SEQ:
    if (a->n != b->n)
      return false;
    for (size_t i = 0; i < a->n; i++)
      if (!cnode_equal(a->items[i], b->items[i]))
        return false;
    return true;
  case CNODE_MAP:
    if (a->n != b->n)
      return false;
    for (size_t i = 0; i < a->n; i++) {
      struct cnode_pair *p = cnode_map_get_pair(b, a->pairs[i].key->str);
      if (p == NULL || !cnode_equal(a->pairs[i].value, p->value))
        return false;
    }
    return true;
  }
  return false;
}
