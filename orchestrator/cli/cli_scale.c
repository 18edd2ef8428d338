/* `stack scale SERVICE=N...`: as `docker compose scale`, the services'
 * containers created or removed until each has N, without recreating
 * those that exist, and started (with their dependencies unless
 * --no-deps): what `up -d --no-recreate --scale SERVICE=N SERVICE...`
 * does, so it is that. */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "runtime/util/cleanup.h"
#include "runtime/util/xalloc.h"

static void usage(FILE *f, const char *prog) {
  fprintf(f,
          "Usage:  %s scale [SERVICE=REPLICAS...]\n\n"
          "Scale services\n\n"
          "Options:\n"
          "      --no-deps   Don't start linked services\n",
          prog);
}

int cli_scale(struct cli_globals *g, int argc, char **argv) {
  static const struct option opts[] = {
      {"no-deps", no_argument, NULL, 'D'},
      {"help", no_argument, NULL, 'h'},
      {NULL, 0, NULL, 0},
  };
  bool no_deps = false;
  int c;
  while ((c = getopt_long(argc, argv, "h", opts, NULL)) != -1) {
    if (c == 'D') {
      no_deps = true;
    } else {
      usage(c == 'h' ? stdout : stderr, g->progname);
      return c == 'h' ? 0 : 1;
    }
  }
  if (optind >= argc) {
    fprintf(stderr, "%s scale: requires at least 1 argument: SERVICE=REPLICAS\n\n", g->progname);
    usage(stderr, g->progname);
    return 1;
  }
  int n = argc - optind;
  /* up -d --no-recreate [--no-deps] --scale S=N... S... */
  _cleanup_strv_ char **args = xcalloc((size_t)(4 + 3 * n + 1), sizeof(char *));
  int k = 0;
  args[k++] = xstrdup("up");
  args[k++] = xstrdup("-d");
  args[k++] = xstrdup("--no-recreate");
  if (no_deps)
    args[k++] = xstrdup("--no-deps");
  for (int i = optind; i < argc; i++) {
    const char *eq = strchr(argv[i], '=');
    char *end = NULL;
    long v = eq ? strtol(eq + 1, &end, 10) : -1;
    if (eq == NULL || eq == argv[i] || eq[1] == '\0' || *end || v < 0 || v > 1000) {
      fprintf(stderr, "Invalid scale specifier: %s\n", argv[i]);
      return 1;
    }
    args[k++] = xstrdup("--scale");
    args[k++] = xstrdup(argv[i]);
  }
  for (int i = optind; i < argc; i++)
    args[k++] = xstrndup(argv[i], (size_t)(strchr(argv[i], '=') - argv[i]));
  optind = 0;
  return cli_up(g, k, args);
}
