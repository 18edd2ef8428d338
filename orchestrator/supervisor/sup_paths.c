#include "sup_paths.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <sys/file.h>
#include <sys/un.h>
#include <unistd.h>

#include "naming.h"
#include "runtime/util/cleanup.h"
#include "runtime/util/error.h"
#include "runtime/util/fsutil.h"
#include "runtime/util/paths.h"
#include "runtime/util/state_path.h"
#include "runtime/util/xalloc.h"

char *sup_projects_dir(void) {
  _cleanup_free_ char *root = stack_data_root();
  return fs_path_join(root, "projects");
}

static int join(const char *dir, const char *name, char **out, struct stack_error **err) {
  return state_path_join(dir, (const char *const[]){name, NULL}, out, err);
}

int sup_paths_init(struct sup_paths *p, const char *project, struct stack_error **err) {
  *p = (struct sup_paths){0};
  int r = naming_check("project", project, err);
  if (r < 0)
    return r;
  _cleanup_free_ char *projects = sup_projects_dir();
  _cleanup_free_ char *run = stack_run_dir();
  _cleanup_free_ char *run_projects = fs_path_join(run, "projects");
  p->project = xstrdup(project);
  if ((r = join(projects, project, &p->state_dir, err)) < 0 ||
      (r = join(p->state_dir, "state.json", &p->state_file, err)) < 0 ||
      (r = join(p->state_dir, "supervisor.log", &p->log_file, err)) < 0 ||
      (r = join(p->state_dir, "logs", &p->logs_dir, err)) < 0 ||
      (r = join(run_projects, project, &p->run_dir, err)) < 0 ||
      (r = join(p->run_dir, "supervisor.sock", &p->socket, err)) < 0 ||
      (r = join(p->run_dir, "supervisor.lock", &p->lock, err)) < 0 ||
      (r = join(p->run_dir, "start.lock", &p->start_lock, err)) < 0) {
    sup_paths_clear(p);
    return r;
  }
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
  _cleanup_free_ char *root = stack_data_root();
  _cleanup_free_ char *run = stack_run_dir();
  int r = state_mkdir(root, (const char *const[]){"projects", p->project, "logs", NULL}, 0700,
                      err);
  if (r == 0)
    r = state_mkdir(run, (const char *const[]){"projects", p->project, NULL}, 0700, err);
  return r;
}

void sup_paths_clean_tmp(struct sup_paths *p) {
  _cleanup_close_ int dfd = open(p->state_dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  DIR *d = dfd >= 0 ? fdopendir(dfd) : NULL;
  if (d == NULL)
    return;
  dfd = -1; /* the DIR owns it */
  struct dirent *de;
  while ((de = readdir(d)) != NULL) {
    /* "<file>.tmp.<pid>": the lock holder's own writes are complete */
    const char *t = strstr(de->d_name, ".tmp.");
    if (t && t[5] && strspn(t + 5, "0123456789") == strlen(t + 5) && de->d_type == DT_REG)
      unlinkat(dirfd(d), de->d_name, 0);
  }
  closedir(d);
}

void sup_paths_remove(struct sup_paths *p) {
  static const char *const state_dirs[] = {"logs", "layers", "binds"};
  sup_paths_clean_tmp(p);
  unlink(p->state_file);
  unlink(p->log_file);
  for (size_t i = 0; i < sizeof(state_dirs) / sizeof(state_dirs[0]); i++) {
    _cleanup_free_ char *d = NULL;
    if (join(p->state_dir, state_dirs[i], &d, NULL) == 0)
      rmdir(d);
  }
  rmdir(p->state_dir);
  unlink(p->socket);
  /* start.lock: only when no `stack` is starting a supervisor now (it
   * holds the lock); one that opened it before it goes finds it gone
   * after locking and opens it afresh (fs_lock_path()). */
  _cleanup_close_ int start = open(p->start_lock, O_RDWR | O_CLOEXEC | O_NOFOLLOW);
  if (start >= 0 && flock(start, LOCK_EX | LOCK_NB) == 0)
    unlink(p->start_lock);
  /* supervisor.lock is held by the caller, the supervisor */
  unlink(p->lock);
  rmdir(p->run_dir);
  p->removed = true;
}

void sup_paths_remove_unused(struct sup_paths *p) {
  if (fs_exists(p->state_file) || (!fs_exists(p->state_dir) && !fs_exists(p->run_dir)))
    return;
  /* the lock's directory may be gone (a reboot emptied the run dir) */
  _cleanup_close_ int lock = sup_paths_mkdirs(p, NULL) == 0
                                 ? fs_lock_path(p->lock, LOCK_EX | LOCK_NB, NULL)
                                 : -1;
  if (lock >= 0 && !fs_exists(p->state_file))
    sup_paths_remove(p);
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

int sup_paths_layer(const struct sup_paths *p, const char *name, char **out,
                    struct stack_error **err) {
  _cleanup_free_ char *file = xasprintf("%s.img", name);
  return state_path_join(p->state_dir, (const char *const[]){"layers", file, NULL}, out, err);
}

int sup_paths_binds(const struct sup_paths *p, const char *name, char **out,
                    struct stack_error **err) {
  return state_path_join(p->state_dir, (const char *const[]){"binds", name, NULL}, out, err);
}
