#include "json_print.h"

#include <stdlib.h>

#include "sbuf.h"

char *json_print_indented(const cJSON *j, const char *indent) {
  char *text = cJSON_Print(j);
  if (text == NULL)
    return NULL;
  struct sbuf out = SBUF_INIT;
  /* cJSON escapes tabs inside strings, so every raw tab is layout. */
  for (const char *p = text; *p; p++) {
    if (*p != '\t')
      sbuf_putc(&out, *p);
    else if (p > text && p[-1] == ':')
      sbuf_putc(&out, ' ');
    else
      sbuf_puts(&out, indent);
  }
  cJSON_free(text);
  return sbuf_steal(&out);
}
