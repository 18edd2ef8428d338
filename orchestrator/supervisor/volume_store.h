/* Named volumes on this host, as `docker volume` shows them:
 *
 *   <data root>/volumes/<name>/_data        the files (shared into VMs)
 *   <data root>/volumes/<name>/project      the project that made it
 *                                           (`down -v` removes it)
 *   <data root>/volumes/<name>/volume.json  {"CreatedAt", "Labels"}
 *   <data root>/volumes/<name>/users/<project>/<container>
 *                                           a container that mounts it
 *
 * A volume is in use while a container that mounted it still exists in
 * its project's state (any status, as with Docker); stale user marks of
 * removed containers are ignored.  A volume made by an older stack has no
 * volume.json: its labels come from the project mark and its creation
 * time from the directory. */
#ifndef STACK_SUPERVISOR_VOLUME_STORE_H
#define STACK_SUPERVISOR_VOLUME_STORE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct stack_error;

/* Labels Compose puts on the volumes it makes, and Docker's mark of an
 * anonymous volume. */
#define VOLUME_LABEL_PROJECT "com.docker.compose.project"
#define VOLUME_LABEL_VOLUME "com.docker.compose.volume"
#define VOLUME_LABEL_VERSION "com.docker.compose.version"
#define VOLUME_LABEL_ANONYMOUS "com.docker.volume.anonymous"

struct volume_info {
  char *name;
  char *mountpoint; /* .../volumes/<name>/_data */
  char *project;    /* the owner project, or NULL (made by `volume create`) */
  char **labels;    /* "key=value", sorted; may be NULL */
  int64_t created;  /* seconds since the epoch */
};

void volume_info_clear(struct volume_info *v);

/* Every volume, sorted by name (*out: n entries, free each with
 * volume_info_clear() and the array with free()). */
int volume_store_list(struct volume_info **out, size_t *n, struct stack_error **err);

/* One volume; -ENOENT (with Docker's message) when there is none. */
int volume_store_get(const char *name, struct volume_info *out, struct stack_error **err);

/* Makes volume name with its labels ("key=value", may be NULL), owned by
 * project (NULL: nobody's; `down -v` leaves it).  An existing volume is
 * kept as it is: *created (may be NULL) says which happened.  Its path in
 * *data_dir when data_dir is not NULL (caller frees). */
int volume_store_create(const char *name, const char *project, char *const *labels,
                        bool *created, char **data_dir, struct stack_error **err);

/* Records that container ctr of project mounts the volume (failures are
 * ignored: the mark only guards removal). */
void volume_store_add_user(const char *name, const char *project, const char *ctr);

/* The containers ("project/container") that exist and mount the volume
 * (NULL-terminated, NULL when none; caller frees with strv_free()). */
char **volume_store_users(const char *name);

/* Removes the volume and its files. */
int volume_store_remove(const char *name, struct stack_error **err);

/* Whether a name is one `volume create` accepts (Docker's
 * [a-zA-Z0-9][a-zA-Z0-9_.-]+); a message saying why not otherwise. */
int volume_store_check_name(const char *name, struct stack_error **err);

#endif
