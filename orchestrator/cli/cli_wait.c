/* `stack wait SERVICE...`: blocks until the services' containers stop,
 * printing each one's exit status as Compose does; the exit code is the
 * status of the first to stop.  Event-driven: the "die" events of the
 * project's supervisor, subscribed before the containers are looked at,
 * so that an exit in between is not missed. */
#include <cjson/cJSON.h>
#include <errno.h>
#include <getopt.h>
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
#include "runtime/util/xalloc.h"

struct waited {
  char *name;
  char *service;
  bool done;
};

struct wait_ctx {
  struct waited *w;
  size_t n, pending;
  bool have_first;
  int first_code;
};

static const char *str(const cJSON *o, const char *k) {
  const char *s = cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(o, k));
  return s ? s : "";
}

static void finished(struct wait_ctx *ctx, struct waited *w, int code) {
  w->done = true;
  ctx->pending--;
  printf("container \"%s\" exited with status code %d\n", w->service, code);
  fflush(stdout);
  if (!ctx->have_first) {
    ctx->have_first = true;
    ctx->first_code = code;
  }
}

static int on_subscribed(const cJSON *ev, void *data) {
  (void)data;
  return strcmp(str(ev, "action"), "subscribed") == 0;
}

static int on_event(const cJSON *ev, void *data) {
  struct wait_ctx *ctx = data;
  if (strcmp(str(ev, "type"), "container") != 0 || strcmp(str(ev, "action"), "die") != 0)
    return 0;
  const cJSON *attrs = cJSON_GetObjectItemCaseSensitive(ev, "attributes");
  for (size_t i = 0; i < ctx->n; i++) {
    struct waited *w = &ctx->w[i];
    if (!w->done && strcmp(w->name, str(attrs, "name")) == 0)
      finished(ctx, w, atoi(str(attrs, "exitCode")));
  }
  return ctx->pending == 0;
}

int cli_wait(struct cli_globals *g, int argc, char **argv) {
  static const struct option opts[] = {
      {"down-project", no_argument, NULL, 'd'},
      {"help", no_argument, NULL, 'h'},
      {NULL, 0, NULL, 0},
  };
  int c;
  while ((c = getopt_long(argc, argv, "h", opts, NULL)) != -1) {
    if (c == 'd') {
      fprintf(stderr, "%s wait: --down-project is not supported: run %s down after it\n",
              g->progname, g->progname);
      return 1;
    }
    fprintf(c == 'h' ? stdout : stderr,
            "Usage:  %s wait SERVICE [SERVICE...]\n\n"
            "Block until containers of all (or specified) services stop.\n",
            g->progname);
    return c == 'h' ? 0 : 1;
  }
  if (optind >= argc) {
    fprintf(stderr, "%s wait: requires at least 1 argument: SERVICE\n", g->progname);
    return 1;
  }
  __attribute__((cleanup(sup_paths_clear))) struct sup_paths paths = {0};
  _cleanup_sup_client_ struct sup_client *events = NULL, *client = NULL;
  _cleanup_error_ struct stack_error *err = NULL;
  cJSON *ps = NULL;
  cJSON *params = cJSON_CreateObject();
  cli_add_names(params, "containers", argc, argv);
  if (cli_project_client(g, false, &paths, &events, &err) < 0 || events == NULL) {
    cJSON_Delete(params);
    if (err)
      stack_error_print(err);
    else
      fprintf(stderr, "%s wait: no such service: %s\n", g->progname, argv[optind]);
    return 1;
  }
  if (sup_client_call(events, "events", NULL, on_subscribed, NULL, NULL, &err) != 1 ||
      sup_client_connect(&paths, &client, &err) < 0 ||
      sup_client_call(client, "ps", steal_pointer(&params), NULL, NULL, &ps, &err) < 0) {
    cJSON_Delete(params);
    stack_error_print(err);
    return 1;
  }
  const cJSON *ctrs = cJSON_GetObjectItemCaseSensitive(ps, "containers");
  struct wait_ctx ctx = {.w = xcalloc((size_t)cJSON_GetArraySize(ctrs) + 1, sizeof(struct waited))};
  const cJSON *ct;
  cJSON_ArrayForEach(ct, ctrs) {
    struct waited *w = &ctx.w[ctx.n++];
    w->name = xstrdup(str(ct, "name"));
    w->service = xstrdup(str(ct, "service"));
    ctx.pending++;
    const char *st = str(ct, "status");
    if (strcmp(st, "running") != 0 && strcmp(st, "paused") != 0 && strcmp(st, "restarting") != 0)
      finished(&ctx, w, (int)cJSON_GetNumberValue(cJSON_GetObjectItem(ct, "exit_code")));
  }
  cJSON_Delete(ps);
  int ret = 0;
  if (ctx.pending > 0) {
    int r = sup_client_resume(events, on_event, &ctx, NULL, &err);
    if (r < 0 || ctx.pending > 0) {
      if (err == NULL || err->code == -ECONNRESET)
        fprintf(stderr, "%s wait: the project's supervisor ended before the containers stopped\n",
                g->progname);
      else
        stack_error_print(err);
      ret = 1;
    }
  }
  if (ret == 0)
    ret = ctx.first_code;
  for (size_t i = 0; i < ctx.n; i++) {
    free(ctx.w[i].name);
    free(ctx.w[i].service);
  }
  free(ctx.w);
  return ret;
}
