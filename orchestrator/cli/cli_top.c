/* `stack top [SERVICE...] [PS_OPTIONS]`: the processes in each running
 * container's VM, per container as `docker compose top` prints them.  The
 * guest init lists them from the guest's /proc (no `ps` needed in the
 * image), in `docker top`'s columns; with ps options (from the first
 * argument that starts with '-', or after "--"), `ps` runs in the guest
 * with them as an exec session, and its lines for the container's
 * processes are printed, as `docker top CONTAINER PS_OPTIONS` does. */
#include <cjson/cJSON.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "cli.h"
#include "cli_args.h"
#include "cli_exec_output.h"
#include "cli_project.h"
#include "cli_table.h"
#include "cli_top_parse.h"
#include "cli_top_rows.h"
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

/* `ps PS_OPTIONS` in the container, filtered to procs' pids into t; 0, or
 * 1 after printing why not. */
static int ps_in_guest(struct sup_client *client, const cJSON *ct, char **ps_opts, int n_opts,
                       const cJSON *procs, struct cli_table *t) {
  const char *name = str(ct, "name");
  cJSON *params = cJSON_CreateObject();
  cJSON_AddStringToObject(params, "service", str(ct, "service"));
  cJSON_AddNumberToObject(params, "index",
                          cJSON_GetNumberValue(cJSON_GetObjectItem(ct, "number")));
  cJSON *a = cJSON_AddArrayToObject(params, "argv");
  cJSON_AddItemToArray(a, cJSON_CreateString("ps"));
  for (int i = 0; i < n_opts; i++)
    cJSON_AddItemToArray(a, cJSON_CreateString(ps_opts[i]));
  struct sbuf out[2] = {{0}, {0}};
  _cleanup_error_ struct stack_error *err = NULL;
  cJSON *res = NULL;
  int r = sup_client_call(client, "exec", params, collect, out, &res, &err);
  int code = r < 0 ? -1 : (int)cJSON_GetNumberValue(cJSON_GetObjectItem(res, "exit_code"));
  int ret = 1;
  if (r < 0) {
    fprintf(stderr, "stack top: container %s: %s\n", name, err->msg);
  } else if (code != 0) {
    const char *why = cJSON_GetStringValue(cJSON_GetObjectItem(res, "error"));
    _cleanup_free_ char *said =
        xstrndup(out[1].data ? out[1].data : "", out[1].len > 500 ? 500 : out[1].len);
    _cleanup_free_ char *shown = top_printable(said);
    fprintf(stderr, "stack top: container %s: ps in the container failed (exit %d)%s%s%s%s\n",
            name, code, *shown ? ": " : "", shown, why ? ": " : "", why ? why : "");
    if (code == 127)
      fprintf(stderr, "  (the image has no ps: ps options need one; without them stack top "
                      "needs none)\n");
  } else {
    size_t n = 0;
    _cleanup_free_ uint32_t *pids = top_rows_pids(procs, &n);
    if (top_parse_ps(out[0].data ? out[0].data : "", out[0].len, pids, n, t) < 0)
      fprintf(stderr, "stack top: container %s: no PID column in ps's output: keep pid in "
                      "the ps options\n", name);
    else
      ret = 0;
  }
  cJSON_Delete(res);
  sbuf_free(&out[0]);
  sbuf_free(&out[1]);
  return ret;
}

/* Lists one container's processes; 0, or 1 after printing why not. */
static int top_one(struct sup_client *client, const cJSON *ct, char **ps_opts, int n_opts) {
  const char *name = str(ct, "name");
  cJSON *params = cJSON_CreateObject();
  cJSON_AddStringToObject(params, "container", name);
  _cleanup_error_ struct stack_error *err = NULL;
  cJSON *res = NULL;
  if (sup_client_call(client, "top", params, NULL, NULL, &res, &err) < 0) {
    fprintf(stderr, "stack top: container %s: %s\n", name, err->msg);
    return 1;
  }
  struct cli_table t = {0};
  int ret = 0;
  if (ps_opts) {
    ret = ps_in_guest(client, ct, ps_opts, n_opts, res, &t);
  } else {
    static const char *const header[] = TOP_HEADER;
    cli_table_init(&t, TOP_NCOLS, header);
    top_rows_add(res, time(NULL), &t);
  }
  if (ret == 0) {
    printf("%s\n", name);
    cli_table_print(&t, stdout);
    printf("\n");
    size_t n = (size_t)cJSON_GetArraySize(cJSON_GetObjectItem(res, "processes"));
    double total = cJSON_GetNumberValue(cJSON_GetObjectItem(res, "total"));
    if (total > (double)n)
      fprintf(stderr, "stack top: container %s: %.0f more processes not listed\n", name,
              total - (double)n);
  }
  cli_table_free(&t);
  cJSON_Delete(res);
  return ret;
}

int cli_top(struct cli_globals *g, int argc, char **argv) {
  /* ps options: from the first argument that starts with '-' (other than
   * a help flag), or after "--" */
  int names_end = argc, opts_at = argc;
  for (int i = 1; i < argc; i++) {
    if (strcmp(argv[i], "--") == 0) {
      names_end = i;
      opts_at = i + 1;
      break;
    }
    if (argv[i][0] == '-' && strcmp(argv[i], "-h") != 0 && strcmp(argv[i], "--help") != 0) {
      names_end = opts_at = i;
      break;
    }
  }
  int rc = cli_help_only(g, names_end, argv,
                         "Usage:  %s top [SERVICE...] [PS_OPTIONS]\n\n"
                         "Display the running processes\n\n"
                         "Without PS_OPTIONS the guest lists its processes (the image needs no "
                         "ps)\nin the columns UID PID PPID C STIME TTY TIME CMD; with them "
                         "(from the first\nargument that starts with '-', or after \"--\"), "
                         "ps runs in the container\nwith those options, as `docker top` runs "
                         "it.\n");
  if (rc >= 0)
    return rc;
  char **ps_opts = names_end < argc ? argv + opts_at : NULL;
  int n_opts = argc - opts_at;
  __attribute__((cleanup(sup_paths_clear))) struct sup_paths paths = {0};
  _cleanup_sup_client_ struct sup_client *client = NULL;
  _cleanup_error_ struct stack_error *err = NULL;
  cJSON *ps = NULL;
  cJSON *params = cJSON_CreateObject();
  cli_add_names(params, "containers", names_end, argv);
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
    /* a paused guest runs nothing, its init included: Docker lists it
     * from the host, we cannot */
    if (strcmp(str(ct, "status"), "running") == 0)
      ret |= top_one(client, ct, ps_opts, n_opts);
    else if (strcmp(str(ct, "status"), "paused") == 0 && optind < names_end &&
             (listed(argv + optind, names_end - optind, str(ct, "service")) ||
              listed(argv + optind, names_end - optind, str(ct, "name"))))
      fprintf(stderr, "stack top: container %s is paused: unpause it to list its processes\n",
              str(ct, "name"));
  }
  cJSON_Delete(ps);
  return ret;
}
