/* `stack top [SERVICE...]`: the processes in each running container's
 * VM, listed by `ps` run there as an exec session (there is no host view
 * of a guest's processes), printed per container as `docker compose top`
 * does. */
#include <cjson/cJSON.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "cli_args.h"
#include "cli_exec_output.h"
#include "cli_project.h"
#include "cli_table.h"
#include "cli_top_parse.h"
#include "orchestrator/supervisor/sup_client.h"
#include "orchestrator/supervisor/sup_paths.h"
#include "runtime/util/cleanup.h"
#include "runtime/util/error.h"
#include "runtime/util/sbuf.h"
#include "runtime/util/xalloc.h"

/* More output than any process list: a guest that floods is cut off. */
#define TOP_MAX_OUTPUT (4u << 20)

static int collect(const cJSON *ev, void *data) {
  struct sbuf *out = data; /* [0] stdout, [1] stderr */
  int fd;
  size_t n = 0;
  _cleanup_free_ unsigned char *buf = cli_exec_output_decode(ev, &fd, &n);
  struct sbuf *b = &out[fd == 2];
  if (buf && b->len + n <= TOP_MAX_OUTPUT)
    sbuf_append(b, buf, n);
  return 0;
}

static const char *str(const cJSON *o, const char *k) {
  const char *s = cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(o, k));
  return s ? s : "";
}

static bool listed(char **v, int n, const char *s) {
  for (int i = 0; i < n; i++)
    if (strcmp(v[i], s) == 0)
      return true;
  return false;
}

/* Lists one container's processes; 0, or 1 after printing why not. */
static int top_one(struct sup_client *client, const cJSON *ct) {
  cJSON *params = cJSON_CreateObject();
  cJSON_AddStringToObject(params, "service", str(ct, "service"));
  cJSON_AddNumberToObject(params, "index",
                          cJSON_GetNumberValue(cJSON_GetObjectItem(ct, "number")));
  static const char *const ps_argv[] = TOP_PS_ARGV;
  cJSON *a = cJSON_AddArrayToObject(params, "argv");
  for (size_t i = 0; ps_argv[i]; i++)
    cJSON_AddItemToArray(a, cJSON_CreateString(ps_argv[i]));
  struct sbuf out[2] = {{0}, {0}};
  _cleanup_error_ struct stack_error *err = NULL;
  cJSON *res = NULL;
  int r = sup_client_call(client, "exec", params, collect, out, &res, &err);
  int code = r < 0 ? -1 : (int)cJSON_GetNumberValue(cJSON_GetObjectItem(res, "exit_code"));
  int ret = 0;
  if (r < 0) {
    fprintf(stderr, "stack top: container %s: %s\n", str(ct, "name"), err->msg);
    ret = 1;
  } else if (code != 0) {
    const char *why = cJSON_GetStringValue(cJSON_GetObjectItem(res, "error"));
    fprintf(stderr, "stack top: container %s: ps in the container failed (exit %d)%s%.*s%s%s\n",
            str(ct, "name"), code, out[1].len ? ": " : "", (int)(out[1].len > 500 ? 500 : out[1].len),
            out[1].data ? out[1].data : "", why ? ": " : "", why ? why : "");
    if (code == 127)
      fprintf(stderr, "  (the image has no ps: stack top needs one, busybox's will do)\n");
    ret = 1;
  } else {
    static const char *const header[] = TOP_HEADER;
    struct cli_table t;
    cli_table_init(&t, TOP_NCOLS, header);
    top_parse_ps(out[0].data ? out[0].data : "", out[0].len, &t);
    printf("%s\n", str(ct, "name"));
    cli_table_print(&t, stdout);
    printf("\n");
    cli_table_free(&t);
  }
  cJSON_Delete(res);
  sbuf_free(&out[0]);
  sbuf_free(&out[1]);
  return ret;
}

int cli_top(struct cli_globals *g, int argc, char **argv) {
  int rc = cli_help_only(g, argc, argv, "Usage:  %s top [SERVICE...]\n\nDisplay the running processes\n");
  if (rc >= 0)
    return rc;
  __attribute__((cleanup(sup_paths_clear))) struct sup_paths paths = {0};
  _cleanup_sup_client_ struct sup_client *client = NULL;
  _cleanup_error_ struct stack_error *err = NULL;
  cJSON *ps = NULL;
  cJSON *params = cJSON_CreateObject();
  cli_add_names(params, "containers", argc, argv);
  if (cli_project_client(g, false, &paths, &client, &err) < 0 ||
      (client && sup_client_call(client, "ps", params, NULL, NULL, &ps, &err) < 0)) {
    if (client == NULL)
      cJSON_Delete(params);
    stack_error_print(err);
    return 1;
  }
  if (client == NULL)
    cJSON_Delete(params);
  int ret = 0;
  const cJSON *ct;
  cJSON_ArrayForEach(ct, cJSON_GetObjectItemCaseSensitive(ps, "containers")) {
    /* a paused guest runs nothing, ps included: Docker lists it from the
     * host, we cannot */
    if (strcmp(str(ct, "status"), "running") == 0)
      ret |= top_one(client, ct);
    else if (strcmp(str(ct, "status"), "paused") == 0 && optind < argc &&
             (listed(argv + optind, argc - optind, str(ct, "service")) ||
              listed(argv + optind, argc - optind, str(ct, "name"))))
      fprintf(stderr, "stack top: container %s is paused: unpause it to list its processes\n",
              str(ct, "name"));
  }
  cJSON_Delete(ps);
  return ret;
}
