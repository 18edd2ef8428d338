#include <stdio.h>

#include "cli.h"

int cli_version(struct cli_globals *g, int argc, char **argv) {
  (void)g;
  (void)argc;
  (void)argv;
  printf("stack version 0.1.0\n");
  return 0;
}
