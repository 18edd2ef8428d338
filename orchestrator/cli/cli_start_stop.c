/* `stack start`, `stack stop`, `stack restart`: existing containers,
 * through the project's supervisor. */
#include <cjson/cJSON.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "cli_project.h"
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

/* Calls method; prints " Container NAME  <done>" for each container of
 * the answer (and hands the answer out when out is not NULL). */
static int call(struct cli_globals *g, const char *method, cJSON *params, bool start,
                const char *done, cJSON **out) {
  __attribute__((cleanup(sup_paths_clear))) struct sup_paths paths = {0};
  _cleanup_sup_client_ struct sup_client *client = NULL;
  _cleanup_error_ struct stack_error *err = NULL;
  cJSON *res = NULL;
  if (cli_project_client(g, start, &paths, &client, &err) < 0 ||
      (client && sup_client_call(client, method, params, cli_project_print_warning, NULL, &res,
                                 &err) < 0)) {
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
  if (out)
    *out = res;
  else
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
  cJSON_AddTrueToObject(params, "exclude_one_off"); /* `run` containers are left alone */
  return call(g, "stop", params, false, "Stopped", NULL);
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
  cli_project_existing_params(g, params);
  return call(g, "up", params, true, "Started", NULL);
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
  /* Compose's restart: the services named (all by default) and those
   * that declare depends_on.<one of them>.restart: true, unless --no-deps;
   * never their dependencies, never one-off containers. */
  cJSON *params = services_param(argc, argv, "containers");
  if (timeout >= 0)
    cJSON_AddNumberToObject(params, "timeout", timeout);
  cJSON_AddTrueToObject(params, "exclude_one_off");
  if (!no_deps)
    cJSON_AddTrueToObject(params, "restart_dependents");
  cJSON *res = NULL;
  int r = call(g, "stop", params, false, "Restarting", &res);
  if (r != 0)
    return r;
  params = cJSON_CreateObject();
  cJSON *services = cJSON_AddArrayToObject(params, "services");
  const cJSON *ct;
  cJSON_ArrayForEach(ct, cJSON_GetObjectItem(res, "containers")) {
    const cJSON *svc = cJSON_GetObjectItem(ct, "service");
    bool seen = !cJSON_IsString(svc);
    const cJSON *x;
    cJSON_ArrayForEach(x, services) seen |= !seen && strcmp(x->valuestring, svc->valuestring) == 0;
    if (!seen)
      cJSON_AddItemToArray(services, cJSON_CreateString(svc->valuestring));
  }
  cJSON_Delete(res);
  if (cJSON_GetArraySize(services) == 0) {
    cJSON_Delete(params);
    return 0; /* nothing to restart */
  }
  cJSON_AddTrueToObject(params, "start_only");
  cJSON_AddTrueToObject(params, "detach");
  cJSON_AddTrueToObject(params, "no_deps");
  cli_project_existing_params(g, params);
  return call(g, "up", params, true, "Started", NULL);
}
