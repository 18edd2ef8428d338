/* `stack system df`: what stack's things take on this host, in `docker
 * system df`'s rows (Images, Containers, Local Volumes, Build Cache) and
 * one of stack's own (VM Templates), each with how much a prune would
 * reclaim. */
#include <cjson/cJSON.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "cli_host.h"
#include "cli_table.h"
#include "orchestrator/supervisor/project_state.h"
#include "orchestrator/supervisor/volume_store.h"
#include "runtime/image/image_index.h"
#include "runtime/util/bytesize.h"
#include "runtime/util/cjson_cleanup.h"
#include "runtime/util/du.h"
#include "runtime/util/cleanup.h"
#include "runtime/util/error.h"
#include "runtime/util/paths.h"
#include "runtime/util/xalloc.h"
#include "runtime/vm/template.h"

struct df_row {
  const char *type;
  size_t total, active;
  uint64_t size, reclaimable;
  bool percent; /* Docker adds "(N%)" to RECLAIMABLE, not for the build cache */
};

static void records_freep(struct image_record ***v) { image_record_list_free(*v); }

static void df_images(const struct cli_host *h, struct df_row *r) {
  _cleanup_free_ char *root = stack_data_root();
  __attribute__((cleanup(records_freep))) struct image_record **recs = NULL;
  if (image_index_list(root, &recs, NULL) < 0)
    return;
  /* an image with several tags counts once */
  for (size_t i = 0; recs[i]; i++) {
    bool seen = false;
    for (size_t j = 0; j < i && !seen; j++)
      seen = strcmp(recs[j]->config_digest, recs[i]->config_digest) == 0;
    if (seen)
      continue;
    r->total++;
    r->size += (uint64_t)recs[i]->size;
    if (cli_host_uses_image(h, recs[i]->config_digest))
      r->active++;
    else
      r->reclaimable += (uint64_t)recs[i]->size;
  }
}

static void df_containers(const struct cli_host *h, struct df_row *r) {
  for (size_t i = 0; i < h->n; i++)
    for (size_t j = 0; j < h->states[i]->n_containers; j++) {
      const char *project = h->states[i]->project;
      const struct ps_container *c = &h->states[i]->containers[j];
      bool running = c->status == CTR_RUNNING || c->status == CTR_PAUSED ||
                     c->status == CTR_RESTARTING || c->qemu_pid > 0;
      /* the writable layer is what a container adds on disk */
      uint64_t size = cli_host_layer_size(project, c->name);
      r->total++;
      r->size += size;
      if (running)
        r->active++;
      else
        r->reclaimable += size;
    }
}

static void df_volumes(struct df_row *r) {
  struct volume_info *v = NULL;
  size_t n = 0;
  if (volume_store_list(&v, &n, NULL) < 0)
    return;
  for (size_t i = 0; i < n; i++) {
    uint64_t size = fs_content_size(v[i].mountpoint);
    _cleanup_strv_ char **users = volume_store_users(v[i].name);
    r->total++;
    r->size += size;
    if (users)
      r->active++;
    else
      r->reclaimable += size;
    volume_info_clear(&v[i]);
  }
  free(v);
}

static char *reclaimable(const struct df_row *r) {
  _cleanup_free_ char *s = human_size_si((double)r->reclaimable, 4);
  if (!r->percent || r->size == 0)
    return steal_pointer(&s);
  return xasprintf("%s (%u%%)", s, (unsigned)(r->reclaimable * 100 / r->size));
}

static void usage(FILE *f, const char *prog) {
  fprintf(f,
          "Usage:  %s system df [OPTIONS]\n\n"
          "Show disk usage\n\n"
          "Options:\n"
          "      --format string   Format output: table (default) or json\n",
          prog);
}

int cli_system_df(struct cli_globals *g, int argc, char **argv) {
  static const struct option opts[] = {
      {"format", required_argument, NULL, 'F'},
      {"help", no_argument, NULL, 'h'},
      {NULL, 0, NULL, 0},
  };
  bool json = false;
  optind = 0;
  int c;
  while ((c = getopt_long(argc, argv, "h", opts, NULL)) != -1) {
    if (c == 'F' && (strcmp(optarg, "json") == 0 || strcmp(optarg, "{{json .}}") == 0)) {
      json = true;
    } else if (c == 'F' && strcmp(optarg, "table") == 0) {
      json = false;
    } else {
      if (c == 'F')
        fprintf(stderr, "stack system df: unsupported format \"%s\": use table or json\n",
                optarg);
      usage(c == 'h' ? stdout : stderr, g->progname);
      return c == 'h' ? 0 : 1;
    }
  }
  if (optind < argc) {
    fprintf(stderr, "%s: 'system df' accepts no arguments\n", g->progname);
    return 1;
  }
  struct cli_host h;
  cli_host_load(&h);
  struct df_row rows[] = {
      {.type = "Images", .percent = true},
      {.type = "Containers", .percent = true},
      {.type = "Local Volumes", .percent = true},
      {.type = "Build Cache"}, /* stack builds nothing: always empty */
      {.type = "VM Templates", .percent = true},
  };
  df_images(&h, &rows[0]);
  df_containers(&h, &rows[1]);
  df_volumes(&rows[2]);
  size_t tcount = 0;
  unsigned long long tbytes = 0;
  template_stats(&tcount, &tbytes);
  rows[4].total = tcount;
  rows[4].size = rows[4].reclaimable = tbytes;
  cli_host_clear(&h);

  struct cli_table t;
  static const char *const header[] = {"TYPE", "TOTAL", "ACTIVE", "SIZE", "RECLAIMABLE"};
  cli_table_init(&t, 5, header);
  t.minwidth = 10;
  for (size_t i = 0; i < sizeof(rows) / sizeof(rows[0]); i++) {
    char total[24], active[24];
    snprintf(total, sizeof(total), "%zu", rows[i].total);
    snprintf(active, sizeof(active), "%zu", rows[i].active);
    _cleanup_free_ char *size = human_size_si((double)rows[i].size, 4);
    _cleanup_free_ char *rec = reclaimable(&rows[i]);
    if (json) {
      _cleanup_cjson_ cJSON *o = cJSON_CreateObject();
      cJSON_AddStringToObject(o, "Active", active);
      cJSON_AddStringToObject(o, "Reclaimable", rec);
      cJSON_AddStringToObject(o, "Size", size);
      cJSON_AddStringToObject(o, "TotalCount", total);
      cJSON_AddStringToObject(o, "Type", rows[i].type);
      _cleanup_free_ char *line = cJSON_PrintUnformatted(o);
      printf("%s\n", line);
    } else {
      const char *row[] = {rows[i].type, total, active, size, rec};
      cli_table_add(&t, row);
    }
  }
  if (!json)
    cli_table_print(&t, stdout);
  cli_table_free(&t);
  return 0;
}
