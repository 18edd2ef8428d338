#include "cli_args.h"

#include <cjson/cJSON.h>
#include <getopt.h>
#include <stdio.h>

int cli_help_only(const struct cli_globals *g, int argc, char **argv, const char *usage) {
  static const struct option opts[] = {
      {"help", no_argument, NULL, 'h'},
      {NULL, 0, NULL, 0},
  };
  int c = getopt_long(argc, argv, "h", opts, NULL);
  if (c == -1)
    return -1;
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wformat-nonliteral"
  fprintf(c == 'h' ? stdout : stderr, usage, g->progname);
#pragma GCC diagnostic pop
  return c == 'h' ? 0 : 1;
}

void cli_add_names(cJSON *params, const char *key, int argc, char **argv) {
  if (optind >= argc)
    return;
  cJSON *a = cJSON_AddArrayToObject(params, key);
  for (int i = optind; i < argc; i++)
    cJSON_AddItemToArray(a, cJSON_CreateString(argv[i]));
}

bool cli_need_args(const char *prog, int argc, int next, const char *cmd,
                   const char *operands) {
  if (next < argc)
    return true;
  fprintf(stderr, "%s: '%s' requires at least 1 argument\n\nUsage:  %s %s %s\n", prog, cmd, prog,
          cmd, operands);
  return false;
}
