/* Normalisation of the Compose tree, in the stages compose-go has them:
 *
 *   per file, before merging:  compose_canonical()    short -> long syntax
 *   per file, after merging:   compose_resolve_paths()
 *   once, on the project:      compose_finalize()     environment, env_file,
 *                                                     label_file resolved
 *                              compose_normalize()    defaults (default
 *                                                     network, names, ...) as
 *                                                     `docker compose config`
 *                                                     prints them; skipped by
 *                                                     --no-normalize
 *
 * Scalars the stages make follow one rule that the emitter relies on: a
 * quoted scalar is a string, a plain one is a number, boolean or null. */
#ifndef STACK_COMPOSE_NORMALIZE_H
#define STACK_COMPOSE_NORMALIZE_H

#include "node.h"

struct stack_error;

/* Rewrites every short syntax of one file's tree into the long one, like
 * compose-go's transform.Canonical: ports (one entry per port of a range),
 * volumes, depends_on, environment/labels/annotations/extra_hosts/sysctls/
 * build.args (list -> map, "KEY" alone -> null), healthcheck.test,
 * networks, secrets/configs, build (string -> {context}), ulimits, env_file,
 * label_file, command/entrypoint, durations, byte sizes.  Call it after
 * compose_validate_schema() (it assumes well-typed input but still returns
 * -EINVAL with file:line:col for values it cannot parse). */
int compose_canonical(struct cnode *file_tree, struct stack_error **err);

/* Makes relative paths absolute against base_dir (the directory of the file
 * they were written in): build.context (unless a URL), additional_contexts,
 * bind mount sources ("~" is $HOME), env_file, label_file, secrets/configs
 * `file`, extends.file.  Expects a canonical tree. */
int compose_resolve_paths(struct cnode *project, const char *base_dir, struct stack_error **err);

/* Resolves each service's environment after merging: env_file contents
 * (in order; a missing file is an error unless required: false), then
 * `environment`, and values left null take the variable from `env`
 * (a NULL-terminated "K=V" list; variables it lacks stay null).  Likewise
 * label_file -> labels.  Returns 0 or -errno/-EINVAL. */
int compose_finalize(struct cnode *project, const char *const *env, struct stack_error **err);

/* Adds what `docker compose config` adds after loading: the project name
 * (top-level `name` must be set already) on networks/volumes
 * ("<project>_<key>" unless external or named), the `default` network where
 * a service has no networks and no network_mode, build.dockerfile
 * "Dockerfile", ... */
int compose_normalize(struct cnode *project, struct stack_error **err);

#endif
