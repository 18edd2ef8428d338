/* `stack ls`: the projects on this host, from their state files (no
 * supervisor is started for it). */
#include <cjson/cJSON.h>
#include <dirent.h>
#include <getopt.h>
#include <stdio.h>
#include <string.h>
#include <sys/time.h>

#include "cli.h"
#include "cli_table.h"
#include "orchestrator/supervisor/procinfo.h"
#include "orchestrator/supervisor/project_state.h"
#include "orchestrator/supervisor/sup_paths.h"
#include "runtime/util/cleanup.h"
#include "runtime/util/error.h"
#include "runtime/util/sbuf.h"
#include "runtime/util/xalloc.h"

static void usage(FILE *f, const char *prog) {
  fprintf(f,
          "Usage:  %s ls [OPTIONS]\n\n"
          "List running compose projects\n\n"
          "Options:\n"
          "  -a, --all             Show all stopped Compose projects\n"
          "      --format string   Format the output. Values: [table | json] (default \"table\")\n"
          "  -q, --quiet           Only display project names\n",
          prog);
}

static bool alive(pid_t pid, uint64_t start_time, void *ctx) {
  (void)ctx;
  return proc_is_same(pid, start_time);
}

static int cmp_names(const void *a, const void *b) {
  return strcmp(*(char *const *)a, *(char *const *)b);
}

/* "running(2), exited(1)" as Compose counts states. */
static char *project_status(const struct project_state *s, bool *running) {
  static const enum ctr_status order[] = {CTR_RUNNING, CTR_PAUSED, CTR_RESTARTING,
                                          CTR_CREATED, CTR_EXITED, CTR_DEAD};
  _cleanup_sbuf_ struct sbuf b = SBUF_INIT;
  *running = false;
  for (size_t k = 0; k < sizeof(order) / sizeof(order[0]); k++) {
    size_t n = 0;
    for (size_t i = 0; i < s->n_containers; i++)
      n += s->containers[i].status == order[k];
    if (n == 0)
      continue;
    if (order[k] == CTR_RUNNING)
      *running = true;
    sbuf_printf(&b, "%s%s(%zu)", b.len ? ", " : "", ctr_status_name(order[k]), n);
  }
  return sbuf_steal(&b);
}

int cli_ls(struct cli_globals *g, int argc, char **argv) {
  static const struct option opts[] = {
      {"all", no_argument, NULL, 'a'},
      {"quiet", no_argument, NULL, 'q'},
      {"format", required_argument, NULL, 'F'},
      {"help", no_argument, NULL, 'h'},
      {NULL, 0, NULL, 0},
  };
  bool all = false, quiet = false, json = false;
  int c;
  while ((c = getopt_long(argc, argv, "aqh", opts, NULL)) != -1) {
    if (c == 'a')
      all = true;
    else if (c == 'q')
      quiet = true;
    else if (c == 'F' && (strcmp(optarg, "json") == 0 || strcmp(optarg, "table") == 0))
      json = strcmp(optarg, "json") == 0;
    else if (c == 'h') {
      usage(stdout, g->progname);
      return 0;
    } else {
      usage(stderr, g->progname);
      return 1;
    }
  }
  _cleanup_free_ char *dir = sup_projects_dir();
  _cleanup_closedir_ DIR *d = opendir(dir);
  size_t n = 0, cap = 0;
  _cleanup_strv_ char **names = NULL;
  for (struct dirent *e; d && (e = readdir(d));) {
    if (e->d_name[0] == '.')
      continue;
    names = xgrow(names, &cap, n + 2, sizeof(char *));
    names[n++] = xstrdup(e->d_name);
    names[n] = NULL;
  }
  if (n)
    qsort(names, n, sizeof(char *), cmp_names);

  struct timeval tv;
  gettimeofday(&tv, NULL);
  static const char *const header[] = {"NAME", "STATUS", "CONFIG FILES"};
  struct cli_table t;
  cli_table_init(&t, 3, header);
  cJSON *arr = cJSON_CreateArray();
  int rc = 0;
  for (size_t i = 0; i < n; i++) {
    __attribute__((cleanup(sup_paths_clear))) struct sup_paths p = {0};
    _cleanup_project_state_ struct project_state *s = NULL;
    _cleanup_error_ struct stack_error *err = NULL;
    if (sup_paths_init(&p, names[i], NULL) < 0)
      continue; /* not a project directory of ours */
    if (project_state_load(p.state_file, names[i], &s, &err) < 0) {
      stack_error_print(err);
      rc = 1;
      continue;
    }
    /* The state is as the supervisor last wrote it; VMs may have died
     * since, with the supervisor: ask the kernel. */
    project_state_reconcile(s, (int64_t)tv.tv_sec * 1000, alive, NULL);
    bool running;
    _cleanup_free_ char *status = project_status(s, &running);
    if ((!running && !all) || s->n_containers == 0)
      continue;
    _cleanup_sbuf_ struct sbuf files = SBUF_INIT;
    for (char **f = s->config_files; f && *f; f++)
      sbuf_printf(&files, "%s%s", files.len ? "," : "", *f);
    if (quiet) {
      puts(names[i]);
    } else if (json) {
      cJSON *o = cJSON_CreateObject();
      cJSON_AddStringToObject(o, "Name", names[i]);
      cJSON_AddStringToObject(o, "Status", status);
      cJSON_AddStringToObject(o, "ConfigFiles", files.data ? files.data : "");
      cJSON_AddItemToArray(arr, o);
    } else {
      const char *row[] = {names[i], status, files.data};
      cli_table_add(&t, row);
    }
  }
  if (json) {
    _cleanup_free_ char *text = cJSON_PrintUnformatted(arr);
    puts(text);
  } else if (!quiet) {
    cli_table_print(&t, stdout);
  }
  cJSON_Delete(arr);
  cli_table_free(&t);
  return rc;
}
