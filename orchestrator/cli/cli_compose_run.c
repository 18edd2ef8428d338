/* `stack run [OPTIONS] SERVICE [COMMAND] [ARGS...]` (Compose's `run`): a
 * one-off container of a service, with the service's configuration and the
 * overrides given here, owned by the project's supervisor (sup_run.c).  Its
 * dependencies come up first through `up` (unless --no-deps); its ports
 * are published only with --service-ports or -p; its output streams here
 * and its exit code is ours.  Input goes as for `stack exec`
 * (cli_exec_input.c): stdin is forwarded, a pty when stdin is a terminal
 * unless -T. */
#include "cli_compose_run.h"

#include <cjson/cJSON.h>
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cli_exec_input.h"
#include "cli_exec_output.h"
#include "cli_project.h"
#include "orchestrator/compose/compose_graph.h"
#include "orchestrator/compose/compose_load.h"
#include "orchestrator/supervisor/naming.h"
#include "orchestrator/supervisor/sup_client.h"
#include "orchestrator/supervisor/sup_paths.h"
#include "runtime/image/image.h"
#include "runtime/util/cleanup.h"
#include "runtime/util/error.h"
#include "runtime/util/paths.h"
#include "runtime/util/xalloc.h"
#include "runtime/vm/container.h"

static void usage(FILE *f, const char *prog) {
  fprintf(f,
          "Usage:  %s run [OPTIONS] SERVICE [COMMAND] [ARGS...]\n\n"
          "Run a one-off command on a service (when SERVICE is a service of the Compose\n"
          "project; else `%s run IMAGE` runs an image, see `%s run --help` outside a project)\n\n"
          "Options:\n"
          "      --cap-add list         Add Linux capabilities\n"
          "      --cap-drop list        Drop Linux capabilities\n"
          "  -d, --detach               Run container in background and print container name\n"
          "      --entrypoint string    Override the entrypoint of the image\n"
          "  -e, --env stringArray      Set environment variables (K=V, or K: its value in the project environment)\n"
          "  -i, --interactive          Keep STDIN open (the default)\n"
          "      --name string          Assign a name to the container\n"
          "      --no-deps              Don't start linked services\n"
          "  -p, --publish stringArray  Publish a container's port(s) to the host\n"
          "      --pull string          Pull image before running (\"always\"|\"missing\"|\"never\") "
          "(default \"policy\")\n"
          "      --quiet-pull           Pull without printing progress information\n"
          "      --rm                   Automatically remove the container when it exits\n"
          "  -P, --service-ports        Run command with all service's ports enabled and mapped "
          "to the host\n"
          "      --use-aliases          Use the service's network useAliases in the network(s) the "
          "container connects to\n"
          "  -T, --no-TTY               Disable pseudo-TTY allocation (default: a pty when STDIN "
          "is a terminal)\n"
          "  -t, --tty                  Allocate a pseudo-TTY (the default when STDIN is a "
          "terminal)\n"
          "  -u, --user string          Run as specified username or uid\n"
          "  -v, --volume stringArray   Bind mount a volume (SOURCE:TARGET[:ro], as in a Compose "
          "file;\n"
          "                             a relative SOURCE is from the current directory)\n"
          "  -w, --workdir string       Working directory inside the container\n",
          prog, prog, prog);
}

/* Options of either form that take a value: the first word that is not
 * an option or such a value is SERVICE or IMAGE. */
static bool takes_value(const char *arg) {
  static const char *const longs[] = {
      "--env",  "--env-file", "--user",    "--workdir", "--entrypoint", "--memory",
      "--cpus", "--name",     "--hostname", "--kernel", "--platform",   "--pull",
      "--ulimit", "--publish", "--label",  "--volume",  "--cap-add", "--cap-drop",
      "--pids-limit", "--security-opt", "--domainname", "--network", "--net", "--dns",
      "--dns-search", "--dns-option", "--dns-opt", "--add-host", NULL,
  };
  if (arg[1] == '-') {
    if (strchr(arg, '='))
      return false;
    for (const char *const *l = longs; *l; l++)
      if (strcmp(arg, *l) == 0)
        return true;
    return false;
  }
  /* a cluster of short flags: the first one that takes a value takes the
   * rest of the word, or the next word */
  for (const char *p = arg + 1; *p; p++)
    if (strchr("euwmplv", *p))
      return p[1] == 0;
  return false;
}

