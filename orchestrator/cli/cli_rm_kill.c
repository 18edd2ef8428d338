/* `stack rm` and `stack kill`: removing stopped containers and signalling
 * running ones, through the project's supervisor. */
#include <cjson/cJSON.h>
#include <getopt.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "cli_args.h"
#include "cli_project.h"
#include "orchestrator/supervisor/sup_client.h"
#include "orchestrator/supervisor/sup_paths.h"
#include "runtime/util/cleanup.h"
#include "runtime/util/error.h"

/* Calls method with the services named after the options, printing
 * " Container NAME  <done>" for each name in result[key]. */
int cli_call_named(struct cli_globals *g, int argc, char **argv, const char *method,
                   cJSON *params, const char *key, const char *done) {
  cli_add_names(params, "containers", argc, argv);
  __attribute__((cleanup(sup_paths_clear))) struct sup_paths paths = {0};
  _cleanup_sup_client_ struct sup_client *client = NULL;
  _cleanup_error_ struct stack_error *err = NULL;
  cJSON *res = NULL;
  if (cli_project_client(g, false, &paths, &client, &err) < 0 || client == NULL) {
    cJSON_Delete(params);
    if (err)
      stack_error_print(err);
    return err ? 1 : 0;
  }
  if (sup_client_call(client, method, params, NULL, NULL, &res, &err) < 0) {
    stack_error_print(err);
    return 1;
  }
  const cJSON *n;
  cJSON_ArrayForEach(n, cJSON_GetObjectItem(res, key))
    fprintf(stderr, " Container %s  %s\n", n->valuestring, done);
  cJSON_Delete(res);
  return 0;
}

int cli_rm(struct cli_globals *g, int argc, char **argv) {
  static const struct option opts[] = {
      {"force", no_argument, NULL, 'f'},
      {"stop", no_argument, NULL, 's'},
      {"volumes", no_argument, NULL, 'v'},
      {"help", no_argument, NULL, 'h'},
      {NULL, 0, NULL, 0},
  };
  bool stop = false;
  int c;
  while ((c = getopt_long(argc, argv, "fsvh", opts, NULL)) != -1) {
    if (c == 's')
      stop = true;
    else if (c == 'h' || c == '?') {
      fprintf(c == 'h' ? stdout : stderr,
              "Usage:  %s rm [OPTIONS] [SERVICE...]\n\nRemoves stopped service containers\n\n"
              "Options:\n"
              "  -f, --force   Don't ask to confirm removal\n"
              "  -s, --stop    Stop the containers, if required, before removing\n",
              g->progname);
      return c == 'h' ? 0 : 1;
    }
  }
  if (stop) {
    int r = cli_call_named(g, argc, argv, "stop", cJSON_CreateObject(), "containers", "Stopped");
    if (r != 0)
      return r;
  }
  return cli_call_named(g, argc, argv, "rm", cJSON_CreateObject(), "removed", "Removed");
}

int cli_kill(struct cli_globals *g, int argc, char **argv) {
  static const struct option opts[] = {
      {"signal", required_argument, NULL, 's'},
      {"remove-orphans", no_argument, NULL, 'o'},
      {"help", no_argument, NULL, 'h'},
      {NULL, 0, NULL, 0},
  };
  int signum = SIGKILL;
  int c;
  while ((c = getopt_long(argc, argv, "s:h", opts, NULL)) != -1) {
    if (c == 's') {
      const char *name = strncasecmp(optarg, "SIG", 3) == 0 ? optarg + 3 : optarg;
      char *end;
      signum = (int)strtol(name, &end, 10);
      if (*end != '\0') {
        signum = 0;
        for (int i = 1; i < 65 && !signum; i++)
          if (sigabbrev_np(i) && strcasecmp(sigabbrev_np(i), name) == 0)
            signum = i;
      }
      if (signum <= 0 || signum > 64) {
        fprintf(stderr, "%s kill: invalid signal \"%s\"\n", g->progname, optarg);
        return 1;
      }
    } else if (c == 'h' || c == '?') {
      fprintf(c == 'h' ? stdout : stderr,
              "Usage:  %s kill [OPTIONS] [SERVICE...]\n\nForce stop service containers\n\n"
              "Options:\n"
              "  -s, --signal string   SIGNAL to send to the container (default \"SIGKILL\")\n",
              g->progname);
      return c == 'h' ? 0 : 1;
    }
  }
  cJSON *params = cJSON_CreateObject();
  cJSON_AddNumberToObject(params, "signal", signum);
  return cli_call_named(g, argc, argv, "kill", params, "killed", "Killed");
}
