#include "sup_paths.h"

#include <errno.h>
#include <string.h>
#include <sys/un.h>

#include "naming.h"
#include "runtime/util/cleanup.h"
#include "runtime/util/error.h"
#include "runtime/util/fsutil.h"
#include "runtime/util/paths.h"
#include "runtime/util/xalloc.h"

char *sup_projects_dir(void) {
  _cleanup_free_ char *root = stack_data_root();
  return fs_path_join(root, "projects");
}

int sup_paths_init(struct sup_paths *p, const char *project, struct stack_error **err) {
  *p = (struct sup_paths){0};
  int r = naming_check("project", project, err);
  if (r < 0)
    return r;
  _cleanup_free_ char *projects = sup_projects_dir();
  _cleanup_free_ char *run = stack_run_dir();
  p->project = xstrdup(project);
  p->state_dir = xasprintf("%s/%s", projects, project);
  p->state_file = xasprintf("%s/state.json", p->state_dir);
  p->log_file = xasprintf("%s/supervisor.log", p->state_dir);
  p->logs_dir = xasprintf("%s/logs", p->state_dir);
  p->run_dir = xasprintf("%s/projects/%s", run, project);
  p->socket = xasprintf("%s/supervisor.sock", p->run_dir);
  p->lock = xasprintf("%s/supervisor.lock", p->run_dir);
  p->start_lock = xasprintf("%s/start.lock", p->run_dir);
  if (strlen(p->socket) >= sizeof(((struct sockaddr_un *)0)->sun_path)) {
    r = stack_error_set(err, -ENAMETOOLONG,
                        "the supervisor socket path %s is longer than a unix socket allows "
                        "(107 bytes): set STACK_RUN_DIR to a shorter directory or use a "
                        "shorter project name",
                        p->socket);
    sup_paths_clear(p);
    return r;
  }
  return 0;
}

int sup_paths_mkdirs(const struct sup_paths *p, struct stack_error **err) {
  int r = fs_mkdir_p(p->state_dir, 0700, err);
  if (r == 0)
    r = fs_mkdir_p(p->logs_dir, 0700, err);
  if (r == 0)
    r = fs_mkdir_p(p->run_dir, 0700, err);
  return r;
}

void sup_paths_clear(struct sup_paths *p) {
  free(p->project);
  free(p->state_dir);
  free(p->state_file);
  free(p->log_file);
  free(p->logs_dir);
  free(p->run_dir);
  free(p->socket);
  free(p->lock);
  free(p->start_lock);
  *p = (struct sup_paths){0};
}
