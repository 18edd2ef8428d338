/* `stack down`: remove the project's containers and stop its supervisor. */
#include <cjson/cJSON.h>
#include <getopt.h>
#include <stdio.h>
#include <string.h>

#include "cli.h"
#include "cli_project.h"
#include "orchestrator/supervisor/sup_client.h"
#include "orchestrator/supervisor/sup_paths.h"
#include "runtime/util/cleanup.h"
#include "runtime/util/error.h"

static void usage(FILE *f, const char *prog) {
  fprintf(f,
          "Usage:  %s down [OPTIONS]\n\n"
          "Stop and remove containers, networks\n\n"
          "Options:\n"
          "      --remove-orphans    Remove containers for services not defined in the Compose file\n"
          "  -t, --timeout int       Specify a shutdown timeout in seconds\n"
          "  -v, --volumes           Remove named volumes declared in the \"volumes\" section of the Compose file\n",
          prog);
}

int cli_down(struct cli_globals *g, int argc, char **argv) {
  static const struct option opts[] = {
      {"remove-orphans", no_argument, NULL, 'o'},
      {"timeout", required_argument, NULL, 't'},
      {"volumes", no_argument, NULL, 'v'},
      {"help", no_argument, NULL, 'h'},
      {NULL, 0, NULL, 0},
  };
  int c;
  double timeout = -1;
  while ((c = getopt_long(argc, argv, "t:vh", opts, NULL)) != -1) {
    if (c == 't' && cli_parse_timeout(g, "down", optarg, &timeout) < 0)
      return 1;
    if (c == 'h') {
      usage(stdout, g->progname);
      return 0;
    }
    if (c == '?' || c == ':') {
      usage(stderr, g->progname);
      return 1;
    }
  }
  if (optind != argc) {
    fprintf(stderr, "%s down: takes no arguments\n", g->progname);
    return 1;
  }
  __attribute__((cleanup(sup_paths_clear))) struct sup_paths paths = {0};
  _cleanup_sup_client_ struct sup_client *client = NULL;
  _cleanup_error_ struct stack_error *err = NULL;
  cJSON *res = NULL;
  if (cli_project_client(g, false, &paths, &client, &err) < 0)
    goto fail;
  if (client == NULL)
    return 0; /* nothing was ever created */
  cJSON *params = cJSON_CreateObject();
  if (timeout >= 0)
    cJSON_AddNumberToObject(params, "timeout", timeout);
  if (sup_client_call(client, "stop", params, NULL, NULL, &res, &err) < 0)
    goto fail;
  const cJSON *ct;
  cJSON_ArrayForEach(ct, cJSON_GetObjectItem(res, "containers"))
    fprintf(stderr, " Container %s  Stopped\n", cJSON_GetStringValue(cJSON_GetObjectItem(ct, "name")));
  cJSON_Delete(res);
  res = NULL;
  if (sup_client_call(client, "rm", NULL, NULL, NULL, &res, &err) < 0)
    goto fail;
  const cJSON *name;
  cJSON_ArrayForEach(name, cJSON_GetObjectItem(res, "removed"))
    fprintf(stderr, " Container %s  Removed\n", name->valuestring);
  cJSON_Delete(res);
  res = NULL;
  if (sup_client_call(client, "shutdown", NULL, NULL, NULL, &res, &err) < 0)
    goto fail;
  cJSON_Delete(res);
  return 0;
fail:
  stack_error_print(err);
  return 1;
}
