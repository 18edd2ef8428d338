/* The exec form: a JSON array of strings, parsed by cJSON.  Two things
 * differ between cJSON and the reference (Go's encoding/json), and are
 * settled before cJSON sees the text: Go refuses raw control characters in a
 * string (the line is then a shell form), and a "\u0000" escape is a NUL
 * that a C string cannot hold, so it is carried as U+10FFFF (a noncharacter)
 * through cJSON and turned back into a NUL with the string's length.  A form
 * that already holds U+10FFFF keeps it and its NULs end the strings there. */
#include <cjson/cJSON.h>
#include <errno.h>
#include <string.h>
#include <strings.h>

#include "builder/dockerfile.h"
#include "builder/text.h"
#include "runtime/util/cjson_cleanup.h"
#include "runtime/util/cleanup.h"
#include "runtime/util/sbuf.h"
#include "runtime/util/xalloc.h"

static const char SENTINEL_UTF8[] = "\xF4\x8F\xBF\xBF";

void df_words_free(struct df_word *w, size_t n) {
  if (w == NULL)
    return;
  for (size_t i = 0; i < n; i++)
    free(w[i].s);
  free(w);
}

/* Copies src for cJSON; false if Go would refuse it (a control character in
 * a string). */
static bool prepare(const char *src, struct sbuf *out) {
  bool sentinel_in_input = strstr(src, SENTINEL_UTF8) != NULL || strcasestr(src, "\\udbff") != NULL;
  bool in_str = false;
  for (size_t i = 0; src[i];) {
    unsigned char c = (unsigned char)src[i];
    if (!in_str) {
      if (c == '"')
        in_str = true;
      sbuf_putc(out, (char)c);
      i++;
      continue;
    }
    if (c < 0x20)
      return false;
    if (c == '"') {
      in_str = false;
      sbuf_putc(out, '"');
      i++;
      continue;
    }
    if (c == '\\' && src[i + 1] != '\0') {
      if (!sentinel_in_input && src[i + 1] == 'u' && strncmp(src + i + 2, "0000", 4) == 0) {
        sbuf_puts(out, "\\udbff\\udfff");
        i += 6;
        continue;
      }
      sbuf_append(out, src + i, 2);
      i += 2;
      continue;
    }
    sbuf_putc(out, (char)c);
    i++;
  }
  return true;
}

int df_parse_json_array(const char *rest, struct df_word **out, size_t *n, bool *is_json,
                        struct stack_error **err) {
  *out = NULL;
  *n = 0;
  *is_json = false;
  rest += text_space_len(rest, strlen(rest));
  if (rest[0] != '[')
    return 0;
  _cleanup_sbuf_ struct sbuf buf = SBUF_INIT;
  if (!prepare(rest, &buf))
    return 0;
  const bool decode_nul = strstr(rest, SENTINEL_UTF8) == NULL && strcasestr(rest, "\\udbff") == NULL;
  _cleanup_cjson_ cJSON *arr = cJSON_ParseWithOpts(buf.data, NULL, true);
  if (arr == NULL || !cJSON_IsArray(arr))
    return 0;
  size_t count = (size_t)cJSON_GetArraySize(arr), i = 0;
  struct df_word *words = xcalloc(count + 1, sizeof(*words));
  cJSON *el;
  cJSON_ArrayForEach(el, arr) {
    if (!cJSON_IsString(el)) {
      df_words_free(words, i);
      return stack_error_set(err, -EINVAL,
                             "when using JSON array syntax, arrays must be comprised of strings only");
    }
    struct sbuf w = SBUF_INIT;
    const char *s = el->valuestring;
    for (const char *p; decode_nul && (p = strstr(s, SENTINEL_UTF8)) != NULL; s = p + 4) {
      sbuf_append(&w, s, (size_t)(p - s));
      sbuf_append(&w, "", 1);
    }
    sbuf_puts(&w, s);
    words[i].len = w.len;
    words[i].s = sbuf_steal(&w);
    i++;
  }
  *out = words;
  *n = i;
  *is_json = true;
  return 0;
}
