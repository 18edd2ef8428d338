/* `stack up`: create and start the project's containers through its
 * supervisor; attached, print their output until they all stop (Ctrl-C
 * stops them, a second Ctrl-C kills them). */
#include <cjson/cJSON.h>
#include <errno.h>
#include <getopt.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cli.h"
#include "cli_logfmt.h"
#include "cli_project.h"
#include "orchestrator/compose/compose_graph.h"
#include "orchestrator/compose/compose_load.h"
#include "orchestrator/supervisor/compose_support.h"
#include "orchestrator/supervisor/sup_client.h"
#include "orchestrator/supervisor/sup_paths.h"
#include "orchestrator/supervisor/sup_volumes.h"
#include "runtime/util/cleanup.h"
#include "runtime/image/image.h"
#include "runtime/util/error.h"
#include "runtime/util/paths.h"
#include "runtime/util/xalloc.h"

static volatile int interrupted;
static volatile int timed_out;

static void on_sigint(int sig) {
  if (sig == SIGALRM)
    timed_out = 1;
  interrupted++;
}

static void usage(FILE *f, const char *prog) {
  fprintf(f,
          "Usage:  %s up [OPTIONS] [SERVICE...]\n\n"
          "Create and start containers\n\n"
          "Options:\n"
          "      --abort-on-container-exit     Stops all containers if any container was stopped\n"
          "      --abort-on-container-failure  Stops all containers if any container exited with failure\n"
          "      --attach stringArray  Restrict attaching to the specified services\n"
          "      --attach-dependencies  Automatically attach to log output of dependent services\n"
          "  -d, --detach             Detached mode: Run containers in the background\n"
          "      --exit-code-from string  Return the exit code of the selected service container\n"
          "      --force-recreate     Recreate containers even if their configuration hasn't changed\n"
          "      --no-attach stringArray  Do not attach (stream logs) to the specified services\n"
          "      --no-color           Produce monochrome output\n"
          "      --no-deps            Don't start linked services\n"
          "      --no-log-prefix      Don't print prefix in logs\n"
          "      --no-recreate        If containers already exist, don't recreate them\n"
          "      --no-start           Don't start the services after creating them\n"
          "      --pull string        Pull image before running (\"always\"|\"missing\"|\"never\") (default \"policy\")\n"
          "      --quiet-pull         Pull without printing progress information\n"
          "      --remove-orphans     Remove containers for services not defined in the Compose file\n"
          "      --scale scale        Scale SERVICE to NUM instances (SERVICE=NUM)\n"
          "  -t, --timeout int        Use this timeout in seconds for container shutdown\n"
          "      --timestamps         Show timestamps\n"
          "      --wait               Wait for services to be running|healthy. Implies detached mode.\n"
          "      --wait-timeout int   Maximum duration in seconds to wait for the project to be running|healthy\n"
          "  -V, --renew-anon-volumes Recreate anonymous volumes instead of retrieving data from the previous containers\n"
          "  -y, --yes                Assume \"yes\" as answer to all prompts and run non-interactively\n",
          prog);
}

struct up_ctx {
  struct cli_logfmt fmt;
  const struct sup_paths *paths;
  bool abort_on_exit, abort_on_failure;
  const char *exit_code_from; /* a service, or NULL */
  bool aborting;
  int exit_code;
  double timeout;
  struct sup_client *stopper; /* the stop asked for, whose end up waits for */
};

static void stop_all(struct up_ctx *u, bool kill);

