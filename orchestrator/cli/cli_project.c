#include "cli_project.h"

#include <cjson/cJSON.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "orchestrator/compose/compose_emit.h"
#include "orchestrator/compose/compose_load.h"
#include "orchestrator/compose/compose_model.h"
#include "orchestrator/supervisor/naming.h"
#include "orchestrator/supervisor/sup_client.h"
#include "orchestrator/supervisor/sup_paths.h"
#include "orchestrator/supervisor/sup_proto.h"
#include "runtime/util/cleanup.h"
#include "runtime/util/paths.h"
#include "runtime/image/image.h"
#include "runtime/util/error.h"
#include "runtime/util/fsutil.h"
#include "runtime/util/xalloc.h"

void cli_project_print_load_warning(const char *msg, void *ud) {
  struct cli_warned *w = ud;
  for (size_t i = 0; w && i < w->n; i++)
    if (strcmp(w->msgs[i], msg) == 0)
      return;
  if (w) {
    w->msgs = xrealloc(w->msgs, (w->n + 2) * sizeof(char *));
    w->msgs[w->n++] = xstrdup(msg);
    w->msgs[w->n] = NULL;
  }
  fprintf(stderr, "WARN[0000] %s\n", msg);
}

void cli_project_load_opts(const struct cli_globals *g, struct compose_load_opts *o) {
  *o = (struct compose_load_opts){
      .warn = cli_project_print_load_warning,
      .warn_ud = g->warned,
      .files = g->files && g->files[0] ? g->files : NULL,
      .env_files = g->env_files && g->env_files[0] ? g->env_files : NULL,
      .profiles = g->profiles && g->profiles[0] ? g->profiles : NULL,
      .project_name = g->project_name,
      .project_dir = g->project_dir,
  };
}

int cli_project_name(const struct cli_globals *g, char **name, struct stack_error **err) {
  if (g->project_name != NULL) {
    int r = naming_check("project", g->project_name, err);
    if (r < 0)
      return r;
    *name = xstrdup(g->project_name);
    return 0;
  }
  struct compose_load_opts o;
  cli_project_load_opts(g, &o);
  _cleanup_compose_project_ struct compose_project *p = NULL;
  int r = compose_load(&o, &p, err);
  if (r < 0)
    return r;
  *name = steal_pointer(&p->name);
  return naming_check("project", *name, err);
}

int cli_project_client(const struct cli_globals *g, bool start, struct sup_paths *paths,
                       struct sup_client **out, struct stack_error **err) {
  *out = NULL;
  _cleanup_free_ char *name = NULL;
  int r = cli_project_name(g, &name, err);
  if (r == 0)
    r = sup_paths_init(paths, name, err);
  if (r < 0)
    return r;
  if (!start && !fs_exists(paths->state_file)) {
    /* a supervisor without state may still be starting up for `up` */
    if (sup_client_connect(paths, out, NULL) < 0)
      *out = NULL;
    return 0;
  }
  return sup_client_open(paths, CLI_SUPERVISOR_EXE, out, err);
}

static void add_strv(cJSON *params, const char *key, char *const *v) {
  if (v == NULL || v[0] == NULL)
    return;
  cJSON *a = cJSON_AddArrayToObject(params, key);
  for (; *v; v++)
    cJSON_AddItemToArray(a, cJSON_CreateString(*v));
}

void cli_project_load_params(const struct cli_globals *g, cJSON *params) {
  add_strv(params, "files", g->files);
  add_strv(params, "env_files", g->env_files);
  add_strv(params, "profiles", g->profiles);
  if (g->project_name)
    cJSON_AddStringToObject(params, "project_name", g->project_name);
  if (g->project_dir)
    cJSON_AddStringToObject(params, "project_dir", g->project_dir);
  _cleanup_free_ char *cwd = getcwd(NULL, 0);
  if (cwd)
    cJSON_AddStringToObject(params, "working_dir", cwd);
  add_strv(params, "environ", environ);
}

