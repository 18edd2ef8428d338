#include "cli_host.h"

#include <dirent.h>
#include <stdlib.h>
#include <string.h>
#include <sys/time.h>

#include "orchestrator/supervisor/procinfo.h"
#include "orchestrator/supervisor/project_state.h"
#include "orchestrator/supervisor/sup_paths.h"
#include "runtime/util/cleanup.h"
#include "runtime/util/du.h"
#include "runtime/util/xalloc.h"

static bool alive(pid_t pid, uint64_t start_time, void *ctx) {
  (void)ctx;
  return proc_is_same(pid, start_time);
}

static int cmp_state(const void *a, const void *b) {
  return strcmp((*(struct project_state *const *)a)->project,
                (*(struct project_state *const *)b)->project);
}

void cli_host_load(struct cli_host *h) {
  *h = (struct cli_host){0};
  _cleanup_free_ char *dir = sup_projects_dir();
  _cleanup_closedir_ DIR *d = opendir(dir);
  struct timeval tv;
  gettimeofday(&tv, NULL);
  size_t cap = 0;
  for (struct dirent *e; d && (e = readdir(d));) {
    if (e->d_name[0] == '.')
      continue;
    __attribute__((cleanup(sup_paths_clear))) struct sup_paths p = {0};
    struct project_state *s = NULL;
    if (sup_paths_init(&p, e->d_name, NULL) < 0 ||
        project_state_load(p.state_file, e->d_name, &s, NULL) < 0)
      continue;
    project_state_reconcile(s, (int64_t)tv.tv_sec * 1000, alive, NULL);
    h->states = xgrow(h->states, &cap, h->n + 1, sizeof(*h->states));
    h->states[h->n++] = s;
  }
  if (h->n > 1)
    qsort(h->states, h->n, sizeof(*h->states), cmp_state);
}

void cli_host_clear(struct cli_host *h) {
  for (size_t i = 0; i < h->n; i++)
    project_state_free(h->states[i]);
  free(h->states);
  *h = (struct cli_host){0};
}

bool cli_host_uses_image(const struct cli_host *h, const char *image_id) {
  for (size_t i = 0; i < h->n; i++)
    for (size_t j = 0; j < h->states[i]->n_containers; j++) {
      const char *id = h->states[i]->containers[j].image_id;
      if (id && strcmp(id, image_id) == 0)
        return true;
    }
  return false;
}

uint64_t cli_host_layer_size(const char *project, const char *name) {
  __attribute__((cleanup(sup_paths_clear))) struct sup_paths p = {0};
  _cleanup_free_ char *layer = NULL;
  if (sup_paths_init(&p, project, NULL) < 0 || sup_paths_layer(&p, name, &layer, NULL) < 0)
    return 0;
  return fs_disk_usage(layer);
}
