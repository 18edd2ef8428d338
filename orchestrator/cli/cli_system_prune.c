/* `stack system prune`: what `docker system prune` removes, host-wide:
 * stopped containers (through their projects' supervisors), networks no
 * container uses, with --volumes unused anonymous volumes, images (with -a
 * every image no container was made from, else only the store's garbage:
 * stack has no dangling images), and stack's own cache, the VM templates.
 * Stack builds nothing, so there is no build cache. */
#include <cjson/cJSON.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "cli_host.h"
#include "cli_project.h"
#include "cli_prompt.h"
#include "orchestrator/supervisor/project_state.h"
#include "orchestrator/supervisor/sup_client.h"
#include "orchestrator/supervisor/sup_paths.h"
#include "runtime/image/image.h"
#include "runtime/image/image_index.h"
#include "runtime/util/bytesize.h"
#include "runtime/util/cleanup.h"
#include "runtime/util/error.h"
#include "runtime/util/paths.h"
#include "runtime/util/sbuf.h"
#include "runtime/util/xalloc.h"
#include "runtime/vm/template.h"

static void records_freep(struct image_record ***v) { image_record_list_free(*v); }

static bool stopped(const struct ps_container *c) {
  return (c->status == CTR_EXITED || c->status == CTR_CREATED || c->status == CTR_DEAD) &&
         c->qemu_pid <= 0;
}

/* One project's stopped containers, removed by its supervisor (started
 * when none runs), which ends when no container is left; their IDs are
 * appended to ids, their layers' disk to *freed.  1 on failure (said). */
static int prune_project(const struct project_state *s, struct sbuf *ids, uint64_t *freed) {
  cJSON *names = cJSON_CreateArray();
  size_t n = 0;
  uint64_t bytes = 0;
  for (size_t i = 0; i < s->n_containers; i++)
    if (stopped(&s->containers[i])) {
      cJSON_AddItemToArray(names, cJSON_CreateString(s->containers[i].name));
      bytes += cli_host_layer_size(s->project, s->containers[i].name);
      n++;
    }
  if (n == 0) {
    cJSON_Delete(names);
    return 0;
  }
  __attribute__((cleanup(sup_paths_clear))) struct sup_paths paths = {0};
  _cleanup_sup_client_ struct sup_client *client = NULL;
  _cleanup_error_ struct stack_error *err = NULL;
  cJSON *params = cJSON_CreateObject();
  cJSON_AddItemToObject(params, "containers", names);
  cJSON *res = NULL;
  if (sup_paths_init(&paths, s->project, &err) < 0 ||
      sup_client_open(&paths, CLI_SUPERVISOR_EXE, &client, &err) < 0 ||
      sup_client_call(client, "rm", params, NULL, NULL, &res, &err) < 0) {
    if (client == NULL)
      cJSON_Delete(params);
    fprintf(stderr, "stack system prune: project %s: %s\n", s->project, err ? err->msg : "");
    return 1;
  }
  const cJSON *name;
  cJSON_ArrayForEach(name, cJSON_GetObjectItem(res, "removed")) {
    for (size_t i = 0; i < s->n_containers; i++)
      if (cJSON_IsString(name) && strcmp(s->containers[i].name, name->valuestring) == 0)
        sbuf_printf(ids, "%s\n", s->containers[i].id);
  }
  cJSON_Delete(res);
  res = NULL;
  *freed += bytes;
  if (n == s->n_containers) {
    /* nothing left: the project goes, as after `down` */
    if (sup_client_call(client, "shutdown", NULL, NULL, NULL, &res, &err) == 0)
      cJSON_Delete(res);
  }
  return 0;
}

/* Images: with all, every image no container was made from is untagged;
 * then the store's garbage (blobs, root disks, partial downloads of no
 * image) goes. */
