/* The project as the supervisor knows it: loaded from a request's
 * parameters (the files, environment and profiles the client used), and
 * the images its containers run, resolved once per reference and kept
 * while the supervisor lives (the containers point at them).  One path for
 * `up` and `run SERVICE`. */
#ifndef STACK_SUPERVISOR_SUP_PROJECT_H
#define STACK_SUPERVISOR_SUP_PROJECT_H

#include <stdbool.h>

#include "sup_loop.h"

typedef struct cJSON cJSON;
struct compose_project;
struct compose_service;
struct image_handle;
struct stack_error;

/* The project params describe: params.model when the client sends the
 * project it loaded (its normalised tree and directory: the files are not
 * read again), else loaded from the files (files, env_files, profiles,
 * environ, project_name, project_dir, working_dir) with services enabled
 * beyond their profiles (NULL: none named).  *files gets params.files
 * (caller frees).  It must be this supervisor's project. */
int sup_project_load(struct supervisor *s, const cJSON *params, char *const *services,
                     struct compose_project **out, char ***files, struct stack_error **err);
/* Makes p (taken over) the supervisor's model: the containers' runtimes
 * point into it from now on; VMs adopted from a dead supervisor get their
 * networks back. */
void sup_project_use(struct supervisor *s, struct compose_project *p);
/* The image of svc (which has one) as the store holds it now (pulled when
 * missing, unless its pull_policy is never): a new image behind the same
 * tag gets a new handle (its config digest changes the service's config
 * hash, so `up` recreates), the same image the handle already held.
 * NULL with *err set. */
const struct image_handle *sup_project_image(struct supervisor *s,
                                             const struct compose_service *svc, bool quiet,
                                             struct stack_error **err);
/* Frees the model and the images (the supervisor ends). */
void sup_project_free(struct supervisor *s);

#endif
