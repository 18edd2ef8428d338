/* Where a project's supervisor keeps its files:
 *   <data root>/projects/<project>/state.json       project_state.h
 *   <data root>/projects/<project>/supervisor.log   the daemon's stderr
 *   <data root>/projects/<project>/logs/            container logs
 *   <run dir>/projects/<project>/supervisor.sock    the control socket
 *   <run dir>/projects/<project>/supervisor.lock    held by the live supervisor
 *   <run dir>/projects/<project>/start.lock         held while one is started */
#ifndef STACK_SUPERVISOR_SUP_PATHS_H
#define STACK_SUPERVISOR_SUP_PATHS_H

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
};

/* Fills p for project (a valid name: naming_check()); fails if the socket
 * path would not fit in a unix socket address, saying to shorten
 * STACK_RUN_DIR. */
int sup_paths_init(struct sup_paths *p, const char *project, struct stack_error **err);
/* Creates the state and run directories. */
int sup_paths_mkdirs(const struct sup_paths *p, struct stack_error **err);
void sup_paths_clear(struct sup_paths *p);

/* The directory holding every project's state directory (caller frees). */
char *sup_projects_dir(void);

#endif
