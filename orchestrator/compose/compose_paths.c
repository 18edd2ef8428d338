/* Relative paths made absolute, as compose-go's ResolveRelativePaths: the
 * project runs from anywhere, and `stack config` shows the paths it will
 * use.  Remote build contexts (URLs, git) are left as they are. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "compose_canonical_util.h"
#include "compose_normalize.h"
#include "runtime/util/cleanup.h"
#include "runtime/util/error.h"
#include "runtime/util/fsutil.h"
#include "runtime/util/xalloc.h"

static bool is_remote(const char *s) {
  static const char *const prefixes[] = {"http://", "https://", "git://", "ssh://", "git@",
                                         "github.com/", "docker-image://", "oci-layout://",
                                         "service:", "target:"};
  for (size_t i = 0; i < sizeof(prefixes) / sizeof(prefixes[0]); i++)
    if (strncmp(s, prefixes[i], strlen(prefixes[i])) == 0)
      return true;
  return strstr(s, "://") != NULL;
}

/* The absolute, cleaned form of p ("~" is $HOME), or NULL if p is already
 * absolute and clean. */
static char *absolute(const char *p, const char *base) {
  _cleanup_free_ char *joined = NULL;
  if (p[0] == '~' && (p[1] == '/' || p[1] == '\0')) {
    const char *home = getenv("HOME");
    joined = fs_path_join(home && *home ? home : "/", p[1] ? p + 2 : "");
  } else if (p[0] == '/') {
    joined = xstrdup(p);
  } else {
    joined = fs_path_join(base, p);
  }
  return cn_clean_path(joined);
}

static void resolve_scalar(struct cnode *n, const char *base) {
  if (n == NULL || n->kind != CNODE_SCALAR || n->str[0] == '\0')
    return;
  char *abs = absolute(n->str, base);
  free(n->str);
  n->str = abs;
  n->quoted = true;
}

static void resolve_service(struct cnode *s, const char *base) {
  if (s == NULL || s->kind != CNODE_MAP)
    return;
  struct cnode *build = cnode_map_get(s, "build");
  if (build && build->kind == CNODE_MAP) {
    struct cnode *ctx = cnode_map_get(build, "context");
    if (ctx == NULL) {
      /* compose-go's default build context, set before paths are resolved */
      cnode_map_set(build, "context", cn_str(base, build));
    } else if (ctx->kind == CNODE_SCALAR && !is_remote(ctx->str)) {
      resolve_scalar(ctx, base);
    }
    struct cnode *add = cnode_map_get(build, "additional_contexts");
    for (size_t i = 0; add && add->kind == CNODE_MAP && i < add->n; i++) {
      struct cnode *v = add->pairs[i].value;
      if (v && v->kind == CNODE_SCALAR && !is_remote(v->str))
        resolve_scalar(v, base);
    }
  }
  struct cnode *vols = cnode_map_get(s, "volumes");
  for (size_t i = 0; vols && vols->kind == CNODE_SEQ && i < vols->n; i++) {
    struct cnode *v = vols->items[i];
    const char *type = cnode_map_get_str(v, "type");
    if (type && strcmp(type, "bind") == 0)
      resolve_scalar(cnode_map_get(v, "source"), base);
  }
  struct cnode *envf = cnode_map_get(s, "env_file");
  for (size_t i = 0; envf && envf->kind == CNODE_SEQ && i < envf->n; i++)
    resolve_scalar(cnode_map_get(envf->items[i], "path"), base);
  struct cnode *lf = cnode_map_get(s, "label_file");
  for (size_t i = 0; lf && lf->kind == CNODE_SEQ && i < lf->n; i++)
    resolve_scalar(lf->items[i], base);
  struct cnode *ext = cnode_map_get(s, "extends");
  if (ext && ext->kind == CNODE_MAP)
    resolve_scalar(cnode_map_get(ext, "file"), base);
  struct cnode *watch = cnode_map_get(cnode_map_get(s, "develop"), "watch");
  for (size_t i = 0; watch && watch->kind == CNODE_SEQ && i < watch->n; i++)
    resolve_scalar(cnode_map_get(watch->items[i], "path"), base);
}

int compose_resolve_paths(struct cnode *project, const char *base_dir, struct stack_error **err) {
  if (project == NULL || project->kind != CNODE_MAP)
    return 0;
  if (base_dir == NULL || base_dir[0] != '/')
    return stack_error_set(err, -EINVAL, "internal error: project directory \"%s\" is not absolute",
                           base_dir ? base_dir : "(null)");
  struct cnode *services = cnode_map_get(project, "services");
  for (size_t i = 0; services && services->kind == CNODE_MAP && i < services->n; i++)
    resolve_service(services->pairs[i].value, base_dir);
  static const char *const files[] = {"secrets", "configs"};
  for (size_t f = 0; f < 2; f++) {
    struct cnode *top = cnode_map_get(project, files[f]);
    for (size_t i = 0; top && top->kind == CNODE_MAP && i < top->n; i++)
      resolve_scalar(cnode_map_get(top->pairs[i].value, "file"), base_dir);
  }
  /* a local volume that is really a bind mount: its device is a path */
  struct cnode *vols = cnode_map_get(project, "volumes");
  for (size_t i = 0; vols && vols->kind == CNODE_MAP && i < vols->n; i++) {
    struct cnode *v = vols->pairs[i].value;
    const char *driver = cnode_map_get_str(v, "driver");
    struct cnode *opts = cnode_map_get(v, "driver_opts");
    const char *o = cnode_map_get_str(opts, "o");
    if (driver && !strcmp(driver, "local") && o && !strcmp(o, "bind"))
      resolve_scalar(cnode_map_get(opts, "device"), base_dir);
  }
  return 0;
}
