#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "runtime/util/cleanup.h"
#include "runtime/util/xalloc.h"

static void strv_push(char ***v, const char *s) {
  size_t n = 0;
  while (*v && (*v)[n])
    n++;
  *v = xrealloc(*v, (n + 2) * sizeof(char *));
  (*v)[n] = xstrdup(s);
  (*v)[n + 1] = NULL;
}

void cli_usage(FILE *f) {
  fputs("Usage:  stack [OPTIONS] COMMAND\n"
        "\n"
        "Run Compose projects, every service in its own virtual machine\n"
        "\n"
        "Options:\n"
        "      --env-file stringArray       Specify an alternate environment file\n"
        "  -f, --file stringArray           Compose configuration files\n"
        "      --profile stringArray        Specify a profile to enable\n"
        "      --project-directory string   Specify an alternate working directory\n"
        "                                   (default: the path of the, first specified, Compose file)\n"
        "  -p, --project-name string        Project name\n"
        "  -v, --version                    Show the stack version information\n"
        "  -h, --help                       Show this help\n"
        "\n"
        "Commands:\n",
        f);
  for (const struct cli_verb *v = cli_verbs; v->name; v++)
    fprintf(f, "  %-12s %s\n", v->name, v->summary);
  fputs("\nRun 'stack COMMAND --help' for more information on a command.\n", f);
}

static void globals_free(struct cli_globals *g) {
  strv_free(g->files);
  strv_free(g->env_files);
  strv_free(g->profiles);
  free(g->project_name);
  free(g->project_dir);
  if (g->warned)
    strv_free(g->warned->msgs);
}

int stack_cli_main(int argc, char **argv) {
  struct cli_warned warned = {0};
  __attribute__((cleanup(globals_free))) struct cli_globals g = {.warned = &warned};
  const char *slash = strrchr(argv[0], '/');
  g.progname = slash ? slash + 1 : argv[0];

  static const struct option opts[] = {
      {"file", required_argument, NULL, 'f'},
      {"project-name", required_argument, NULL, 'p'},
      {"project-directory", required_argument, NULL, 'D'},
      {"env-file", required_argument, NULL, 'E'},
      {"profile", required_argument, NULL, 'P'},
      {"version", no_argument, NULL, 'v'},
      {"help", no_argument, NULL, 'h'},
      {NULL, 0, NULL, 0},
  };
  opterr = 0;
  int c;
  while ((c = getopt_long(argc, argv, "+f:p:vh", opts, NULL)) != -1) {
    switch (c) {
    case 'f':
      strv_push(&g.files, optarg);
      break;
    case 'p':
      free(g.project_name);
      g.project_name = xstrdup(optarg);
      break;
    case 'D':
      free(g.project_dir);
      g.project_dir = xstrdup(optarg);
      break;
    case 'E':
      strv_push(&g.env_files, optarg);
      break;
    case 'P':
      strv_push(&g.profiles, optarg);
      break;
    case 'v':
      printf("stack version %s\n", STACK_VERSION);
      return 0;
    case 'h':
      cli_usage(stdout);
      return 0;
    default:
      if (optopt)
        fprintf(stderr, "stack: unknown flag or missing value: -%c\n", optopt);
      else
        fprintf(stderr, "stack: unknown flag: %s\n", argv[optind - 1]);
      fputs("See 'stack --help'.\n", stderr);
      return 1;
    }
  }
  if (optind >= argc) {
    cli_usage(stderr);
    return 1;
  }
  const char *verb = argv[optind];
  for (const struct cli_verb *v = cli_verbs; v->name; v++) {
    if (strcmp(v->name, verb) == 0) {
      int vargc = argc - optind;
      char **vargv = argv + optind;
      optind = 0; /* full re-initialisation of getopt for the verb's own flags */
      return v->run(&g, vargc, vargv);
    }
  }
  fprintf(stderr, "stack: unknown command \"%s\"\nSee 'stack --help'.\n", verb);
  return 1;
}
