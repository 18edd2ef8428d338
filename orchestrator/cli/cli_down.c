/* `stack down`: remove the project's containers and stop its supervisor;
 * with --rmi, the images its containers use. */
#include <cjson/cJSON.h>
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <string.h>

#include "cli.h"
#include "cli_project.h"
#include "orchestrator/supervisor/sup_client.h"
#include "orchestrator/supervisor/sup_paths.h"
#include "orchestrator/supervisor/sup_volumes.h"
#include "runtime/image/image.h"
#include "runtime/util/cleanup.h"
#include "runtime/util/error.h"
#include "runtime/util/paths.h"
#include "runtime/util/xalloc.h"

static void usage(FILE *f, const char *prog) {
  fprintf(f,
          "Usage:  %s down [OPTIONS]\n\n"
          "Stop and remove containers, networks\n\n"
          "Options:\n"
          "      --remove-orphans    Remove containers for services not defined in the Compose file\n"
          "      --rmi string        Remove images used by services. \"local\" remove only images that\n"
          "                          don't have a custom tag (\"local\"|\"all\"); every image stack\n"
          "                          runs is named in the file, so \"local\" removes none\n"
          "  -t, --timeout int       Specify a shutdown timeout in seconds\n"
          "  -v, --volumes           Remove named volumes declared in the \"volumes\" section of the\n"
          "                          Compose file (stack has no named volumes yet: removes nothing)\n",
          prog);
}

/* The distinct image references the project's containers were made from. */
static int images_used(struct sup_client *client, char ***out, struct stack_error **err) {
  cJSON *res = NULL;
  int r = sup_client_call(client, "ps", NULL, NULL, NULL, &res, err);
  if (r < 0)
    return r;
  size_t n = 0;
  char **v = xcalloc((size_t)cJSON_GetArraySize(cJSON_GetObjectItem(res, "containers")) + 1,
                     sizeof(char *));
  const cJSON *ct;
  cJSON_ArrayForEach(ct, cJSON_GetObjectItem(res, "containers")) {
    const char *ref = cJSON_GetStringValue(cJSON_GetObjectItem(ct, "image"));
    bool seen = ref == NULL;
    for (size_t i = 0; !seen && i < n; i++)
      seen = strcmp(v[i], ref) == 0;
    if (!seen)
      v[n++] = xstrdup(ref);
  }
  cJSON_Delete(res);
  *out = v;
  return 0;
}

/* Removes the images once no container of the project uses them; one that
 * is gone already is no error (Compose's down goes on too). */
static int remove_images(char **images) {
  _cleanup_free_ char *root = stack_data_root();
  int rc = 0;
  for (size_t i = 0; images && images[i]; i++) {
    _cleanup_error_ struct stack_error *e = NULL;
    int r = image_remove(root, images[i], NULL, &e);
    if (r == 0)
      fprintf(stderr, " Image %s  Removed\n", images[i]);
    else if (r != -ENOENT) {
      fprintf(stderr, "Error response from daemon: %s\n", e->msg);
      rc = 1;
    }
  }
  return rc;
}

int cli_down(struct cli_globals *g, int argc, char **argv) {
  static const struct option opts[] = {
      {"remove-orphans", no_argument, NULL, 'o'},
      {"timeout", required_argument, NULL, 't'},
      {"volumes", no_argument, NULL, 'v'},
      {"rmi", required_argument, NULL, 'r'},
      {"help", no_argument, NULL, 'h'},
      {NULL, 0, NULL, 0},
  };
  int c;
  double timeout = -1;
  bool rmi_all = false, volumes = false;
  while ((c = getopt_long(argc, argv, "t:vh", opts, NULL)) != -1) {
    if (c == 't' && cli_parse_timeout(g, "down", optarg, &timeout) < 0)
      return 1;
    if (c == 'v')
      volumes = true;
    if (c == 'r') {
      if (strcmp(optarg, "all") != 0 && strcmp(optarg, "local") != 0) {
        fprintf(stderr, "%s down: invalid --rmi value %s: use \"local\" or \"all\"\n",
                g->progname, optarg);
        return 1;
      }
      /* "local": images without a custom tag, which Compose builds and names
       * itself; stack runs only images named in the file. */
      rmi_all = strcmp(optarg, "all") == 0;
    }
    if (c == 'h') {
      usage(stdout, g->progname);
      return 0;
    }
    if (c == '?' || c == ':') {
      usage(stderr, g->progname);
      return 1;
    }
  }
  if (optind != argc) {
    fprintf(stderr, "%s down: takes no arguments\n", g->progname);
    return 1;
  }
  _cleanup_strv_ char **images = NULL;
  __attribute__((cleanup(sup_paths_clear))) struct sup_paths paths = {0};
  _cleanup_sup_client_ struct sup_client *client = NULL;
  _cleanup_error_ struct stack_error *err = NULL;
  cJSON *res = NULL;
  if (cli_project_client(g, false, &paths, &client, &err) < 0)
    goto fail;
  if (client == NULL)
    sup_paths_remove_unused(&paths); /* what an earlier stack left */
  if (client == NULL && !volumes)
    return 0; /* nothing is running */
  if (client == NULL) {
    _cleanup_strv_ char **removed = NULL;
    if (sup_volumes_remove(paths.project, &removed, &err) < 0)
      goto fail;
    for (size_t i = 0; removed && removed[i]; i++)
      fprintf(stderr, " Volume %s  Removed\n", removed[i]);
    return 0;
  }
  if (rmi_all && images_used(client, &images, &err) < 0)
    goto fail;
  cJSON *params = cJSON_CreateObject();
  if (timeout >= 0)
    cJSON_AddNumberToObject(params, "timeout", timeout);
  if (sup_client_call(client, "stop", params, NULL, NULL, &res, &err) < 0)
    goto fail;
  const cJSON *ct;
  cJSON_ArrayForEach(ct, cJSON_GetObjectItem(res, "containers"))
    fprintf(stderr, " Container %s  Stopped\n", cJSON_GetStringValue(cJSON_GetObjectItem(ct, "name")));
  cJSON_Delete(res);
  res = NULL;
  if (sup_client_call(client, "rm", NULL, NULL, NULL, &res, &err) < 0)
    goto fail;
  const cJSON *name;
  cJSON_ArrayForEach(name, cJSON_GetObjectItem(res, "removed"))
    fprintf(stderr, " Container %s  Removed\n", name->valuestring);
  cJSON_Delete(res);
  res = NULL;
  if (sup_client_call(client, "shutdown", NULL, NULL, NULL, &res, &err) < 0)
    goto fail;
  cJSON_Delete(res);
  if (volumes) {
    /* named and anonymous volumes the project made (external ones are not
     * marked as its own) */
    _cleanup_strv_ char **removed = NULL;
    if (sup_volumes_remove(paths.project, &removed, &err) < 0)
      goto fail;
    for (size_t i = 0; removed && removed[i]; i++)
      fprintf(stderr, " Volume %s  Removed\n", removed[i]);
  }
  return remove_images(images);
fail:
  stack_error_print(err);
  return 1;
}
