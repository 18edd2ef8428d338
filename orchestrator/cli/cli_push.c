/* `stack push SRC [DST]` and `stack image push SRC [DST]`: upload a local
 * image to a registry. */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>

#include "cli.h"
#include "runtime/image/registry.h"
#include "runtime/util/cleanup.h"
#include "runtime/util/error.h"
#include "runtime/util/paths.h"

static int push_main(const char *verb, int argc, char **argv) {
  static const struct option opts[] = {
      {"quiet", no_argument, NULL, 'q'},
      {"help", no_argument, NULL, 'h'},
      {NULL, 0, NULL, 0},
  };
  bool quiet = false;
  optind = 1;
  opterr = 0;
  int c;
  while ((c = getopt_long(argc, argv, "+qh", opts, NULL)) != -1) {
    switch (c) {
    case 'q':
      quiet = true;
      break;
    case 'h':
      printf("Usage:  stack %s [-q] IMAGE [DESTINATION]\n\n"
             "Push a local image to a registry, under DESTINATION (a reference) if given\n",
             verb);
      return 0;
    default:
      fprintf(stderr, "stack %s: unknown option %s\n", verb, argv[optind - 1]);
      return 2;
    }
  }
  if (argc - optind < 1 || argc - optind > 2) {
    fprintf(stderr, "Usage:  stack %s [-q] IMAGE [DESTINATION]\n", verb);
    return 2;
  }
  _cleanup_free_ char *root = stack_data_root();
  _cleanup_error_ struct stack_error *err = NULL;
  if (registry_push(root, argv[optind], argc - optind == 2 ? argv[optind + 1] : NULL, quiet,
                    &err) < 0) {
    stack_error_print(err);
    return 1;
  }
  return 0;
}

int cli_push(struct cli_globals *g, int argc, char **argv) {
  (void)g;
  return push_main("push", argc, argv);
}

int cli_image_push(struct cli_globals *g, int argc, char **argv) {
  (void)g;
  return push_main("image push", argc, argv);
}