static int on_event(const cJSON *ev, void *data) {
  struct up_ctx *u = data;
  const char *type = cJSON_GetStringValue(cJSON_GetObjectItem(ev, "type"));
  if (type && strcmp(type, "attach") == 0) {
    const cJSON *n;
    fputs("Attaching to ", u->fmt.out);
    int i = 0;
    cJSON_ArrayForEach(n, cJSON_GetObjectItem(ev, "names")) {
      cli_logfmt_add(&u->fmt, n->valuestring);
      fprintf(u->fmt.out, "%s%s", i++ ? ", " : "", n->valuestring);
    }
    fputc('\n', u->fmt.out);
    fflush(u->fmt.out);
    return 0;
  }
  if (type && strcmp(type, "warning") == 0)
    return cli_project_print_warning(ev, NULL);
  cli_logfmt_event(&u->fmt, ev);
  if (type && strcmp(type, "exit") == 0) {
    int code = (int)cJSON_GetNumberValue(cJSON_GetObjectItem(ev, "exit_code"));
    const char *svc = cJSON_GetStringValue(cJSON_GetObjectItem(ev, "service"));
    if (u->exit_code_from && svc && strcmp(svc, u->exit_code_from) == 0)
      u->exit_code = code;
    bool abort = u->abort_on_exit || (u->abort_on_failure && code != 0);
    if (abort && !u->aborting) {
      u->aborting = true;
      if (!u->exit_code_from)
        u->exit_code = code;
      fputs("Aborting on container exit...\n", stderr);
      stop_all(u, false);
    }
  }
  return 0;
}

/* Ctrl-C or an abort while attached: ask for a stop (or, the second
 * time, a kill) of the whole project on a second connection, without
 * waiting: the first one goes on printing until the attached containers
 * are down, then wait_stopped() waits for the rest. */
static void stop_all(struct up_ctx *u, bool kill) {
  _cleanup_sup_client_ struct sup_client *c = NULL;
  _cleanup_error_ struct stack_error *err = NULL;
  cJSON *params = cJSON_CreateObject();
  if (kill || u->timeout >= 0)
    cJSON_AddNumberToObject(params, "timeout", kill ? 0 : u->timeout);
  if (sup_client_connect(u->paths, &c, &err) < 0 || sup_client_send(c, "stop", params, &err) < 0) {
    stack_error_print(err);
    if (c == NULL)
      cJSON_Delete(params);
    return;
  }
  sup_client_free(u->stopper); /* a kill after a stop: that stop goes on */
  sup_client_set_interrupt(c, &interrupted); /* Ctrl-C ends the wait, not the stop */
  u->stopper = steal_pointer(&c);
}

/* Waits for the stop that stop_all() asked for: the containers up did not
 * attach to (dependencies, --no-attach) may still be stopping. */
static void wait_stopped(struct up_ctx *u) {
  if (u->stopper == NULL)
    return;
  cJSON *res = NULL;
  _cleanup_error_ struct stack_error *err = NULL;
  if (sup_client_resume(u->stopper, NULL, NULL, &res, &err) < 0 && err->code != -EINTR)
    stack_error_print(err);
  cJSON_Delete(res);
  sup_client_free(steal_pointer(&u->stopper));
}

/* One warning per project, network, volume, secret, config and service
 * that sets keys stack does not honour (compose_support.h), naming each with
 * its reason: nothing is dropped silently. */
static void warn_unhonoured(const struct compose_project *p, const size_t *order, size_t n) {
  static const char *const what = "not supported by stack's VM runtime, ignored";
  _cleanup_free_ char *top = cs_unhonoured(CS_TOP, p->tree);
  if (top)
    fprintf(stderr, "WARN: project %s: %s: %s\n", p->name, what, top);
  static const struct {
    const char *section, *noun;
    enum cs_scope scope;
  } sections[] = {{"networks", "network", CS_NETWORK},
                  {"volumes", "volume", CS_VOLUME},
                  {"secrets", "secret", CS_SECRET},
                  {"configs", "config", CS_CONFIG}};
  for (size_t i = 0; i < sizeof(sections) / sizeof(sections[0]); i++) {
    const struct cnode *sec = cnode_map_get(p->tree, sections[i].section);
    for (size_t j = 0; sec && sec->kind == CNODE_MAP && j < sec->n; j++) {
      _cleanup_free_ char *keys = cs_unhonoured(sections[i].scope, sec->pairs[j].value);
      if (keys)
        fprintf(stderr, "WARN: %s %s: %s: %s\n", sections[i].noun, sec->pairs[j].key->str, what,
                keys);
    }
  }
  for (size_t k = 0; k < n; k++) {
    const struct compose_service *sv = &p->services[order[k]];
    _cleanup_free_ char *keys = cs_unhonoured(CS_SERVICE, sv->node);
    if (keys)
      fprintf(stderr, "WARN: service %s: %s: %s\n", sv->name, what, keys);
  }
}

