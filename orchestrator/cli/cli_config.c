/* `stack config`: load, resolve and print the project in canonical form, as
 * `docker compose config` does. */
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "cli_project.h"
#include "orchestrator/compose/compose_emit.h"
#include "orchestrator/compose/compose_load.h"
#include "runtime/util/cleanup.h"
#include "runtime/util/error.h"
#include "runtime/util/fsutil.h"
#include "runtime/util/xalloc.h"

extern char **environ;

static void config_usage(FILE *f) {
  fputs("Usage:  stack config [OPTIONS] [SERVICE...]\n"
        "\n"
        "Parse, resolve and render compose file in canonical format\n"
        "\n"
        "Options:\n"
        "      --format string      Format the output. Values: [yaml | json] (default \"yaml\")\n"
        "      --images             Print the image names, one per line.\n"
        "      --networks           Print the network names, one per line.\n"
        "      --no-consistency     Don't check model consistency - warning: may produce invalid "
        "Compose output\n"
        "      --no-interpolate     Don't interpolate environment variables\n"
        "      --no-normalize       Don't normalize compose model\n"
        "  -o, --output string      Save to file (default to stdout)\n"
        "      --profiles           Print the profile names, one per line.\n"
        "  -q, --quiet              Only validate the configuration, don't print anything\n"
        "      --services           Print the service names, one per line.\n"
        "      --volumes            Print the volume names, one per line.\n"
        "  -h, --help               Show this help\n",
        f);
}

enum listing { LIST_NONE, LIST_SERVICES, LIST_VOLUMES, LIST_NETWORKS, LIST_PROFILES, LIST_IMAGES };

static int cmp_str(const void *a, const void *b) {
  return strcmp(*(char *const *)a, *(char *const *)b);
}

/* Adds s to a sorted-later, duplicate-free list. */
static void add_unique(char ***v, size_t *n, size_t *cap, const char *s) {
  for (size_t i = 0; i < *n; i++)
    if (strcmp((*v)[i], s) == 0)
      return;
  *v = xgrow(*v, cap, *n + 2, sizeof(char *));
  (*v)[(*n)++] = xstrdup(s);
  (*v)[*n] = NULL;
}

static char *listing_text(const struct cnode *tree, enum listing what) {
  _cleanup_strv_ char **v = NULL;
  size_t n = 0, cap = 0;
  const char *project = cnode_map_get_str(tree, "name");
  const struct cnode *services = cnode_map_get(tree, "services");
  const char *section = what == LIST_VOLUMES ? "volumes" : "networks";
  if (what == LIST_VOLUMES || what == LIST_NETWORKS) {
    const struct cnode *top = cnode_map_get(tree, section);
    for (size_t i = 0; top && top->kind == CNODE_MAP && i < top->n; i++)
      add_unique(&v, &n, &cap, top->pairs[i].key->str);
  }
  for (size_t i = 0; services && services->kind == CNODE_MAP && i < services->n; i++) {
    const struct cnode *s = services->pairs[i].value;
    const char *name = services->pairs[i].key->str;
    if (what == LIST_SERVICES) {
      add_unique(&v, &n, &cap, name);
    } else if (what == LIST_IMAGES) {
      const char *image = cnode_map_get_str(s, "image");
      _cleanup_free_ char *dflt = xasprintf("%s-%s", project ? project : "", name);
      add_unique(&v, &n, &cap, image ? image : dflt);
    } else if (what == LIST_PROFILES) {
      const struct cnode *p = cnode_map_get(s, "profiles");
      for (size_t j = 0; p && p->kind == CNODE_SEQ && j < p->n; j++)
        if (p->items[j]->kind == CNODE_SCALAR)
          add_unique(&v, &n, &cap, p->items[j]->str);
    }
  }
  if (n > 1 && what != LIST_IMAGES)
    qsort(v, n, sizeof(char *), cmp_str);
  size_t len = 1;
  for (size_t i = 0; i < n; i++)
    len += strlen(v[i]) + 1;
  char *text = xmalloc(len), *q = text;
  for (size_t i = 0; i < n; i++)
    q += sprintf(q, "%s\n", v[i]);
  *q = '\0';
  return text;
}

/* Keeps only the services named (and what they depend on), as
 * `docker compose config SERVICE...` shows them. */