static int prune_images(const struct cli_host *h, bool all, uint64_t *freed) {
  _cleanup_free_ char *root = stack_data_root();
  _cleanup_error_ struct stack_error *err = NULL;
  __attribute__((cleanup(records_freep))) struct image_record **recs = NULL;
  _cleanup_sbuf_ struct sbuf out = SBUF_INIT;
  int rc = 0;
  if (all && image_index_list(root, &recs, &err) == 0) {
    for (size_t i = 0; recs[i]; i++) {
      if (cli_host_uses_image(h, recs[i]->config_digest))
        continue;
      if (image_index_remove(root, recs[i]->ref, &err) < 0) {
        fprintf(stderr, "stack system prune: %s\n", err->msg);
        stack_error_free(err);
        err = NULL;
        rc = 1;
        continue;
      }
      _cleanup_free_ char *repo = NULL, *tag = NULL;
      image_ref_display(recs[i]->ref, &repo, &tag);
      sbuf_printf(&out, "untagged: %s:%s\n", repo, tag);
      /* deleted once its last tag is gone */
      bool last = true;
      for (size_t j = i + 1; recs[j] && last; j++)
        last = strcmp(recs[j]->config_digest, recs[i]->config_digest) != 0 ||
               cli_host_uses_image(h, recs[j]->config_digest);
      if (last)
        sbuf_printf(&out, "deleted: %s\n", recs[i]->config_digest);
    }
  }
  if (image_prune(root, freed, &err) < 0) {
    fprintf(stderr, "stack system prune: %s\n", err->msg);
    rc = 1;
  }
  if (out.len)
    printf("Deleted Images:\n%s\n", out.data);
  return rc;
}

static void usage(FILE *f, const char *prog) {
  fprintf(f,
          "Usage:  %s system prune [OPTIONS]\n\n"
          "Remove unused data\n\n"
          "Options:\n"
          "  -a, --all       Remove all unused images not just dangling ones\n"
          "  -f, --force     Do not prompt for confirmation\n"
          "      --volumes   Prune anonymous volumes\n",
          prog);
}

int cli_system_prune(struct cli_globals *g, int argc, char **argv) {
  static const struct option opts[] = {
      {"all", no_argument, NULL, 'a'},
      {"force", no_argument, NULL, 'f'},
      {"volumes", no_argument, NULL, 'v'},
      {"help", no_argument, NULL, 'h'},
      {NULL, 0, NULL, 0},
  };
  bool all = false, force = false, volumes = false;
  optind = 0;
  int c;
  while ((c = getopt_long(argc, argv, "afh", opts, NULL)) != -1) {
    if (c == 'a')
      all = true;
    else if (c == 'f')
      force = true;
    else if (c == 'v')
      volumes = true;
    else {
      usage(c == 'h' ? stdout : stderr, g->progname);
      return c == 'h' ? 0 : 1;
    }
  }
  if (optind < argc) {
    fprintf(stderr, "%s: 'system prune' accepts no arguments\n", g->progname);
    return 1;
  }
  _cleanup_sbuf_ struct sbuf warn = SBUF_INIT;
  sbuf_puts(&warn, "WARNING! This will remove:\n"
                   "  - all stopped containers\n"
                   "  - all networks not used by at least one container\n");
  if (volumes)
    sbuf_puts(&warn, "  - all anonymous volumes not used by at least one container\n");
  sbuf_puts(&warn, all ? "  - all images without at least one container associated to them\n"
                       : "  - all dangling images\n");
  sbuf_puts(&warn, "  - all VM templates\n\n");
  if (!force && !cli_confirm(warn.data))
    return 0;

  int rc = 0;
  uint64_t freed = 0;
  struct cli_host h;
  cli_host_load(&h);
  /* the networks first: removing a project's last container ends it,
   * and its networks with it, unlisted */
  _cleanup_sbuf_ struct sbuf ids = SBUF_INIT, nets = SBUF_INIT;
  cli_network_prune_unused(&nets);
  for (size_t i = 0; i < h.n; i++)
    rc |= prune_project(h.states[i], &ids, &freed);
  if (ids.len)
    printf("Deleted Containers:\n%s\n", ids.data);
  if (nets.len)
    printf("Deleted Networks:\n%s\n", nets.data);
  if (volumes)
    rc |= cli_volume_prune_unused(false, NULL, &freed);
  /* what the containers still there were made from stays */
  cli_host_clear(&h);
  cli_host_load(&h);
  rc |= prune_images(&h, all, &freed);
  cli_host_clear(&h);
  _cleanup_strv_ char **keys = NULL;
  template_prune(&keys, &freed);
  if (keys) {
    printf("Deleted VM Templates:\n");
    for (char **k = keys; *k; k++)
      printf("%s\n", *k);
    printf("\n");
  }
  _cleanup_free_ char *size = human_size_si((double)freed, 4);
  printf("Total reclaimed space: %s\n", size);
  return rc;
}
