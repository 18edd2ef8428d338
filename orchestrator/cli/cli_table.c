#include "cli_table.h"

#include <stdlib.h>
#include <string.h>

#include "runtime/util/cleanup.h"
#include "runtime/util/xalloc.h"

void cli_table_init(struct cli_table *t, size_t ncols, const char *const *header) {
  *t = (struct cli_table){.ncols = ncols};
  cli_table_add(t, header);
}

void cli_table_add(struct cli_table *t, const char *const *row) {
  t->cells = xrealloc(t->cells, (t->nrows + 1) * t->ncols * sizeof(char *));
  for (size_t i = 0; i < t->ncols; i++)
    t->cells[t->nrows * t->ncols + i] = xstrdup(row[i] ? row[i] : "");
  t->nrows++;
}

void cli_table_print(const struct cli_table *t, FILE *f) {
  _cleanup_free_ size_t *w = xcalloc(t->ncols, sizeof(size_t));
  for (size_t r = 0; r < t->nrows; r++)
    for (size_t c = 0; c < t->ncols; c++) {
      size_t n = strlen(t->cells[r * t->ncols + c]);
      if (n > w[c])
        w[c] = n;
    }
  for (size_t c = 0; c < t->ncols; c++)
    if (w[c] + 3 < t->minwidth)
      w[c] = t->minwidth - 3;
  for (size_t r = 0; r < t->nrows; r++) {
    for (size_t c = 0; c < t->ncols; c++) {
      const char *s = t->cells[r * t->ncols + c];
      if (c + 1 == t->ncols)
        fprintf(f, "%s\n", s);
      else
        fprintf(f, "%-*s   ", (int)w[c], s);
    }
  }
}

void cli_table_free(struct cli_table *t) {
  for (size_t i = 0; i < t->nrows * t->ncols; i++)
    free(t->cells[i]);
  free(t->cells);
  *t = (struct cli_table){0};
}
