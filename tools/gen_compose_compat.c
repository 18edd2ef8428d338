/* Writes docs/compose-compat.md's key tables from the one table of what
 * stack honours (orchestrator/supervisor/compose_support.c), so that the
 * docs and `up`'s warnings cannot disagree.
 *
 *   gen_compose_compat IN OUT    IN with every generated table rewritten
 *   gen_compose_compat --check IN
 *                                exit 1 when IN's tables are not what the
 *                                table gives (ctest unit.docs_compose_compat)
 *
 * A table is the text between a line "<!-- BEGIN keys SCOPE -->" and the
 * line "<!-- END keys -->"; everything else is prose, copied as it is. */
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "orchestrator/supervisor/compose_support.h"
#include "runtime/util/cleanup.h"
#include "runtime/util/error.h"
#include "runtime/util/fsutil.h"
#include "runtime/util/sbuf.h"

#define BEGIN "<!-- BEGIN keys "
#define END "<!-- END keys -->"

static int scope_named(const char *name, size_t len) {
  for (int s = 0; s < CS_N_SCOPES; s++)
    if (strlen(cs_scope_name(s)) == len && strncmp(cs_scope_name(s), name, len) == 0)
      return s;
  return -1;
}

/* IN's text with its tables generated; NULL (after a message) on bad markers. */
static char *generate(const char *path, const char *in) {
  struct sbuf out = SBUF_INIT;
  unsigned lineno = 0;
  const char *p = in;
  while (*p) {
    const char *nl = strchr(p, '\n');
    size_t len = nl ? (size_t)(nl - p + 1) : strlen(p);
    lineno++;
    sbuf_append(&out, p, len);
    if (strncmp(p, BEGIN, strlen(BEGIN)) == 0) {
      const char *name = p + strlen(BEGIN);
      const char *end = strstr(name, " -->");
      int scope = end && end < p + len ? scope_named(name, (size_t)(end - name)) : -1;
      if (scope < 0) {
        fprintf(stderr, "%s:%u: unknown table: use one of the scopes of compose_support.h\n",
                path, lineno);
        sbuf_free(&out);
        return NULL;
      }
      _cleanup_free_ char *table = cs_doc_table(scope);
      sbuf_puts(&out, table);
      /* skip the old table */
      for (;;) {
        p += len;
        if (*p == '\0') {
          fprintf(stderr, "%s:%u: no \"%s\" after the table\n", path, lineno, END);
          sbuf_free(&out);
          return NULL;
        }
        nl = strchr(p, '\n');
        len = nl ? (size_t)(nl - p + 1) : strlen(p);
        lineno++;
        if (strncmp(p, END, strlen(END)) == 0)
          break;
      }
      sbuf_append(&out, p, len);
    }
    p += len;
  }
  return sbuf_steal(&out);
}

int main(int argc, char **argv) {
  bool check = argc == 3 && strcmp(argv[1], "--check") == 0;
  if (argc != 3) {
    fprintf(stderr, "usage: gen_compose_compat IN OUT | --check IN\n");
    return 2;
  }
  const char *in_path = check ? argv[2] : argv[1];
  _cleanup_error_ struct stack_error *err = NULL;
  _cleanup_free_ char *in = NULL;
  size_t len;
  if (fs_read_file(in_path, 1u << 22, &in, &len, &err) < 0) {
    stack_error_print(err);
    return 1;
  }
  _cleanup_free_ char *out = generate(in_path, in);
  if (out == NULL)
    return 1;
  if (check) {
    if (strcmp(in, out) == 0)
      return 0;
    unsigned line = 1;
    for (size_t i = 0; in[i] && in[i] == out[i]; i++)
      line += in[i] == '\n';
    fprintf(stderr,
            "%s:%u: differs from the table in orchestrator/supervisor/compose_support.c: edit the "
            "table, not the docs' key tables, then run `cmake --build build --target update-docs` "
            "and commit docs/compose-compat.md\n",
            in_path, line);
    return 1;
  }
  if (fs_write_file_atomic(argv[2], out, strlen(out), 0644, &err) < 0) {
    stack_error_print(err);
    return 1;
  }
  return 0;
}