int cli_compose_run_wanted(struct cli_globals *g, int argc, char **argv) {
  int i = 1;
  while (i < argc && argv[i][0] == '-' && argv[i][1] != 0) {
    if (strcmp(argv[i], "--") == 0) {
      i++;
      break;
    }
    i += takes_value(argv[i]) ? 2 : 1;
  }
  if (i >= argc)
    return 0;
  struct compose_load_opts o;
  cli_project_load_opts(g, &o);
  char *services[] = {argv[i], NULL};
  o.services = services; /* a service behind a profile is found when named */
  _cleanup_compose_project_ struct compose_project *p = NULL;
  _cleanup_error_ struct stack_error *err = NULL;
  int r = compose_load(&o, &p, &err);
  if (r == -ENOENT && o.files == NULL) {
    /* perhaps no such service in a project found here: it applies if it
     * loads without naming one */
    o.services = NULL;
    _cleanup_error_ struct stack_error *e2 = NULL;
    if (compose_load(&o, &p, &e2) < 0)
      return 0; /* no project here (or none that loads): images only */
  } else if (r < 0) {
    if (o.files == NULL)
      return 0;
    if (r == -ENOENT && strncmp(err->msg, "no such service: ", 17) == 0) {
      fprintf(stderr, "%s\n", err->msg); /* as Compose words it */
      return -2;
    }
    stack_error_print(err);
    return -1;
  }
  if (compose_project_service(p, argv[i]) == NULL) {
    /* Compose's answer: a project applies here, so NAME is meant as one
     * of its services (the image form stays `stack container run`) */
    fprintf(stderr, "no such service: %s\n", argv[i]);
    return -2;
  }
  return 1;
}

/* The project, its dependency graph, and the services to bring up first:
 * the direct dependencies of svc (`up` adds theirs). */
struct plan {
  struct compose_project *p;
  struct compose_graph *graph;
  char **deps;
};

static void plan_clear(struct plan *pl) {
  compose_graph_free(pl->graph);
  compose_project_free(pl->p);
  strv_free(pl->deps);
}

/* Images come before the supervisor is asked, as with `up`: a pull shows
 * its progress here and the supervisor's loop never waits on a registry. */
static int pull_images(const struct plan *pl, size_t svc, bool with_deps, const char *pull,
                       bool quiet) {
  _cleanup_free_ size_t *order = xcalloc(pl->p->n_services + 1, sizeof(size_t));
  size_t n = 1;
  order[0] = svc;
  if (with_deps)
    n = compose_graph_closure(pl->graph, &svc, 1, order);
  return cli_pull_images(pl->p, order, n, pull, quiet);
}

/* `up -d` of the dependencies, on the run's connection, before the run. */
static int start_deps(struct cli_globals *g, struct sup_client *client, char **deps, bool quiet) {
  cJSON *params = cJSON_CreateObject();
  cJSON *svcs = cJSON_AddArrayToObject(params, "services");
  for (char **d = deps; *d; d++)
    cJSON_AddItemToArray(svcs, cJSON_CreateString(*d));
  cJSON_AddTrueToObject(params, "detach");
  if (quiet)
    cJSON_AddTrueToObject(params, "quiet_pull");
  cli_project_load_params(g, params);
  cJSON *res = NULL;
  _cleanup_error_ struct stack_error *err = NULL;
  if (sup_client_call(client, "up", params, NULL, NULL, &res, &err) < 0) {
    stack_error_print(err);
    return -1;
  }
  const cJSON *c;
  cJSON_ArrayForEach(c, cJSON_GetObjectItem(res, "containers")) {
    const char *st = cJSON_GetStringValue(cJSON_GetObjectItem(c, "status"));
    fprintf(stderr, " Container %s  %s\n", cJSON_GetStringValue(cJSON_GetObjectItem(c, "name")),
            st && strcmp(st, "running") == 0 ? "Running" : "Exited");
  }
  cJSON_Delete(res);
  return 0;
}


/* --entrypoint "a b": split on blanks (no quoting), "" = none. */
static cJSON *split_words(const char *s) {
  cJSON *a = cJSON_CreateArray();
  _cleanup_free_ char *copy = xstrdup(s);
  char *save = NULL;
  for (char *w = strtok_r(copy, " \t\n", &save); w; w = strtok_r(NULL, " \t\n", &save))
    cJSON_AddItemToArray(a, cJSON_CreateString(w));
  return a;
}

static void cjson_freep(cJSON **p) { cJSON_Delete(*p); }

/* -e KEY (no value): KEY's value in the project's environment (the
 * shell's, then --env-file's or .env's), as Compose resolves it; left out
 * when it has none there. */
