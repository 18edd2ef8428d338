#include "json_print.h"

#include <stdbool.h>
#include <stdlib.h>

#include "sbuf.h"

static void put_indent(struct sbuf *out, const char *indent, int depth) {
  for (int i = 0; i < depth; i++)
    sbuf_puts(out, indent);
}

/* Go's json.MarshalIndent layout: every member and element on a line of its
 * own, "key": value, empty containers as {} and []. */
static void print_value(struct sbuf *out, const cJSON *j, const char *indent, int depth) {
  if (cJSON_IsArray(j) || cJSON_IsObject(j)) {
    bool obj = cJSON_IsObject(j);
    sbuf_putc(out, obj ? '{' : '[');
    const cJSON *c = j->child;
    if (c == NULL) {
      sbuf_putc(out, obj ? '}' : ']');
      return;
    }
    for (; c; c = c->next) {
      sbuf_putc(out, '\n');
      put_indent(out, indent, depth + 1);
      if (obj) {
        cJSON *key = cJSON_CreateString(c->string ? c->string : "");
        char *k = cJSON_PrintUnformatted(key);
        sbuf_puts(out, k ? k : "\"\"");
        cJSON_free(k);
        cJSON_Delete(key);
        sbuf_puts(out, ": ");
      }
      print_value(out, c, indent, depth + 1);
      if (c->next)
        sbuf_putc(out, ',');
    }
    sbuf_putc(out, '\n');
    put_indent(out, indent, depth);
    sbuf_putc(out, obj ? '}' : ']');
    return;
  }
  char *s = cJSON_PrintUnformatted(j);
  sbuf_puts(out, s ? s : "null");
  cJSON_free(s);
}

char *json_print_indented(const cJSON *j, const char *indent) {
  if (j == NULL)
    return NULL;
  struct sbuf out = SBUF_INIT;
  print_value(&out, j, indent, 0);
  return sbuf_steal(&out);
}