/* The volumes `up` recreates because their definition changed, and the
 * services whose containers use them (removed first, as Compose does). */
struct diverged {
  char **volumes;
  char **services;
};

static void diverged_clear(struct diverged *d) {
  strv_free(d->volumes);
  strv_free(d->services);
}

static bool ask(const char *question, bool yes) {
  fprintf(stderr, "%s [y/N] ", question);
  if (yes) {
    fputs("y\n", stderr);
    return true;
  }
  char line[64];
  if (!isatty(0) || fgets(line, sizeof(line), stdin) == NULL) {
    fputs("\n", stderr);
    return false;
  }
  return line[0] == 'y' || line[0] == 'Y';
}

static void strv_push(char ***v, const char *s) {
  size_t n = 0;
  while (*v && (*v)[n])
    n++;
  for (size_t i = 0; i < n; i++)
    if (strcmp((*v)[i], s) == 0)
      return;
  *v = xrealloc(*v, (n + 2) * sizeof(char *));
  (*v)[n] = xstrdup(s);
  (*v)[n + 1] = NULL;
}

/* A volume whose definition (driver, options, labels) changed since it was
 * made: asked, as Compose asks, whether to recreate it (-y: yes; no answer
 * without a terminal: no, the volume is used as it is). */
static int check_volumes(const struct compose_project *p, bool yes, struct diverged *d) {
  _cleanup_strv_ char **names = NULL;
  _cleanup_error_ struct stack_error *err = NULL;
  if (sup_volumes_diverged(p, &names, &err) < 0) {
    stack_error_print(err);
    return -1;
  }
  for (char **n = names; n && *n; n++) {
    _cleanup_free_ char *q = xasprintf("Volume \"%s\" exists but doesn't match configuration in "
                                       "compose file. Recreate (data will be lost)?", *n);
    if (!ask(q, yes))
      continue;
    strv_push(&d->volumes, *n);
    for (size_t i = 0; i < p->n_services; i++)
      for (size_t k = 0; k < p->services[i].n_volumes; k++) {
        const struct compose_mount *m = &p->services[i].volumes[k];
        const struct compose_volume *v = NULL;
        for (size_t j = 0; m->source && j < p->n_volumes && !v; j++)
          if (strcmp(p->volumes[j].key, m->source) == 0)
            v = &p->volumes[j];
        if (strcmp(m->type, "volume") == 0 && v && strcmp(v->name ? v->name : v->key, *n) == 0)
          strv_push(&d->services, p->services[i].name);
      }
  }
  return 0;
}

/* Removes the containers of the diverged volumes' services, then the
 * volumes: up makes both again. */
static int recreate_volumes(struct sup_client *client, const struct diverged *d, double timeout) {
  _cleanup_error_ struct stack_error *err = NULL;
  cJSON *res = NULL;
  if (d->services) {
    if (sup_client_call(client, "ps", NULL, NULL, NULL, &res, &err) < 0)
      goto fail;
    cJSON *names = cJSON_CreateArray();
    const cJSON *ct;
    cJSON_ArrayForEach(ct, cJSON_GetObjectItem(res, "containers")) {
      const char *svc = cJSON_GetStringValue(cJSON_GetObjectItem(ct, "service"));
      for (char **s = d->services; svc && *s; s++)
        if (strcmp(*s, svc) == 0)
          cJSON_AddItemToArray(names, cJSON_CreateString(
                                          cJSON_GetStringValue(cJSON_GetObjectItem(ct, "name"))));
    }
    cJSON_Delete(res);
    res = NULL;
    if (cJSON_GetArraySize(names) > 0) {
      cJSON *params = cJSON_CreateObject();
      cJSON_AddItemToObject(params, "containers", cJSON_Duplicate(names, true));
      if (timeout >= 0)
        cJSON_AddNumberToObject(params, "timeout", timeout);
      if (sup_client_call(client, "stop", params, NULL, NULL, &res, &err) < 0) {
        cJSON_Delete(names);
        goto fail;
      }
      cJSON_Delete(res);
      res = NULL;
      params = cJSON_CreateObject();
      cJSON_AddItemToObject(params, "containers", cJSON_Duplicate(names, true));
      if (sup_client_call(client, "rm", params, NULL, NULL, &res, &err) < 0) {
        cJSON_Delete(names);
        goto fail;
      }
      cJSON_Delete(res);
      res = NULL;
    }
    cJSON_Delete(names);
  }
  for (char **v = d->volumes; v && *v; v++) {
    if (sup_volume_remove(*v, &err) < 0)
      goto fail;
    fprintf(stderr, " Volume %s  Removed\n", *v);
  }
  return 0;
fail:
  stack_error_print(err);
  return -1;
}

