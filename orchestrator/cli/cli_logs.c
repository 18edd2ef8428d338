/* `stack logs`: the output of the project's containers, kept on disk by
 * its supervisor; -f follows. */
#include <cjson/cJSON.h>
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "cli.h"
#include "cli_logfmt.h"
#include "cli_logtime.h"
#include "cli_project.h"
#include "orchestrator/supervisor/sup_client.h"
#include "orchestrator/supervisor/sup_paths.h"
#include "runtime/util/cleanup.h"
#include "runtime/util/error.h"

static void usage(FILE *f, const char *prog) {
  fprintf(f,
          "Usage:  %s logs [OPTIONS] [SERVICE...]\n\n"
          "View output from containers\n\n"
          "Options:\n"
          "  -f, --follow          Follow log output\n"
          "      --no-color        Produce monochrome output\n"
          "      --no-log-prefix   Don't print prefix in logs\n"
          "      --since string    Show logs since timestamp (e.g. 2013-01-02T13:23:37Z) or relative (e.g. 42m for 42 minutes)\n"
          "  -n, --tail string     Number of lines to show from the end of the logs for each container (default \"all\")\n"
          "  -t, --timestamps      Show timestamps\n"
          "      --until string    Show logs before a timestamp (e.g. 2013-01-02T13:23:37Z) or relative (e.g. 42m for 42 minutes)\n",
          prog);
}

static int on_event(const cJSON *ev, void *data) {
  cli_logfmt_event(data, ev);
  return 0;
}

int cli_logs(struct cli_globals *g, int argc, char **argv) {
  static const struct option opts[] = {
      {"follow", no_argument, NULL, 'f'},     {"no-color", no_argument, NULL, 'C'},
      {"no-log-prefix", no_argument, NULL, 'P'}, {"tail", required_argument, NULL, 'n'},
      {"timestamps", no_argument, NULL, 't'}, {"help", no_argument, NULL, 'h'},
      {"since", required_argument, NULL, 'S'}, {"until", required_argument, NULL, 'U'},
      {NULL, 0, NULL, 0},
  };
  bool follow = false, color = isatty(1), prefix = true, timestamps = false;
  long tail = -1;
  int64_t since = -1, until = -1;
  struct timespec now;
  clock_gettime(CLOCK_REALTIME, &now);
  int64_t now_ms = (int64_t)now.tv_sec * 1000 + now.tv_nsec / 1000000;
  int c;
  while ((c = getopt_long(argc, argv, "fn:th", opts, NULL)) != -1) {
    switch (c) {
    case 'f':
      follow = true;
      break;
    case 'C':
      color = false;
      break;
    case 'P':
      prefix = false;
      break;
    case 't':
      timestamps = true;
      break;
    case 'n':
      if (strcmp(optarg, "all") != 0) {
        char *end;
        tail = strtol(optarg, &end, 10);
        if (*end || tail < 0) {
          fprintf(stderr, "%s logs: invalid --tail \"%s\": a number or \"all\"\n", g->progname,
                  optarg);
          return 1;
        }
      }
      break;
    case 'S':
    case 'U':
      if (cli_log_time_parse(optarg, now_ms, c == 'S' ? &since : &until) < 0) {
        fprintf(stderr,
                "%s logs: invalid --%s \"%s\": a time (2013-01-02T13:23:37Z, a Unix "
                "timestamp) or a duration before now (42m, 1h30m)\n",
                g->progname, c == 'S' ? "since" : "until", optarg);
        return 1;
      }
      break;
    case 'h':
      usage(stdout, g->progname);
      return 0;
    default:
      usage(stderr, g->progname);
      return 1;
    }
  }
  __attribute__((cleanup(sup_paths_clear))) struct sup_paths paths = {0};
  _cleanup_sup_client_ struct sup_client *client = NULL;
  _cleanup_error_ struct stack_error *err = NULL;
  if (cli_project_client(g, false, &paths, &client, &err) < 0) {
    stack_error_print(err);
    return 1;
  }
  if (client == NULL)
    return 0;
  struct cli_logfmt fmt;
  cli_logfmt_init(&fmt, paths.project, color, prefix, timestamps);
  /* Known names first, so that the prefixes line up from the first line. */
  cJSON *ps = NULL;
  if (sup_client_call(client, "ps", NULL, NULL, NULL, &ps, &err) == 0) {
    const cJSON *ct;
    cJSON_ArrayForEach(ct, cJSON_GetObjectItem(ps, "containers"))
      cli_logfmt_add(&fmt, cJSON_GetStringValue(cJSON_GetObjectItem(ct, "name")));
  }
  cJSON_Delete(ps);
  cJSON *params = cJSON_CreateObject();
  if (optind < argc) {
    cJSON *a = cJSON_AddArrayToObject(params, "services");
    for (int i = optind; i < argc; i++)
      cJSON_AddItemToArray(a, cJSON_CreateString(argv[i]));
  }
  cJSON_AddNumberToObject(params, "tail", (double)tail);
  if (since >= 0)
    cJSON_AddNumberToObject(params, "since_ms", (double)since);
  if (until >= 0)
    cJSON_AddNumberToObject(params, "until_ms", (double)until);
  if (follow)
    cJSON_AddTrueToObject(params, "follow");
  cJSON *res = NULL;
  int r = sup_client_call(client, "logs", params, on_event, &fmt, &res, &err);
  cli_logfmt_free(&fmt);
  cJSON_Delete(res);
  if (r < 0 && !(follow && r == -ECONNRESET)) {
    stack_error_print(err);
    return 1;
  }
  return 0;
}
