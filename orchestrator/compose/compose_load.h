/* Loading a Compose project: the pipeline from command-line options to the
 * typed model, in compose-go's order.
 *
 *   discover files -> project directory -> environment (.env / --env-file,
 *   process environment wins) -> per file: parse, interpolate, schema check,
 *   canonical form -> merge files in order -> include -> extends ->
 *   profiles -> resolve paths -> finalize -> normalize -> validate -> model
 */
#ifndef STACK_COMPOSE_LOAD_H
#define STACK_COMPOSE_LOAD_H

#include <stdbool.h>

#include "compose_model.h"
#include "node.h"

struct stack_error;

struct compose_load_opts {
  char **files;             /* -f, NULL-terminated; "-" = stdin; NULL: discover */
  char **env_files;         /* --env-file, NULL-terminated; NULL: <project_dir>/.env */
  char **profiles;          /* --profile; NULL: COMPOSE_PROFILES */
  const char *project_name; /* -p; NULL: COMPOSE_PROJECT_NAME, `name`, dir */
  const char *project_dir;  /* --project-directory; NULL: the first file's dir */
  char **services;          /* named on the command line: enables their profiles */
  bool services_optional;   /* services may name ones not in the files (ignored) */
  bool no_interpolate;
  bool skip_normalize;
  bool no_consistency;      /* --no-consistency: skip compose_validate_project() */
  char **environ; /* the process environment, NULL = environ */
  const char *working_dir; /* where discovery starts; NULL = getcwd() */
  /* Hears Compose's warnings while loading (an unset variable: once each),
   * or NULL. */
  void (*warn)(const char *msg, void *ud);
  void *warn_ud;
};

/* Loads the project the options describe into *out. */
int compose_load(const struct compose_load_opts *o, struct compose_project **out,
                 struct stack_error **err);

/* Like compose_load() but stops before the typed model and hands out the
 * final tree (what `stack config` prints) and the project directory. */
int compose_load_tree(const struct compose_load_opts *o, struct cnode **tree, char **project_dir,
                      struct stack_error **err);

/* Compose's normalisation of a project name: lowercase, only [a-z0-9_-],
 * leading characters that are not a letter or digit dropped.  Returns a new
 * string, empty if nothing is left. */
char *compose_normalize_project_name(const char *name);

#endif
