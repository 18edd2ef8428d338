/* `stack pull [SERVICE...]` (as `docker compose pull`: the images of the
 * Compose project's services), `stack pull IMAGE...` when there is no Compose
 * file (as `docker pull`), and `stack image pull IMAGE...`. */
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "cli_project.h"
#include "orchestrator/compose/compose_load.h"
#include "runtime/image/image_index.h"
#include "runtime/image/registry.h"
#include "runtime/util/cleanup.h"
#include "runtime/util/error.h"
#include "runtime/util/paths.h"

static void pull_usage(FILE *f, const char *verb) {
  fprintf(f,
          "Usage:  stack %s [OPTIONS] %s\n"
          "\n"
          "Pull images from a registry into the local store%s\n"
          "\n"
          "Options:\n"
          "      --platform string   Pull this platform (os/arch[/variant]) of a multi-platform "
          "image\n"
          "  -q, --quiet             Print only the image reference\n"
          "      --ignore-pull-failures  Pull what can be pulled, report the rest\n",
          verb, strcmp(verb, "pull") == 0 ? "[SERVICE...] | IMAGE..." : "IMAGE [IMAGE...]",
          strcmp(verb, "pull") == 0
              ? ": the images of the Compose project's services, or the images named when "
                "there is no Compose file"
              : "");
}

/* Pulls one reference, printing the result; returns 0 or 1. */
static int pull_one(const char *root, const char *ref, const char *platform, bool quiet) {
  _cleanup_error_ struct stack_error *err = NULL;
  struct image_record rec = {0};
  if (registry_pull(root, ref, platform, quiet, &rec, &err) < 0) {
    stack_error_print(err);
    return 1;
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
  return 0;
}

/* The Compose form: each service's image once (services that only build,
 * or whose pull_policy is never/build, are skipped).  *no_project is set
 * when there is no Compose file and none was asked for. */
static int pull_project(struct cli_globals *g, char **services, const char *platform,
                        const char *env_platform, bool quiet, bool ignore_failures,
                        bool *no_project) {
  *no_project = false;
  struct compose_load_opts o = {
      .files = g->files && g->files[0] ? g->files : NULL,
      .env_files = g->env_files && g->env_files[0] ? g->env_files : NULL,
      .profiles = g->profiles && g->profiles[0] ? g->profiles : NULL,
      .project_name = g->project_name,
      .project_dir = g->project_dir,
      .services = services,
      .warn = cli_project_print_load_warning,
      .warn_ud = g->warned,
  };
  _cleanup_compose_project_ struct compose_project *p = NULL;
  _cleanup_error_ struct stack_error *err = NULL;
  int r = compose_load(&o, &p, &err);
  if (r == -ENOENT && o.files == NULL && services && services[0]) {
    /* Unknown services and a missing Compose file both say ENOENT: without
     * the services, only the missing file does. */
    struct compose_load_opts bare = o;
    bare.services = NULL;
    struct cnode *tree = NULL;
    char *dir = NULL;
    _cleanup_error_ struct stack_error *e2 = NULL;
    int r2 = compose_load_tree(&bare, &tree, &dir, &e2);
    if (r2 == 0)
      cnode_free(tree);
    free(dir);
    if (r2 == -ENOENT) {
      *no_project = true;
      return 0;
    }
  }
  if (r < 0) {
    stack_error_print(err);
    return 1;
  }
  for (char **s = services; s && *s; s++) {
    bool found = false;
    for (size_t i = 0; i < p->n_services && !found; i++)
      found = strcmp(p->services[i].name, *s) == 0;
    if (!found) {
      fprintf(stderr, "stack: no such service: %s\n", *s);
      return 1;
    }
  }
  _cleanup_free_ char *root = stack_data_root();
  int rc = 0;
  for (size_t i = 0; i < p->n_services; i++) {
    const struct compose_service *sv = &p->services[i];
    bool wanted = services == NULL || services[0] == NULL;
    for (char **s = services; s && *s && !wanted; s++)
      wanted = strcmp(*s, sv->name) == 0;
    if (!wanted || sv->image == NULL)
      continue;
    if (sv->pull_policy &&
        (strcmp(sv->pull_policy, "never") == 0 || strcmp(sv->pull_policy, "build") == 0))
      continue;
    bool seen = false;
    for (size_t k = 0; k < i && !seen; k++)
      seen = p->services[k].image && strcmp(p->services[k].image, sv->image) == 0 &&
             !(p->services[k].pull_policy && strcmp(p->services[k].pull_policy, "never") == 0);
    if (seen)
      continue;
    if (!quiet)
      fprintf(stderr, "%s Pulling\n", sv->name);
    const char *pl = platform ? platform : sv->platform ? sv->platform : env_platform;
    int one = pull_one(root, sv->image, pl, quiet);
    if (one && !ignore_failures)
      return 1;
    rc |= one;
  }
  return ignore_failures ? 0 : rc;
}

static int pull_main(struct cli_globals *g, const char *verb, int argc, char **argv) {
  static const struct option opts[] = {
      {"platform", required_argument, NULL, 'P'},
      {"quiet", no_argument, NULL, 'q'},
      {"ignore-pull-failures", no_argument, NULL, 'I'},
      {"help", no_argument, NULL, 'h'},
      {NULL, 0, NULL, 0},
  };
  /* --platform, else (Compose) the service's platform:, else
   * DOCKER_DEFAULT_PLATFORM, else the host's. */
  const char *platform = NULL;
  const char *env_platform = getenv("DOCKER_DEFAULT_PLATFORM");
  if (env_platform && !*env_platform)
    env_platform = NULL;
  bool quiet = false, ignore_failures = false;
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
    case 'I':
      ignore_failures = true;
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
  if (g != NULL) {
    bool no_project;
    int rc = pull_project(g, argv + optind, platform, env_platform, quiet, ignore_failures,
                          &no_project);
    if (!no_project)
      return rc;
  }
  if (optind >= argc) {
    fprintf(stderr, "stack %s: requires at least one image reference\n", verb);
    pull_usage(stderr, verb);
    return 2;
  }
  _cleanup_free_ char *root = stack_data_root();
  int rc = 0;
  for (int i = optind; i < argc; i++)
    rc |= pull_one(root, argv[i], platform ? platform : env_platform, quiet);
  return ignore_failures ? 0 : rc;
}

int cli_image_pull(struct cli_globals *g, int argc, char **argv) {
  (void)g;
  return pull_main(NULL, "image pull", argc, argv);
}

int cli_pull(struct cli_globals *g, int argc, char **argv) {
  return pull_main(g, "pull", argc, argv);
}
