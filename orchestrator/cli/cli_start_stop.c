/* `stack start`, `stack stop`, `stack restart`: existing containers,
 * through the project's supervisor. */
#include <cjson/cJSON.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "cli_project.h"
#include "orchestrator/compose/compose_load.h"
#include "orchestrator/compose/compose_model.h"
#include "orchestrator/supervisor/sup_client.h"
#include "orchestrator/supervisor/sup_paths.h"
#include "runtime/util/cleanup.h"
#include "runtime/util/error.h"

static cJSON *services_param(int argc, char **argv, const char *key) {
  cJSON *params = cJSON_CreateObject();
  if (optind < argc) {
    cJSON *a = cJSON_AddArrayToObject(params, key);
    for (int i = optind; i < argc; i++)
      cJSON_AddItemToArray(a, cJSON_CreateString(argv[i]));
  }
  return params;
}

static int call(struct cli_globals *g, const char *method, cJSON *params, bool start,
                const char *done) {
  __attribute__((cleanup(sup_paths_clear))) struct sup_paths paths = {0};
  _cleanup_sup_client_ struct sup_client *client = NULL;
  _cleanup_error_ struct stack_error *err = NULL;
  cJSON *res = NULL;
  if (cli_project_client(g, start, &paths, &client, &err) < 0 ||
      (client && sup_client_call(client, method, params, NULL, NULL, &res, &err) < 0)) {
    if (client == NULL)
      cJSON_Delete(params);
    stack_error_print(err);
    return 1;
  }
  if (client == NULL)
    cJSON_Delete(params);
  const cJSON *c;
  cJSON_ArrayForEach(c, cJSON_GetObjectItem(res, "containers"))
    fprintf(stderr, " Container %s  %s\n", cJSON_GetStringValue(cJSON_GetObjectItem(c, "name")),
            done);
  cJSON_Delete(res);
  return 0;
}

int cli_stop(struct cli_globals *g, int argc, char **argv) {
  static const struct option opts[] = {
      {"timeout", required_argument, NULL, 't'},
      {"help", no_argument, NULL, 'h'},
      {NULL, 0, NULL, 0},
  };
  double timeout = -1;
  int c;
  while ((c = getopt_long(argc, argv, "t:h", opts, NULL)) != -1) {
    if (c == 't') {
      if (cli_parse_timeout(g, "stop", optarg, &timeout) < 0)
        return 1;
    } else {
      fprintf(c == 'h' ? stdout : stderr,
              "Usage:  %s stop [OPTIONS] [SERVICE...]\n\nStop services\n\nOptions:\n"
              "  -t, --timeout int   Specify a shutdown timeout in seconds\n",
              g->progname);
      return c == 'h' ? 0 : 1;
    }
  }
  cJSON *params = services_param(argc, argv, "containers");
  if (timeout >= 0)
    cJSON_AddNumberToObject(params, "timeout", timeout);
  return call(g, "stop", params, false, "Stopped");
}

int cli_start(struct cli_globals *g, int argc, char **argv) {
  static const struct option opts[] = {
      {"help", no_argument, NULL, 'h'},
      {NULL, 0, NULL, 0},
  };
  int c;
  while ((c = getopt_long(argc, argv, "h", opts, NULL)) != -1) {
    fprintf(c == 'h' ? stdout : stderr, "Usage:  %s start [SERVICE...]\n\nStart services\n",
            g->progname);
    return c == 'h' ? 0 : 1;
  }
  cJSON *params = services_param(argc, argv, "services");
  cJSON_AddTrueToObject(params, "start_only");
  cJSON_AddTrueToObject(params, "detach");
  cli_project_load_params(g, params);
  return call(g, "up", params, true, "Started");
}

static bool in_list(cJSON *list, const char *name) {
  const cJSON *x;
  cJSON_ArrayForEach(x, list)
    if (cJSON_IsString(x) && strcmp(x->valuestring, name) == 0)
      return true;
  return false;
}

/* Adds to the named services (params[key]) those that declare
 * `depends_on.<one of them>.restart: true`, transitively: Compose restarts
 * them with their dependency.  With no service named, all are restarted
 * anyway. */
static int add_restart_dependents(const struct cli_globals *g, cJSON *params, const char *key,
                                  struct stack_error **err) {
  cJSON *list = cJSON_GetObjectItem(params, key);
  if (list == NULL)
    return 0;
  struct compose_load_opts o;
  cli_project_load_opts(g, &o);
  _cleanup_compose_project_ struct compose_project *p = NULL;
  int r = compose_load(&o, &p, err);
  if (r < 0)
    return r;
  for (bool grew = true; grew;) {
    grew = false;
    for (size_t i = 0; i < p->n_services; i++) {
      const struct compose_service *svc = &p->services[i];
      if (in_list(list, svc->name))
        continue;
      for (size_t k = 0; k < svc->n_depends_on; k++)
        if (svc->depends_on[k].restart && in_list(list, svc->depends_on[k].service)) {
          cJSON_AddItemToArray(list, cJSON_CreateString(svc->name));
          grew = true;
          break;
        }
    }
  }
  return 0;
}

int cli_restart(struct cli_globals *g, int argc, char **argv) {
  static const struct option opts[] = {
      {"timeout", required_argument, NULL, 't'},
      {"no-deps", no_argument, NULL, 'D'},
      {"help", no_argument, NULL, 'h'},
      {NULL, 0, NULL, 0},
  };
  double timeout = -1;
  bool no_deps = false;
  int c;
  while ((c = getopt_long(argc, argv, "t:h", opts, NULL)) != -1) {
    if (c == 't') {
      if (cli_parse_timeout(g, "restart", optarg, &timeout) < 0)
        return 1;
    } else if (c == 'D') {
      no_deps = true;
    } else {
      fprintf(c == 'h' ? stdout : stderr,
              "Usage:  %s restart [OPTIONS] [SERVICE...]\n\nRestart service containers\n\n"
              "Options:\n"
              "      --no-deps       Don't restart dependent services\n"
              "  -t, --timeout int   Specify a shutdown timeout in seconds\n",
              g->progname);
      return c == 'h' ? 0 : 1;
    }
  }
  cJSON *params = services_param(argc, argv, "containers");
  _cleanup_error_ struct stack_error *err = NULL;
  if (!no_deps && add_restart_dependents(g, params, "containers", &err) < 0) {
    cJSON_Delete(params);
    stack_error_print(err);
    return 1;
  }
  cJSON *services = cJSON_Duplicate(cJSON_GetObjectItem(params, "containers"), true);
  if (timeout >= 0)
    cJSON_AddNumberToObject(params, "timeout", timeout);
  int r = call(g, "stop", params, false, "Stopped");
  if (r != 0) {
    cJSON_Delete(services);
    return r;
  }
  params = cJSON_CreateObject();
  if (services)
    cJSON_AddItemToObject(params, "services", services);
  cJSON_AddTrueToObject(params, "start_only");
  cJSON_AddTrueToObject(params, "detach");
  if (no_deps)
    cJSON_AddTrueToObject(params, "no_deps");
  cli_project_load_params(g, params);
  return call(g, "up", params, true, "Started");
}
