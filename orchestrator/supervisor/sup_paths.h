/* Where a project's supervisor keeps its files:
 *   <data root>/projects/<project>/state.json       project_state.h
 *   <data root>/projects/<project>/supervisor.log   the daemon's stderr
 *   <data root>/projects/<project>/logs/            container logs
 *   <data root>/projects/<project>/layers/<name>.img a container's writable layer
 *   <data root>/projects/<project>/binds/<name>/    its single-file bind mounts
 *   <run dir>/projects/<project>/supervisor.sock    the control socket
 *   <run dir>/projects/<project>/supervisor.lock    held by the live supervisor
 *   <run dir>/projects/<project>/start.lock         held while one is started
 * Every path is built by state_path_join() (runtime/util/state_path.h). */
#ifndef STACK_SUPERVISOR_SUP_PATHS_H
#define STACK_SUPERVISOR_SUP_PATHS_H

#include <stdbool.h>

struct stack_error;

struct sup_paths {
  char *project;
  char *state_dir;
  char *state_file;
  char *log_file;
  char *logs_dir;
  char *run_dir;
  char *socket;
  char *lock;
  char *start_lock;
  bool removed; /* sup_paths_remove() ran: nothing may be written there */
};

/* Fills p for project (a valid name: naming_check()); fails if the socket
 * path would not fit in a unix socket address, saying to shorten
 * STACK_RUN_DIR. */
int sup_paths_init(struct sup_paths *p, const char *project, struct stack_error **err);
/* Creates the state and run directories. */
int sup_paths_mkdirs(const struct sup_paths *p, struct stack_error **err);
/* The project has no container left and its supervisor (the caller, who
 * holds supervisor.lock) stops: removes its files and directories under
 * the data root and the run dir (state, logs, lock files, socket); what is
 * not empty, or not the supervisor's (network.json a failed network
 * clean-up left), stays. */
void sup_paths_remove(struct sup_paths *p);
/* Removes the temporary files of atomic writes (fs_write_file_atomic())
 * that a supervisor killed in the middle of one left in the project's
 * state directory.  Only for the holder of the supervisor lock. */
void sup_paths_clean_tmp(struct sup_paths *p);
/* The same from outside (`down` when no supervisor runs): only when no
 * supervisor holds supervisor.lock and there is no state.json, for what an
 * earlier stack left (lock files, supervisor.log, empty directories). */
void sup_paths_remove_unused(struct sup_paths *p);
void sup_paths_clear(struct sup_paths *p);

/* Where container name keeps its writable layer between runs of its VM:
 * <state dir>/layers/<name>.img into *out (caller frees); an error if name
 * is not a plain file name (state_path_join()). */
int sup_paths_layer(const struct sup_paths *p, const char *name, char **out,
                    struct stack_error **err);
/* The directory through which container name's single-file bind mounts
 * are shared (sup_volumes.h): <state dir>/binds/<name>, made afresh at each
 * start, removed with the container.  As above. */
int sup_paths_binds(const struct sup_paths *p, const char *name, char **out,
                    struct stack_error **err);

/* The directory holding every project's state directory (caller frees). */
char *sup_projects_dir(void);

#endif
