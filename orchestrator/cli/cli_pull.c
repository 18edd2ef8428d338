/* `stack image pull REF...` and `stack pull REF...` (as `docker pull`):
 * pull images from their registries into the store. */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "runtime/image/image_index.h"
#include "runtime/image/registry.h"
#include "runtime/util/cleanup.h"
#include "runtime/util/error.h"
#include "runtime/util/paths.h"

static void pull_usage(FILE *f, const char *verb) {
  fprintf(f,
          "Usage:  stack %s [OPTIONS] IMAGE [IMAGE...]\n"
          "\n"
          "Pull images from a registry into the local store\n"
          "\n"
          "Options:\n"
          "      --platform string   Pull this platform (os/arch[/variant]) of a multi-platform "
          "image\n"
          "  -q, --quiet             Print only the image digest\n",
          verb);
}

static int pull_main(const char *verb, int argc, char **argv) {
  static const struct option opts[] = {
      {"platform", required_argument, NULL, 'P'},
      {"quiet", no_argument, NULL, 'q'},
      {"help", no_argument, NULL, 'h'},
      {NULL, 0, NULL, 0},
  };
  const char *platform = getenv("DOCKER_DEFAULT_PLATFORM");
  if (platform && !*platform)
    platform = NULL;
  bool quiet = false;
  optind = 1;
  opterr = 0;
  int c;
  while ((c = getopt_long(argc, argv, "+qh", opts, NULL)) != -1) {
    switch (c) {
    case 'P':
      platform = optarg;
      break;
    case 'q':
      quiet = true;
      break;
    case 'h':
      pull_usage(stdout, verb);
      return 0;
    default:
      fprintf(stderr, "stack %s: unknown option %s\n", verb, argv[optind - 1]);
      pull_usage(stderr, verb);
      return 2;
    }
  }
  if (optind >= argc) {
    fprintf(stderr, "stack %s: requires at least one image reference\n", verb);
    pull_usage(stderr, verb);
    return 2;
  }
  _cleanup_free_ char *root = stack_data_root();
  int rc = 0;
  for (int i = optind; i < argc; i++) {
    _cleanup_error_ struct stack_error *err = NULL;
    struct image_record rec = {0};
    if (registry_pull(root, argv[i], platform, quiet, &rec, &err) < 0) {
      stack_error_print(err);
      rc = 1;
      continue;
    }
    if (quiet)
      printf("%s\n", rec.ref);
    else
      printf("Digest: %s\nStatus: downloaded %s (%s)\n", rec.manifest_digest, rec.ref,
             rec.platform);
    free(rec.ref);
    free(rec.manifest_digest);
    free(rec.config_digest);
    free(rec.platform);
  }
  return rc;
}

int cli_image_pull(struct cli_globals *g, int argc, char **argv) {
  (void)g;
  return pull_main("image pull", argc, argv);
}

int cli_pull(struct cli_globals *g, int argc, char **argv) {
  (void)g;
  return pull_main("pull", argc, argv);
}