bool cli_project_by_name(const struct cli_globals *g) {
  return g->project_name != NULL && (g->files == NULL || g->files[0] == NULL);
}

void cli_project_existing_params(const struct cli_globals *g, cJSON *params) {
  if (cli_project_by_name(g))
    cJSON_AddTrueToObject(params, "by_name");
  else
    cli_project_load_params(g, params);
}

int cli_project_print_warning(const cJSON *ev, void *data) {
  (void)data;
  const char *type = cJSON_GetStringValue(cJSON_GetObjectItem(ev, "type"));
  if (type && strcmp(type, "warning") == 0)
    fprintf(stderr, "WARN[0000] %s\n", cJSON_GetStringValue(cJSON_GetObjectItem(ev, "message")));
  return 0;
}

void cli_project_model_param(const struct compose_project *p, cJSON *params) {
  cJSON *model = cJSON_CreateObject();
  cJSON_AddItemToObject(model, "tree", compose_emit_json_tree(p->tree, false));
  cJSON_AddStringToObject(model, "working_dir", p->working_dir);
  add_strv(model, "config_files", p->config_files);
  _cleanup_free_ char *params_text = cJSON_PrintUnformatted(params);
  _cleanup_free_ char *model_text = cJSON_PrintUnformatted(model);
  if (params_text && model_text &&
      strlen(params_text) + strlen(model_text) + 256 < SUP_MAX_LINE)
    cJSON_AddItemToObject(params, "model", model);
  else
    cJSON_Delete(model);
}

int cli_parse_timeout(const struct cli_globals *g, const char *verb, const char *arg,
                      double *out) {
  char *end;
  double v = strtod(arg, &end);
  if (end == arg || *end || !(v >= 0 && v <= 86400)) {
    fprintf(stderr, "%s %s: invalid --timeout \"%s\": give seconds\n", g->progname, verb, arg);
    return -1;
  }
  *out = v;
  return 0;
}

bool cli_pull_flag_ok(const struct cli_globals *g, const char *verb, const char *v) {
  static const char *const ok[] = {"always", "missing", "never", "policy", "if_not_present"};
  for (size_t i = 0; i < sizeof(ok) / sizeof(ok[0]); i++)
    if (strcmp(v, ok[i]) == 0)
      return true;
  if (strcmp(v, "build") == 0)
    fprintf(stderr, "%s %s: --pull build: stack does not build images; use always, missing or "
                    "never\n", g->progname, verb);
  else
    fprintf(stderr, "%s %s: invalid --pull \"%s\": use always, missing, never or policy\n",
            g->progname, verb, v);
  return false;
}

enum image_pull_policy cli_pull_policy(const char *flag, const struct compose_service *sv) {
  const char *p = flag && strcmp(flag, "policy") != 0 ? flag : sv->pull_policy;
  if (p && strcmp(p, "always") == 0)
    return IMAGE_PULL_ALWAYS;
  if (p && strcmp(p, "never") == 0)
    return IMAGE_PULL_NEVER;
  return IMAGE_PULL_MISSING;
}

int cli_pull_images(const struct compose_project *p, const size_t *order, size_t n,
                    const char *pull, bool quiet) {
  _cleanup_free_ char *root = stack_data_root();
  for (size_t k = 0; k < n; k++) {
    const struct compose_service *sv = &p->services[order[k]];
    if (sv->image == NULL)
      continue;
    struct image_get_opts io = {.platform = sv->platform, .pull = cli_pull_policy(pull, sv),
                                .quiet = quiet};
    struct image_handle *h = NULL;
    _cleanup_error_ struct stack_error *err = NULL;
    if (image_get(root, sv->image, &io, &h, &err) < 0) {
      stack_error_prefix(&err, "service %s", sv->name);
      stack_error_print(err);
      return -1;
    }
    image_handle_free(h);
  }
  return 0;
}
