#include "sup_project.h"

#include <cjson/cJSON.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "orchestrator/compose/compose_load.h"
#include "orchestrator/compose/compose_model.h"
#include "orchestrator/compose/compose_tree_json.h"
#include "runtime/image/image.h"
#include "runtime/util/cleanup.h"
#include "runtime/util/error.h"
#include "runtime/util/paths.h"
#include "runtime/util/xalloc.h"
#include "sup_ctrs.h"
#include "sup_proto.h"

int sup_project_load(struct supervisor *s, const cJSON *params, char *const *services,
                     struct compose_project **out, char ***files, struct stack_error **err) {
  _cleanup_strv_ char **env_files = NULL, **profiles = NULL, **environ_ = NULL;
  int r;
  if ((r = sup_param_strv(params, "files", false, files, err)) < 0 ||
      (r = sup_param_strv(params, "env_files", false, &env_files, err)) < 0 ||
      (r = sup_param_strv(params, "profiles", false, &profiles, err)) < 0 ||
      (r = sup_param_strv(params, "environ", false, &environ_, err)) < 0)
    return r;
  const cJSON *model = cJSON_GetObjectItemCaseSensitive(params, "model");
  if (model) {
    /* the client loaded the files (and reported what was wrong in them):
     * its result, not the files again */
    r = compose_project_from_json(cJSON_GetObjectItemCaseSensitive(model, "tree"),
                                  sup_param_str(model, "working_dir"), out, err);
    if (r < 0)
      return stack_error_prefix(err, "params.model");
    /* the files it found (discovered, COMPOSE_FILE): -p alone finds them
     * again */
    _cleanup_strv_ char **found = NULL;
    if (*files == NULL && sup_param_strv(model, "config_files", false, &found, NULL) == 0)
      *files = steal_pointer(&found);
    goto loaded;
  }
  static char *empty_env[] = {NULL};
  bool by_name = sup_param_true(params, "by_name");
  if (by_name) {
    /* -p alone: the files the project was last brought up from */
    if (s->state->config_files == NULL || s->state->config_files[0] == NULL)
      return stack_error_set(err, -ENOENT,
                             "project %s: no configuration file known; run the command in the "
                             "project's directory or name its files with -f",
                             s->paths.project);
    strv_free(*files);
    *files = xstrv_dup(s->state->config_files);
  }
  struct compose_load_opts o = {
      .files = *files,
      .env_files = env_files,
      .profiles = profiles,
      .project_name = by_name ? s->paths.project : sup_param_str(params, "project_name"),
      .project_dir = by_name ? s->state->working_dir : sup_param_str(params, "project_dir"),
      .services = (char **)services,
      .services_optional = sup_param_true(params, "start_only"),
      .environ = environ_ ? environ_ : empty_env,
      .working_dir = by_name ? s->state->working_dir : sup_param_str(params, "working_dir"),
  };
  if ((r = compose_load(&o, out, err)) < 0)
    return r;
  if (*files == NULL && (*out)->config_files)
    *files = xstrv_dup((*out)->config_files);
loaded:
  if (strcmp((*out)->name, s->paths.project) != 0) {
    r = stack_error_set(err, -EINVAL,
                        "the files describe project %s, but this is the supervisor of %s",
                        (*out)->name, s->paths.project);
    compose_project_free(*out);
    *out = NULL;
  }
  return r;
}

void sup_project_use(struct supervisor *s, struct compose_project *p) {
  compose_project_free(s->project);
  s->project = p;
  sup_ctrs_net_adopt(s);
}

const struct image_handle *sup_project_image(struct supervisor *s,
                                             const struct compose_service *svc, bool quiet,
                                             struct stack_error **err) {
  /* Resolved again at each request: the store may hold another image
   * behind the same tag now (re-pulled, re-imported).  A handle already
   * held for that very image is reused; older ones stay for the containers
   * that still run them. */
  _cleanup_free_ char *root = stack_data_root();
  struct image_get_opts o = {.platform = svc->platform, .pull = IMAGE_PULL_MISSING, .quiet = quiet};
  if (svc->pull_policy && strcmp(svc->pull_policy, "never") == 0)
    o.pull = IMAGE_PULL_NEVER;
  struct image_handle *h = NULL;
  if (image_get(root, svc->image, &o, &h, err) < 0)
    return NULL;
  for (size_t i = 0; i < s->n_images; i++) {
    const struct image_handle *old = s->images[i].h;
    if (strcmp(s->images[i].ref, svc->image) == 0 &&
        strcmp(old->config_digest, h->config_digest) == 0 &&
        strcmp(old->manifest_digest, h->manifest_digest) == 0 &&
        strcmp(old->rootfs_path, h->rootfs_path) == 0) {
      image_handle_free(h);
      return old;
    }
  }
  s->images = xrealloc(s->images, (s->n_images + 1) * sizeof(*s->images));
  s->images[s->n_images++] = (struct sup_image){xstrdup(svc->image), h};
  return h;
}

void sup_project_free(struct supervisor *s) {
  for (size_t i = 0; i < s->n_images; i++) {
    free(s->images[i].ref);
    image_handle_free(s->images[i].h);
  }
  free(s->images);
  s->images = NULL;
  s->n_images = 0;
  compose_project_free(s->project);
  s->project = NULL;
}
