#include "orchestrator/supervisor/sup_files.h"

#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "guest/proto.h"
#include "orchestrator/compose/compose_model.h"
#include "runtime/util/cleanup.h"
#include "runtime/util/error.h"
#include "runtime/util/fsutil.h"
#include "runtime/util/xalloc.h"

/* Secrets and configs are small: the whole CONFIGURE frame is capped at
 * PROTO_MAX_PAYLOAD. */
#define FILE_MAX_BYTES (512u << 10)

static char *keep(char ***strings, char *owned) {
  size_t n = 0;
  while (*strings && (*strings)[n])
    n++;
  *strings = xrealloc(*strings, (n + 2) * sizeof **strings);
  (*strings)[n] = owned;
  (*strings)[n + 1] = NULL;
  return owned;
}

static const struct compose_file_obj *find_obj(const struct compose_file_obj *objs, size_t n,
                                               const char *key) {
  for (size_t i = 0; i < n; i++)
    if (strcmp(objs[i].key, key) == 0)
      return &objs[i];
  return NULL;
}

/* The object's content (newly allocated, *len bytes). */
static int obj_content(const struct compose_file_obj *o, const char *what, char **out,
                       size_t *len, struct stack_error **err) {
  if (o->external)
    return stack_error_set(err, -ENOTSUP,
                           "%s %s is external: external %ss belong to Docker Swarm; give it a "
                           "file, environment or content",
                           what, o->key, what);
  if (o->file) {
    int r = fs_read_file(o->file, FILE_MAX_BYTES, out, len, err);
    return r < 0 ? stack_error_prefix(err, "%s %s", what, o->key) : 0;
  }
  if (o->environment) {
    const char *v = getenv(o->environment);
    if (v == NULL)
      return stack_error_set(err, -ENOENT,
                             "%s %s: environment variable %s is not set (in the environment "
                             "of the stack command that started the project)",
                             what, o->key, o->environment);
    *out = xstrdup(v);
    *len = strlen(v);
    return 0;
  }
  if (o->content) {
    *out = xstrdup(o->content);
    *len = strlen(o->content);
    return 0;
  }
  return stack_error_set(err, -EINVAL, "%s %s has no file, environment or content", what,
                         o->key);
}

static int add_refs(const struct compose_file_ref *refs, size_t nrefs,
                    const struct compose_file_obj *objs, size_t nobjs, bool secret,
                    const struct compose_service *svc, struct proto_file *files, size_t max,
                    size_t *n, bool *under_run_secrets, char ***strings,
                    struct stack_error **err) {
  const char *what = secret ? "secret" : "config";
  for (size_t i = 0; i < nrefs; i++) {
    const struct compose_file_ref *ref = &refs[i];
    const struct compose_file_obj *o = find_obj(objs, nobjs, ref->source);
    if (o == NULL)
      return stack_error_set(err, -ENOENT, "service %s: %s %s is not defined at the top level",
                             svc->name, what, ref->source);
    if (*n == max)
      return stack_error_set(err, -E2BIG, "service %s: more than %zu secrets and configs",
                             svc->name, max);
    char *content = NULL;
    size_t len = 0;
    int r = obj_content(o, what, &content, &len, err);
    if (r < 0)
      return stack_error_prefix(err, "service %s", svc->name);
    keep(strings, content);
    const char *t = ref->target ? ref->target : ref->source;
    char *path = t[0] == '/' ? xstrdup(t)
                 : secret    ? xasprintf("/run/secrets/%s", t)
                             : xasprintf("/%s", t);
    keep(strings, path);
    if (strstr(path, ".."))
      return stack_error_set(err, -EINVAL, "service %s: %s %s: target %s leaves its directory",
                             svc->name, what, ref->source, path);
    if (strncmp(path, "/run/secrets/", 13) == 0)
      *under_run_secrets = true;
    files[(*n)++] = (struct proto_file){
        .path = path,
        .content = (const uint8_t *)content,
        .len = (uint32_t)len,
        .mode = ref->mode >= 0 ? (uint32_t)ref->mode : 0444,
        .uid = ref->uid ? (uint32_t)strtoul(ref->uid, NULL, 10) : 0,
        .gid = ref->gid ? (uint32_t)strtoul(ref->gid, NULL, 10) : 0,
    };
  }
  return 0;
}

int sup_service_files(const struct compose_project *p, const struct compose_service *svc,
                      struct proto_file *files, size_t max, size_t *n_files,
                      struct proto_mount *mounts, size_t max_mounts, size_t *n_mounts,
                      char ***strings, struct stack_error **err) {
  *n_files = 0;
  bool run_secrets = false;
  int r = add_refs(svc->secrets, svc->n_secrets, p ? p->secrets : NULL, p ? p->n_secrets : 0,
                   true, svc, files, max, n_files, &run_secrets, strings, err);
  if (r == 0)
    r = add_refs(svc->configs, svc->n_configs, p ? p->configs : NULL, p ? p->n_configs : 0,
                 false, svc, files, max, n_files, &run_secrets, strings, err);
  if (r < 0 || !run_secrets)
    return r;
  if (*n_mounts == max_mounts)
    return stack_error_set(err, -E2BIG, "service %s: more than %zu mounts", svc->name,
                           max_mounts);
  mounts[(*n_mounts)++] = (struct proto_mount){"secrets", "/run/secrets", "tmpfs", "mode=0755"};
  return 0;
}
