/* Volumes and bind mounts: host directories shared into a service's VM
 * over virtio-9p (runtime/vm/vm.h, struct vm_share) and mounted by the
 * guest where the service wants them.
 *
 *   bind      the host path itself (created when missing, as Compose does
 *             for the short syntax); a single file through a directory of
 *             its own under binds_dir holding a hard link to it (the same
 *             file, but not the files beside it), mounted by the guest on
 *             a staging directory, bound on the target, then unmounted
 *   volume    (while empty and unless nocopy or read-only, the guest first
 *             copies the image's files at the target into it: "9p+copy")
 *             <data root>/volumes/<name>/_data, <name> being the volume's
 *             resolved name (`<project>_<key>` unless `name:` says
 *             otherwise); made on first use and marked as the project's
 *             (<data root>/volumes/<name>/project), so `down -v` removes
 *             it; an `external` volume must exist; the hash of its
 *             definition (driver, options, labels) is kept beside it
 *             (config_hash), so that `up` sees when the file changes it
 *   anonymous <data root>/volumes/<container>-anon-<hash of target>/_data:
 *             kept across restarts of the container, removed by `down -v`
 *   tmpfs     not here (service_resources.h, sup_service_mounts())
 */
#ifndef STACK_SUPERVISOR_SUP_VOLUMES_H
#define STACK_SUPERVISOR_SUP_VOLUMES_H

#include <stddef.h>

struct compose_project;
struct compose_service;
struct proto_mount;
struct stack_error;
struct vm_share;

/* Fills shares (at most max) and the matching guest mounts (appended to
 * mounts at *n_mounts, at most max_mounts) for svc's volumes in container
 * ctr_name; single files are linked into binds_dir (emptied first);
 * strings they point to are added to *strings (a strv the caller frees).
 * Errors name the service and the volume. */
int sup_volumes_resolve(const struct compose_project *p, const struct compose_service *svc,
                        const char *ctr_name, const char *binds_dir, struct vm_share *shares,
                        size_t max,
                        size_t *n_shares, struct proto_mount *mounts, size_t max_mounts,
                        size_t *n_mounts, char ***strings, struct stack_error **err);

/* `down -v`: removes every volume marked as project's; *removed lists
 * their names (strv, caller frees). */
int sup_volumes_remove(const char *project, char ***removed, struct stack_error **err);

/* The project's volumes (their names) whose definition (driver, driver
 * options, labels) differs from the one they were made with. */
int sup_volumes_diverged(const struct compose_project *p, char ***names,
                         struct stack_error **err);

/* Removes volume name (its data with it). */
int sup_volume_remove(const char *name, struct stack_error **err);

/* Removes the anonymous volumes of container ctr_name (`up -V`). */
int sup_volumes_remove_anon(const char *ctr_name, struct stack_error **err);

#endif