static int select_services(struct cnode *tree, char **names, struct stack_error **err) {
  struct cnode *services = cnode_map_get(tree, "services");
  if (services == NULL || services->kind != CNODE_MAP || names == NULL || names[0] == NULL)
    return 0;
  _cleanup_free_ unsigned char *keep = xcalloc(services->n + 1, 1);
  for (char **nm = names; *nm; nm++) {
    bool found = false;
    for (size_t i = 0; i < services->n; i++)
      if (strcmp(services->pairs[i].key->str, *nm) == 0)
        keep[i] = 1, found = true;
    if (!found)
      return stack_error_set(err, -ENOENT, "no such service: %s", *nm);
  }
  for (bool changed = true; changed;) {
    changed = false;
    for (size_t i = 0; i < services->n; i++) {
      if (!keep[i])
        continue;
      const struct cnode *deps = cnode_map_get(services->pairs[i].value, "depends_on");
      for (size_t j = 0; deps && deps->kind == CNODE_MAP && j < deps->n; j++)
        for (size_t k = 0; k < services->n; k++)
          if (!keep[k] && strcmp(services->pairs[k].key->str, deps->pairs[j].key->str) == 0)
            keep[k] = 1, changed = true;
    }
  }
  for (size_t i = services->n; i-- > 0;)
    if (!keep[i])
      cnode_map_remove(services, services->pairs[i].key->str);
  return 0;
}

int cli_config(struct cli_globals *g, int argc, char **argv) {
  static const struct option opts[] = {
      {"format", required_argument, NULL, 'F'},  {"images", no_argument, NULL, 'I'},
      {"networks", no_argument, NULL, 'N'},      {"no-interpolate", no_argument, NULL, 'i'},
      {"no-normalize", no_argument, NULL, 'n'},  {"output", required_argument, NULL, 'o'},
      {"profiles", no_argument, NULL, 'P'},      {"quiet", no_argument, NULL, 'q'},
      {"services", no_argument, NULL, 'S'},      {"volumes", no_argument, NULL, 'V'},
      {"no-consistency", no_argument, NULL, 'C'}, {"help", no_argument, NULL, 'h'},
      {NULL, 0, NULL, 0},
  };
  enum compose_emit_format fmt = COMPOSE_EMIT_YAML;
  enum listing listing = LIST_NONE;
  bool quiet = false;
  const char *output = NULL;
  struct compose_load_opts lo = {0};
  int c;
  while ((c = getopt_long(argc, argv, "o:qh", opts, NULL)) != -1) {
    switch (c) {
    case 'F':
      if (strcmp(optarg, "yaml") == 0)
        fmt = COMPOSE_EMIT_YAML;
      else if (strcmp(optarg, "json") == 0)
        fmt = COMPOSE_EMIT_JSON;
      else {
        fprintf(stderr, "stack: unsupported format \"%s\": use yaml or json\n", optarg);
        return 1;
      }
      break;
    case 'I':
      listing = LIST_IMAGES;
      break;
    case 'N':
      listing = LIST_NETWORKS;
      break;
    case 'P':
      listing = LIST_PROFILES;
      break;
    case 'S':
      listing = LIST_SERVICES;
      break;
    case 'V':
      listing = LIST_VOLUMES;
      break;
    case 'i':
      lo.no_interpolate = true;
      break;
    case 'n':
      lo.skip_normalize = true;
      break;
    case 'C':
      lo.no_consistency = true;
      break;
    case 'o':
      output = optarg;
      break;
    case 'q':
      quiet = true;
      break;
    case 'h':
      config_usage(stdout);
      return 0;
    default:
      fputs("See 'stack config --help'.\n", stderr);
      return 1;
    }
  }
  lo.files = g->files;
  lo.env_files = g->env_files;
  lo.profiles = g->profiles;
  lo.project_name = g->project_name;
  lo.project_dir = g->project_dir;
  lo.services = optind < argc ? &argv[optind] : NULL;
  lo.environ = environ;
  lo.warn = cli_project_print_load_warning;
  lo.warn_ud = g->warned;
  /* every profile's services, so that all profile names are listed */
  char *all_profiles[] = {"*", NULL};
  if (listing == LIST_PROFILES)
    lo.profiles = all_profiles;

  _cleanup_error_ struct stack_error *err = NULL;
  _cleanup_cnode_ struct cnode *tree = NULL;
  _cleanup_free_ char *project_dir = NULL;
  if (compose_load_tree(&lo, &tree, &project_dir, &err) < 0 ||
      select_services(tree, lo.services, &err) < 0) {
    stack_error_print(err);
    return 1;
  }
  if (quiet)
    return 0;
  _cleanup_free_ char *text = NULL;
  if (listing != LIST_NONE)
    text = listing_text(tree, listing);
  else if (compose_emit_string(&text, tree, fmt, !lo.no_interpolate, &err) < 0) {
    stack_error_print(err);
    return 1;
  }
  if (output) {
    if (fs_write_file_atomic(output, text, strlen(text), 0644, &err) < 0) {
      stack_error_print(err);
      return 1;
    }
    return 0;
  }
  if (fputs(text, stdout) == EOF || fflush(stdout) != 0) {
    fprintf(stderr, "stack: writing the configuration: %s\n", strerror(errno));
    return 1;
  }
  return 0;
}