/* Images come before the supervisor is asked: a pull shows its progress
 * here, and the supervisor's loop never waits on a registry.  The services
 * named and what they depend on, as --pull (pull, the default "policy":
 * each service's pull_policy) says: by default only what is missing. */
static int pull_images(struct cli_globals *g, char **services, const char *pull, bool quiet,
                       bool yes, struct diverged *d, cJSON *params) {
  struct compose_load_opts o;
  cli_project_load_opts(g, &o);
  o.services = services;
  _cleanup_compose_project_ struct compose_project *p = NULL;
  _cleanup_compose_graph_ struct compose_graph *graph = NULL;
  _cleanup_error_ struct stack_error *err = NULL;
  if (compose_load(&o, &p, &err) < 0 || compose_graph_build(p, &graph, &err) < 0) {
    stack_error_print(err);
    return -1;
  }
  _cleanup_free_ size_t *want = calloc(p->n_services + 1, sizeof(size_t));
  _cleanup_free_ size_t *order = calloc(p->n_services + 1, sizeof(size_t));
  if (want == NULL || order == NULL)
    abort();
  size_t n_want = 0;
  for (size_t i = 0; i < p->n_services; i++) {
    bool named = services == NULL;
    for (char **sv = services; sv && *sv; sv++)
      named |= strcmp(*sv, p->services[i].name) == 0;
    if (named)
      want[n_want++] = i;
  }
  size_t n = compose_graph_closure(graph, want, n_want, order);
  warn_unhonoured(p, order, n);
  if (cli_pull_images(p, order, n, pull, quiet) < 0 || check_volumes(p, yes, d) < 0)
    return -1;
  cli_project_model_param(p, params);
  return 0;
}

static void print_progress(const cJSON *res) {
  const cJSON *c;
  cJSON_ArrayForEach(c, cJSON_GetObjectItem(res, "containers")) {
    const char *st = cJSON_GetStringValue(cJSON_GetObjectItem(c, "status"));
    fprintf(stderr, " Container %s  %s\n", cJSON_GetStringValue(cJSON_GetObjectItem(c, "name")),
            st && strcmp(st, "running") == 0   ? "Started"
            : st && strcmp(st, "created") == 0 ? "Created"
                                               : "Exited");
  }
}

