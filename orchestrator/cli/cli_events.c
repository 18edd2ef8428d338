/* `stack events`: container events of the project as they happen. */
#include <cjson/cJSON.h>
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "cli.h"
#include "cli_project.h"
#include "orchestrator/supervisor/sup_client.h"
#include "orchestrator/supervisor/sup_paths.h"
#include "runtime/util/cleanup.h"
#include "runtime/util/error.h"
#include "runtime/util/sbuf.h"
#include "runtime/util/xalloc.h"

struct events_ctx {
  bool json;
  char **services;
  size_t n_services;
};

static void usage(FILE *f, const char *prog) {
  fprintf(f,
          "Usage:  %s events [OPTIONS] [SERVICE...]\n\n"
          "Receive real time events from containers\n\n"
          "Options:\n"
          "      --json   Output events as a stream of json objects\n",
          prog);
}

static char *timestamp(double ms) {
  time_t t = (time_t)(ms / 1000);
  struct tm tm;
  localtime_r(&t, &tm);
  char date[32], zone[8];
  strftime(date, sizeof(date), "%Y-%m-%dT%H:%M:%S", &tm);
  strftime(zone, sizeof(zone), "%z", &tm);
  return xasprintf("%s.%03d000000%.3s:%s", date, (int)((long long)ms % 1000), zone, zone + 3);
}

static int print_event(const cJSON *ev, void *data) {
  struct events_ctx *ctx = data;
  const char *type = cJSON_GetStringValue(cJSON_GetObjectItem(ev, "type"));
  if (type == NULL || strcmp(type, "container") != 0)
    return 0; /* stream bookkeeping */
  const char *service = cJSON_GetStringValue(cJSON_GetObjectItem(ev, "service"));
  bool wanted = ctx->n_services == 0;
  for (size_t i = 0; i < ctx->n_services && service; i++)
    wanted |= strcmp(ctx->services[i], service) == 0;
  if (!wanted)
    return 0;
  _cleanup_free_ char *ts = timestamp(cJSON_GetNumberValue(cJSON_GetObjectItem(ev, "time")));
  const cJSON *attrs = cJSON_GetObjectItem(ev, "attributes");
  if (ctx->json) {
    cJSON *o = cJSON_Duplicate(ev, true);
    cJSON_ReplaceItemInObject(o, "time", cJSON_CreateString(ts));
    _cleanup_free_ char *line = cJSON_PrintUnformatted(o);
    cJSON_Delete(o);
    puts(line);
  } else {
    _cleanup_sbuf_ struct sbuf a = SBUF_INIT;
    const cJSON *kv;
    cJSON_ArrayForEach(kv, attrs) {
      if (cJSON_IsString(kv))
        sbuf_printf(&a, "%s%s=%s", a.len ? ", " : "", kv->string, kv->valuestring);
    }
    printf("%s container %s %s (%s)\n", ts,
           cJSON_GetStringValue(cJSON_GetObjectItem(ev, "action")),
           cJSON_GetStringValue(cJSON_GetObjectItem(ev, "id")), a.data ? a.data : "");
  }
  fflush(stdout);
  return 0;
}

int cli_events(struct cli_globals *g, int argc, char **argv) {
  static const struct option opts[] = {
      {"json", no_argument, NULL, 'j'},
      {"help", no_argument, NULL, 'h'},
      {NULL, 0, NULL, 0},
  };
  struct events_ctx ctx = {0};
  int c;
  while ((c = getopt_long(argc, argv, "h", opts, NULL)) != -1) {
    if (c == 'j') {
      ctx.json = true;
    } else if (c == 'h') {
      usage(stdout, g->progname);
      return 0;
    } else {
      usage(stderr, g->progname);
      return 1;
    }
  }
  ctx.services = argv + optind;
  ctx.n_services = (size_t)(argc - optind);
  __attribute__((cleanup(sup_paths_clear))) struct sup_paths paths = {0};
  _cleanup_sup_client_ struct sup_client *client = NULL;
  _cleanup_error_ struct stack_error *err = NULL;
  if (cli_project_client(g, true, &paths, &client, &err) < 0 ||
      sup_client_call(client, "events", NULL, print_event, &ctx, NULL, &err) < 0) {
    /* the stream ends when the supervisor does (down) */
    if (err->code == -ECONNRESET)
      return 0;
    stack_error_print(err);
    return 1;
  }
  return 0;
}
