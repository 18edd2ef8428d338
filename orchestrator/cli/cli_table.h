/* Tables as `docker compose` prints them: left-aligned columns separated by
 * three spaces (Go's tabwriter with padding 3). */
#ifndef STACK_CLI_TABLE_H
#define STACK_CLI_TABLE_H

#include <stddef.h>
#include <stdio.h>

struct cli_table {
  size_t ncols;
  /* the docker CLI's tables (volume ls, network ls, system df) are Go
   * tabwriters with a minimum cell width of 10, padding included: set it
   * after cli_table_init() for those (0: none, as Compose's own tables) */
  size_t minwidth;
  char **cells; /* row-major, owned */
  size_t nrows;
};

/* A table with the given header row (ncols strings). */
void cli_table_init(struct cli_table *t, size_t ncols, const char *const *header);
/* Adds a row of ncols strings (copied; NULL prints as ""). */
void cli_table_add(struct cli_table *t, const char *const *row);
void cli_table_print(const struct cli_table *t, FILE *f);
void cli_table_free(struct cli_table *t);

#endif
