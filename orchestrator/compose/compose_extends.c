#include "compose_extends.h"

#include <errno.h>
#include <libgen.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include "compose_merge.h"
#include "runtime/util/cleanup.h"
#include "runtime/util/error.h"
#include "runtime/util/sbuf.h"
#include "runtime/util/xalloc.h"

#define MAX_CHAIN 64

/* The services being resolved, innermost last: "file#service". */
struct chain {
  char *ids[MAX_CHAIN];
  size_t n;
};

struct ext_ctx {
  compose_extends_loader load;
  void *ud;
  struct chain chain;
  /* Files loaded for `extends: {file: ...}`, kept for the whole pass. */
  struct cnode **files;
  char **file_paths;
  size_t nfiles, cap;
};

static int resolve_service(struct ext_ctx *x, struct cnode *tree, const char *file_path,
                           const char *base_dir, struct cnode_pair *svc, struct stack_error **err);

static char *dir_of(const char *path) {
  _cleanup_free_ char *copy = xstrdup(path);
  return xstrdup(dirname(copy));
}

static int cycle_error(struct ext_ctx *x, const char *id, const struct cnode *at,
                       struct stack_error **err) {
  struct sbuf b = SBUF_INIT;
  bool on = false;
  for (size_t i = 0; i < x->chain.n; i++) {
    on = on || strcmp(x->chain.ids[i], id) == 0;
    if (on)
      sbuf_printf(&b, "%s -> ", strchr(x->chain.ids[i], '#') + 1);
  }
  sbuf_puts(&b, strchr(id, '#') + 1);
  _cleanup_free_ char *cycle = sbuf_steal(&b);
  _cleanup_free_ char *where = cnode_where(at);
  return stack_error_set(err, -EINVAL, "%s: circular reference with extends: %s", where, cycle);
}

/* The tree of another file, loaded once per pass. */
static int other_file(struct ext_ctx *x, const char *base_dir, const char *path,
                      struct cnode **tree, const char **abs, struct stack_error **err) {
  _cleanup_cnode_ struct cnode *t = NULL;
  _cleanup_free_ char *a = NULL;
  int r = x->load(x->ud, base_dir, path, &t, &a, err);
  if (r < 0)
    return r;
  for (size_t i = 0; i < x->nfiles; i++) {
    if (strcmp(x->file_paths[i], a) == 0) {
      *tree = x->files[i];
      *abs = x->file_paths[i];
      return 0;
    }
  }
  size_t cap = x->cap;
  x->files = xgrow(x->files, &cap, x->nfiles + 1, sizeof(*x->files));
  x->file_paths = xgrow(x->file_paths, &x->cap, x->nfiles + 1, sizeof(*x->file_paths));
  x->files[x->nfiles] = steal_pointer(&t);
  x->file_paths[x->nfiles] = steal_pointer(&a);
  *tree = x->files[x->nfiles];
  *abs = x->file_paths[x->nfiles];
  x->nfiles++;
  return 0;
}

static int resolve_service(struct ext_ctx *x, struct cnode *tree, const char *file_path,
                           const char *base_dir, struct cnode_pair *svc, struct stack_error **err) {
  struct cnode *s = svc->value;
  if (s == NULL || s->kind != CNODE_MAP)
    return 0;
  struct cnode_pair *ep = cnode_map_get_pair(s, "extends");
  if (ep == NULL)
    return 0;
  const struct cnode *ext = ep->value;
  const char *name = svc->key->str;
  const char *ref = cnode_map_get_str(ext, "service");
  const char *file = cnode_map_get_str(ext, "file");
  _cleanup_free_ char *where = cnode_where(ext);
  if (ref == NULL)
    return stack_error_set(err, -EINVAL,
                           "%s: service \"%s\": extends needs a `service` to extend", where, name);
  _cleanup_free_ char *id = xasprintf("%s#%s", file_path, name);
  for (size_t i = 0; i < x->chain.n; i++)
    if (strcmp(x->chain.ids[i], id) == 0)
      return cycle_error(x, id, ext, err);
  if (x->chain.n >= MAX_CHAIN)
    return stack_error_set(err, -EINVAL, "%s: service \"%s\": extends chain longer than %d",
                           where, name, MAX_CHAIN);

  /* Find the base service, in this file or in the other one. */
  struct cnode *btree = tree;
  const char *bpath = file_path;
  _cleanup_free_ char *bdir = xstrdup(base_dir);
  if (file) {
    int r = other_file(x, base_dir, file, &btree, &bpath, err);
    if (r < 0)
      return stack_error_prefix(err, "%s: service \"%s\": extends", where, name);
    free(bdir);
    bdir = dir_of(bpath);
  }
  struct cnode_pair *bp = cnode_map_get_pair(cnode_map_get(btree, "services"), ref);
  if (bp == NULL)
    return stack_error_set(err, -EINVAL,
                           "%s: service \"%s\" extends \"%s\", which is not defined%s%s", where,
                           name, ref, file ? " in " : "", file ? file : "");
  x->chain.ids[x->chain.n++] = steal_pointer(&id);
  int r = resolve_service(x, btree, bpath, bdir, bp, err);
  free(x->chain.ids[--x->chain.n]);
  if (r < 0)
    return r;

  /* base copy <- this service (without its extends). */
  struct cnode *base = cnode_clone(bp->value);
  if (base == NULL || base->kind != CNODE_MAP) {
    cnode_free(base);
    base = cnode_new(CNODE_MAP, s->src, s->line, s->col);
  }
  cnode_map_remove(s, "extends");
  _cleanup_free_ char *path = xasprintf("services.%s", name);
  svc->value = NULL;
  r = compose_merge_at(&base, s, path, err);
  svc->value = base;
  return r;
}

int compose_extends_apply(struct cnode *tree, const char *file_path, const char *base_dir,
                          compose_extends_loader load, void *ud, struct stack_error **err) {
  struct cnode *services = cnode_map_get(tree, "services");
  if (services == NULL || services->kind != CNODE_MAP)
    return 0;
  struct ext_ctx x = {.load = load, .ud = ud};
  int r = 0;
  for (size_t i = 0; i < services->n && r == 0; i++)
    r = resolve_service(&x, tree, file_path, base_dir, &services->pairs[i], err);
  for (size_t i = 0; i < x.nfiles; i++) {
    cnode_free(x.files[i]);
    free(x.file_paths[i]);
  }
  free(x.files);
  free(x.file_paths);
  return r;
}