static void resolve_env(cJSON *env, char *const *project_env) {
  for (cJSON *e = env ? env->child : NULL, *next; e; e = next) {
    next = e->next;
    if (strchr(e->valuestring, '='))
      continue;
    const char *value = NULL;
    size_t n = strlen(e->valuestring);
    for (char *const *p = project_env; p && *p && !value; p++)
      if (strncmp(*p, e->valuestring, n) == 0 && (*p)[n] == '=')
        value = *p + n + 1;
    if (value == NULL) {
      cJSON_Delete(cJSON_DetachItemViaPointer(env, e));
      continue;
    }
    _cleanup_free_ char *kv = xasprintf("%s=%s", e->valuestring, value);
    cJSON_ReplaceItemViaPointer(env, e, cJSON_CreateString(kv));
  }
}

int cli_compose_run(struct cli_globals *g, int argc, char **argv) {
  static const struct option opts[] = {
      {"detach", no_argument, NULL, 'd'},
      {"rm", no_argument, NULL, 'R'},
      {"env", required_argument, NULL, 'e'},
      {"entrypoint", required_argument, NULL, 'E'},
      {"name", required_argument, NULL, 'N'},
      {"no-deps", no_argument, NULL, 'D'},
      {"publish", required_argument, NULL, 'p'},
      {"service-ports", no_argument, NULL, 'P'},
      {"quiet-pull", no_argument, NULL, 'Q'},
      {"pull", required_argument, NULL, 'L'},
      {"cap-add", required_argument, NULL, 'A'},
      {"use-aliases", no_argument, NULL, 'S'},
      {"volume", required_argument, NULL, 'v'},
      {"cap-drop", required_argument, NULL, 'K'},
      {"user", required_argument, NULL, 'u'},
      {"workdir", required_argument, NULL, 'w'},
      {"no-TTY", no_argument, NULL, 'T'},
      {"interactive", no_argument, NULL, 'i'},
      {"tty", no_argument, NULL, 't'},
      {"help", no_argument, NULL, 'h'},
      {NULL, 0, NULL, 0},
  };
  __attribute__((cleanup(cjson_freep))) cJSON *params = cJSON_CreateObject();
  cJSON *env = cJSON_AddArrayToObject(params, "env");
  cJSON *publish = cJSON_AddArrayToObject(params, "publish");
  bool detach = false, no_deps = false, no_tty = false, quiet = false;
  const char *pull = NULL;
  optind = 1;
  opterr = 0;
  int ch;
  /* "+": options end at SERVICE, the command's own flags are its own */
  while ((ch = getopt_long(argc, argv, "+de:p:Pu:v:w:Tith", opts, NULL)) != -1) {
    switch (ch) {
    case 'd': detach = true; break;
    case 'R': cJSON_AddTrueToObject(params, "rm"); break;
    case 'e':
      /* KEY alone: from the project's environment, once it is loaded */
      cJSON_AddItemToArray(env, cJSON_CreateString(optarg));
      break;
    case 'E':
      cJSON_DeleteItemFromObject(params, "entrypoint");
      cJSON_AddItemToObject(params, "entrypoint", split_words(optarg));
      break;
    case 'N': {
      /* checked before a supervisor is started for it */
      _cleanup_error_ struct stack_error *e = NULL;
      if (naming_check("container", optarg, &e) < 0) {
        fprintf(stderr, "%s run: --name: %s\n", g->progname, e->msg);
        return CONTAINER_EXIT_FAILED;
      }
      cJSON_AddStringToObject(params, "name", optarg);
      break;
    }
    case 'D': no_deps = true; break;
    case 'p': cJSON_AddItemToArray(publish, cJSON_CreateString(optarg)); break;
    case 'P': cJSON_AddTrueToObject(params, "service_ports"); break;
    case 'Q': quiet = true; break;
    case 'S': cJSON_AddTrueToObject(params, "use_aliases"); break;
    case 'v': {
      cJSON *list = cJSON_GetObjectItemCaseSensitive(params, "volumes");
      if (list == NULL)
        list = cJSON_AddArrayToObject(params, "volumes");
      cJSON_AddItemToArray(list, cJSON_CreateString(optarg));
      break;
    }
    case 'A':
    case 'K': {
      const char *key = ch == 'A' ? "cap_add" : "cap_drop";
      cJSON *list = cJSON_GetObjectItemCaseSensitive(params, key);
      if (list == NULL)
        list = cJSON_AddArrayToObject(params, key);
      cJSON_AddItemToArray(list, cJSON_CreateString(optarg));
      break;
    }
    case 'L':
      if (!cli_pull_flag_ok(g, "run", optarg))
        return CONTAINER_EXIT_FAILED;
      pull = optarg;
      break;
    case 'u': cJSON_AddStringToObject(params, "user", optarg); break;
    case 'w': cJSON_AddStringToObject(params, "workdir", optarg); break;
    case 'T': no_tty = true; break;
    case 'i':
    case 't':
      break; /* Compose's defaults: interactive, a tty when stdin is one */
    case 'h': usage(stdout, g->progname); return 0;
    default:
      fprintf(stderr, "%s run: unknown option %s\n", g->progname, argv[optind - 1]);
      usage(stderr, g->progname);
      return CONTAINER_EXIT_FAILED;
    }
  }
  if (optind >= argc) {
    usage(stderr, g->progname);
    return CONTAINER_EXIT_FAILED;
  }
  const char *service = argv[optind];

  __attribute__((cleanup(plan_clear))) struct plan pl = {0};
  struct compose_load_opts o;
  cli_project_load_opts(g, &o);
  char *services[] = {(char *)service, NULL};
  o.services = services;
  _cleanup_error_ struct stack_error *err = NULL;
  if (compose_load(&o, &pl.p, &err) < 0 || compose_graph_build(pl.p, &pl.graph, &err) < 0) {
    stack_error_print(err);
    return 1;
  }
  resolve_env(env, pl.p->environment);
  int idx = compose_project_service_index(pl.p, service);
  if (idx < 0) {
    fprintf(stderr, "%s run: no such service: %s\n", g->progname, service);
    return 1;
  }
  const struct compose_service *svc = &pl.p->services[idx];
  pl.deps = xcalloc(svc->n_depends_on + 1, sizeof(char *));
  for (size_t i = 0, n = 0; !no_deps && i < svc->n_depends_on; i++)
    if (compose_project_service(pl.p, svc->depends_on[i].service))
      pl.deps[n++] = xstrdup(svc->depends_on[i].service);
  if (pull_images(&pl, (size_t)idx, !no_deps, pull, quiet) < 0)
    return 1;

  __attribute__((cleanup(sup_paths_clear))) struct sup_paths paths = {0};
  _cleanup_sup_client_ struct sup_client *client = NULL;
  if (cli_project_client(g, true, &paths, &client, &err) < 0) {
    stack_error_print(err);
    return 1;
  }
  if (pl.deps[0] && start_deps(g, client, pl.deps, quiet) < 0)
    return 1;

  unsigned rows = 0, cols = 0;
  bool tty = !detach && cli_exec_want_tty(no_tty, &rows, &cols);
  cJSON_AddStringToObject(params, "service", service);
  if (optind + 1 < argc) {
    cJSON *a = cJSON_AddArrayToObject(params, "argv");
    for (int i = optind + 1; i < argc; i++)
      cJSON_AddItemToArray(a, cJSON_CreateString(argv[i]));
  }
  cJSON_AddBoolToObject(params, "interactive", !detach);
  cJSON_AddBoolToObject(params, "tty", tty);
  cJSON_AddBoolToObject(params, "detach", detach);
  if (rows > 0 && cols > 0) {
    cJSON_AddNumberToObject(params, "rows", rows);
    cJSON_AddNumberToObject(params, "cols", cols);
  }
  cli_project_load_params(g, params);
  if (sup_client_send(client, "run", steal_pointer(&params), &err) < 0) {
    stack_error_print(err);
    return CONTAINER_EXIT_FAILED;
  }
  /* input goes out from other threads while this one reads the replies */
  struct cli_exec_input *in = detach ? NULL : cli_exec_input_start(client, true, tty);
  cJSON *res = NULL;
  int r = sup_client_resume(client, cli_exec_input_event, in, &res, &err);
  if (in)
    cli_exec_input_stop(in);
  if (r < 0) {
    stack_error_print(err);
    return CONTAINER_EXIT_FAILED;
  }
  int code = 0;
  if (detach) {
    printf("%s\n", cJSON_GetStringValue(cJSON_GetObjectItem(res, "name")));
  } else {
    code = (int)cJSON_GetNumberValue(cJSON_GetObjectItem(res, "exit_code"));
    const char *why = cJSON_GetStringValue(cJSON_GetObjectItem(res, "error"));
    if (why)
      fprintf(stderr, "stack: %s\n", why);
  }
  cJSON_Delete(res);
  return code;
}
