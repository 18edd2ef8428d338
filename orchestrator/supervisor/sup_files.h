/* A service's `secrets` and `configs` as files the guest writes once the
 * container's root is up (guest/proto.h, struct proto_file).
 *
 *   secrets   /run/secrets/<source> unless `target` says otherwise (a
 *             relative target is under /run/secrets), on a tmpfs the guest
 *             mounts there, so they never reach the writable layer
 *   configs   /<source> unless `target` says otherwise
 *
 * Content comes from the top-level object: `file` (read on the host),
 * `environment` (the variable in the supervisor's environment, inherited
 * from the `stack` that started it) or `content` (configs).  `mode`
 * defaults to 0444, `uid`/`gid` to 0, as with Compose. */
#ifndef STACK_SUPERVISOR_SUP_FILES_H
#define STACK_SUPERVISOR_SUP_FILES_H

#include <stddef.h>

struct compose_project;
struct compose_service;
struct proto_file;
struct proto_mount;
struct stack_error;

/* Fills files (at most max) for svc, and appends the /run/secrets tmpfs to
 * mounts (at *n_mounts, at most max_mounts) when a secret goes there; the
 * memory they point to is added to *strings (a strv the caller frees).
 * Errors name the service and the secret or config. */
int sup_service_files(const struct compose_project *p, const struct compose_service *svc,
                      struct proto_file *files, size_t max, size_t *n_files,
                      struct proto_mount *mounts, size_t max_mounts, size_t *n_mounts,
                      char ***strings, struct stack_error **err);

#endif