int cli_up(struct cli_globals *g, int argc, char **argv) {
  static const struct option opts[] = {
      {"detach", no_argument, NULL, 'd'},
      {"force-recreate", no_argument, NULL, 'F'},
      {"no-recreate", no_argument, NULL, 'R'},
      {"no-start", no_argument, NULL, 'S'},
      {"no-deps", no_argument, NULL, 'D'},
      {"remove-orphans", no_argument, NULL, 'O'},
      {"no-color", no_argument, NULL, 'C'},
      {"no-log-prefix", no_argument, NULL, 'P'},
      {"quiet-pull", no_argument, NULL, 'Q'},
      {"scale", required_argument, NULL, 's'},
      {"timeout", required_argument, NULL, 't'},
      {"abort-on-container-exit", no_argument, NULL, 'A'},
      {"abort-on-container-failure", no_argument, NULL, 'B'},
      {"exit-code-from", required_argument, NULL, 'X'},
      {"wait", no_argument, NULL, 'W'},
      {"wait-timeout", required_argument, NULL, 'T'},
      {"attach", required_argument, NULL, 'a'},
      {"no-attach", required_argument, NULL, 'N'},
      {"attach-dependencies", no_argument, NULL, 'e'},
      {"pull", required_argument, NULL, 'p'},
      {"timestamps", no_argument, NULL, 'm'},
      {"renew-anon-volumes", no_argument, NULL, 'V'},
      {"yes", no_argument, NULL, 'y'},
      {"help", no_argument, NULL, 'h'},
      {NULL, 0, NULL, 0},
  };
  cJSON *params = cJSON_CreateObject();
  cJSON *attach = NULL, *no_attach = NULL;
  const char *pull = NULL;
  bool timestamps = false, attach_deps = false;
  cJSON *scale = cJSON_AddObjectToObject(params, "scale");
  bool detach = false, color = isatty(1), prefix = true;
  double timeout = -1;
  struct up_ctx u = {0};
  bool wait = false, yes = false;
  long wait_timeout = 0;
  __attribute__((cleanup(diverged_clear))) struct diverged diverged = {0};
  int c;
  while ((c = getopt_long(argc, argv, "dt:hVy", opts, NULL)) != -1) {
    switch (c) {
    case 'V':
      cJSON_AddTrueToObject(params, "renew_anon_volumes");
      break;
    case 'y':
      yes = true;
      break;
    case 'd':
      detach = true;
      break;
    case 'F':
      cJSON_AddTrueToObject(params, "force_recreate");
      break;
    case 'R':
      cJSON_AddTrueToObject(params, "no_recreate");
      break;
    case 'S':
      cJSON_AddTrueToObject(params, "no_start");
      break;
    case 'D':
      cJSON_AddTrueToObject(params, "no_deps");
      break;
    case 'Q':
      cJSON_AddTrueToObject(params, "quiet_pull");
      break;
    case 'O':
      cJSON_AddTrueToObject(params, "remove_orphans");
      break;
    case 'C':
      color = false;
      break;
    case 'P':
      prefix = false;
      break;
    case 't':
      if (cli_parse_timeout(g, "up", optarg, &timeout) < 0) {
        cJSON_Delete(params);
        return 1;
      }
      break;
    case 's': {
      char *eq = strchr(optarg, '=');
      char *end = NULL;
      long n = eq ? strtol(eq + 1, &end, 10) : -1;
      if (eq == NULL || eq == optarg || *end || n < 0 || n > 1000) {
        fprintf(stderr, "%s up: invalid --scale \"%s\": use SERVICE=NUM\n", g->progname, optarg);
        cJSON_Delete(params);
        return 1;
      }
      *eq = '\0';
      cJSON_AddNumberToObject(scale, optarg, (double)n);
      *eq = '=';
      break;
    }
    case 'A':
      u.abort_on_exit = true;
      break;
    case 'B':
      u.abort_on_failure = true;
      break;
    case 'X':
      u.exit_code_from = optarg;
      u.abort_on_exit = true;
      break;
    case 'W':
      wait = detach = true;
      break;
    case 'T': {
      char *end;
      wait_timeout = strtol(optarg, &end, 10);
      if (*end || wait_timeout <= 0 || wait_timeout > 86400) {
        fprintf(stderr, "%s up: invalid --wait-timeout \"%s\": give seconds\n", g->progname,
                optarg);
        cJSON_Delete(params);
        return 1;
      }
      wait = detach = true;
      break;
    }
    case 'a':
      if (attach == NULL)
        attach = cJSON_AddArrayToObject(params, "attach");
      cJSON_AddItemToArray(attach, cJSON_CreateString(optarg));
      break;
    case 'N':
      if (no_attach == NULL)
        no_attach = cJSON_AddArrayToObject(params, "no_attach");
      cJSON_AddItemToArray(no_attach, cJSON_CreateString(optarg));
      break;
    case 'e':
      attach_deps = true;
      cJSON_AddTrueToObject(params, "attach_dependencies");
      break;
    case 'p':
      if (!cli_pull_flag_ok(g, "up", optarg)) {
        cJSON_Delete(params);
        return 1;
      }
      pull = optarg;
      break;
    case 'm':
      timestamps = true;
      break;
    case 'h':
      usage(stdout, g->progname);
      cJSON_Delete(params);
      return 0;
    default:
      usage(stderr, g->progname);
      cJSON_Delete(params);
      return 1;
    }
  }
  if (optind < argc) {
    cJSON *svcs = cJSON_AddArrayToObject(params, "services");
    for (int i = optind; i < argc; i++)
      cJSON_AddItemToArray(svcs, cJSON_CreateString(argv[i]));
  }
  if (detach && (u.abort_on_exit || u.abort_on_failure || attach || attach_deps)) {
    fprintf(stderr, "%s up: --abort-on-container-exit, --abort-on-container-failure, "
                    "--exit-code-from, --attach and --attach-dependencies need attached mode: "
                    "drop -d/--wait\n", g->progname);
    cJSON_Delete(params);
    return 1;
  }
  if (attach && attach_deps) {
    fprintf(stderr, "%s up: cannot combine --attach and --attach-dependencies\n", g->progname);
    cJSON_Delete(params);
    return 1;
  }
  if (u.exit_code_from)
    cJSON_AddStringToObject(params, "exit_code_from", u.exit_code_from);
  if (detach)
    cJSON_AddTrueToObject(params, "detach");
  if (wait)
    cJSON_AddTrueToObject(params, "wait");
  if (timeout >= 0) /* the grace period of containers up recreates */
    cJSON_AddNumberToObject(params, "timeout", timeout);
  cli_project_load_params(g, params);
  if (pull_images(g, optind < argc ? argv + optind : NULL, pull,
                  cJSON_IsTrue(cJSON_GetObjectItem(params, "quiet_pull")), yes, &diverged,
                  params) < 0) {
    cJSON_Delete(params);
    return 1;
  }

  __attribute__((cleanup(sup_paths_clear))) struct sup_paths paths = {0};
  _cleanup_sup_client_ struct sup_client *client = NULL;
  _cleanup_error_ struct stack_error *err = NULL;
  if (cli_project_client(g, true, &paths, &client, &err) < 0) {
    cJSON_Delete(params);
    stack_error_print(err);
    return 1;
  }
  if ((diverged.volumes || diverged.services) && recreate_volumes(client, &diverged, timeout) < 0) {
    cJSON_Delete(params);
    return 1;
  }
  cli_logfmt_init(&u.fmt, paths.project, color, prefix, timestamps);
  u.paths = &paths;
  u.timeout = timeout;
  struct sigaction sa = {.sa_handler = on_sigint}; /* no SA_RESTART: reads return EINTR */
  sigemptyset(&sa.sa_mask);
  if (!detach) {
    sigaction(SIGINT, &sa, NULL);
    sigaction(SIGTERM, &sa, NULL);
    sup_client_set_interrupt(client, &interrupted);
  } else if (wait_timeout > 0) {
    sigaction(SIGALRM, &sa, NULL);
    sup_client_set_interrupt(client, &interrupted);
    alarm((unsigned)wait_timeout);
  }
  cJSON *res = NULL;
  int r = sup_client_call(client, "up", params, on_event, &u, &res, &err);
  int handled = 0;
  if (r == -EINTR && timed_out) {
    /* what is up stays up, as with Compose */
    fprintf(stderr, "stack: application not healthy after %lds\n", wait_timeout);
    cli_logfmt_free(&u.fmt);
    return 1;
  }
  while (r == -EINTR) {
    /* the first Ctrl-C stops, any later one kills */
    bool kill = handled++ > 0 || interrupted > 1;
    interrupted = 0;
    fputs(kill ? "Killing...\n" : "Gracefully stopping... (press Ctrl+C again to force)\n",
          stderr);
    stop_all(&u, kill);
    r = sup_client_resume(client, on_event, &u, &res, &err);
  }
  if (r == 0)
    wait_stopped(&u);
  sup_client_free(steal_pointer(&u.stopper));
  cli_logfmt_free(&u.fmt);
  if (r < 0) {
    stack_error_print(err);
    return 1;
  }
  if (detach)
    print_progress(res);
  cJSON_Delete(res);
  return u.aborting || u.exit_code_from ? u.exit_code : 0;
}

int cli_create(struct cli_globals *g, int argc, char **argv) {
  /* `create` is `up --no-start` (Compose's own definition) */
  char **v = calloc((size_t)argc + 2, sizeof(char *));
  if (v == NULL)
    abort();
  v[0] = argv[0];
  v[1] = "--no-start";
  for (int i = 1; i < argc; i++)
    v[i + 1] = argv[i];
  int r = cli_up(g, argc + 1, v);
  free(v);
  return r;
}
