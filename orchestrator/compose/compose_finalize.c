/* Each service's environment as the container will see it, as compose-go's
 * ResolveServicesEnvironment: env_file contents in order, then
 * `environment`, whose valueless entries take the variable from the process
 * environment; labels likewise from label_file.  Runs after merging, when
 * paths are absolute. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "compose_canonical_util.h"
#include "compose_dotenv.h"
#include "compose_env.h"
#include "compose_normalize.h"
#include "compose_scalar.h"
#include "runtime/util/cleanup.h"
#include "runtime/util/error.h"
#include "runtime/util/fsutil.h"
#include "runtime/util/xalloc.h"

struct lookup_chain {
  const struct compose_env *first; /* what the earlier env files gave */
  const struct compose_env *then;  /* the process environment */
};

static const char *chain_lookup(const char *name, void *ud) {
  const struct lookup_chain *c = ud;
  const char *v = compose_env_get(c->first, name);
  return v ? v : compose_env_get(c->then, name);
}

/* Reads env files (a list of {path, required} or of strings) into out. */
static int read_files(const struct cnode *list, const char *svc, const char *what,
                      const struct compose_env *procenv, struct compose_env *out,
                      struct stack_error **err) {
  for (size_t i = 0; list && list->kind == CNODE_SEQ && i < list->n; i++) {
    const struct cnode *e = list->items[i];
    const struct cnode *pn = e->kind == CNODE_MAP ? cnode_map_get(e, "path") : e;
    if (pn == NULL || pn->kind != CNODE_SCALAR)
      continue;
    bool required = true;
    const char *req = cnode_map_get_str(e, "required");
    if (req)
      cscalar_parse_bool(req, &required);
    const char *format = cnode_map_get_str(e, "format");
    if (format && *format && strcmp(format, "raw") != 0 && strcmp(format, "env") != 0)
      return cn_fail(err, cnode_map_get(e, "format"), svc,
                     "unsupported %s format \"%s\" (stack reads the Compose .env format)", what,
                     format);
    if (!fs_exists(pn->str)) {
      if (!required)
        continue;
      return cn_fail(err, pn, svc,
                     "%s %s not found; create it or mark it \"required: false\"", what, pn->str);
    }
    struct lookup_chain chain = {out, procenv};
    int r = compose_dotenv_read_file(pn->str, chain_lookup, &chain, out, err);
    if (r < 0) {
      _cleanup_free_ char *where = cnode_where(pn);
      return stack_error_prefix(err, "%s: service \"%s\"", where, svc);
    }
  }
  return 0;
}

/* map := file values, then map's own entries (valueless ones from procenv,
 * else what the files gave). */
static void overlay(struct cnode *svc, const char *key, const struct compose_env *files,
                    const struct compose_env *procenv, bool resolve_null) {
  struct cnode_pair *p = cnode_map_get_pair(svc, key);
  if (files->n == 0 && p == NULL)
    return;
  const struct cnode *own = p ? p->value : NULL;
  const struct cnode *at = own ? own : svc;
  struct cnode *m = cn_container(CNODE_MAP, at);
  for (size_t i = 0; i < files->n; i++)
    cnode_map_set_node(m, cn_str(files->names[i], at), cn_str(files->values[i], at));
  for (size_t i = 0; own && own->kind == CNODE_MAP && i < own->n; i++) {
    const struct cnode *k = own->pairs[i].key, *v = own->pairs[i].value;
    if (v && !(v->kind == CNODE_NULL || (v->kind == CNODE_SCALAR && !v->quoted &&
                                         cnode_is_null(v)))) {
      cnode_map_set_node(m, cnode_clone(k), cnode_clone(v));
      continue;
    }
    const char *envv = resolve_null ? compose_env_get(procenv, k->str) : NULL;
    if (envv)
      cnode_map_set_node(m, cnode_clone(k), cn_str(envv, v ? v : k));
    else if (!cnode_map_get_pair(m, k->str))
      cnode_map_set_node(m, cnode_clone(k), cn_container(CNODE_NULL, v ? v : k));
  }
  cnode_map_set(svc, key, m);
}

static void resolve_args(struct cnode *build, const struct compose_env *procenv) {
  struct cnode *args = cnode_map_get(build, "args");
  for (size_t i = 0; args && args->kind == CNODE_MAP && i < args->n; i++) {
    struct cnode_pair *p = &args->pairs[i];
    if (p->value && !(p->value->kind == CNODE_NULL || cnode_is_null(p->value)))
      continue;
    const char *v = compose_env_get(procenv, p->key->str);
    if (v) {
      struct cnode *s = cn_str(v, p->value ? p->value : p->key);
      cnode_free(p->value);
      p->value = s;
    }
  }
}

int compose_finalize(struct cnode *project, const char *const *env, struct stack_error **err) {
  if (project == NULL || project->kind != CNODE_MAP)
    return 0;
  _cleanup_compose_env_ struct compose_env procenv = COMPOSE_ENV_INIT;
  if (env)
    compose_env_add_environ(&procenv, (char *const *)env);
  struct cnode *services = cnode_map_get(project, "services");
  for (size_t i = 0; services && services->kind == CNODE_MAP && i < services->n; i++) {
    struct cnode *s = services->pairs[i].value;
    const char *svc = services->pairs[i].key->str;
    if (s == NULL || s->kind != CNODE_MAP)
      continue;
    _cleanup_compose_env_ struct compose_env files = COMPOSE_ENV_INIT;
    int r = read_files(cnode_map_get(s, "env_file"), svc, "env_file", &procenv, &files, err);
    if (r < 0)
      return r;
    overlay(s, "environment", &files, &procenv, true);
    _cleanup_compose_env_ struct compose_env labels = COMPOSE_ENV_INIT;
    r = read_files(cnode_map_get(s, "label_file"), svc, "label_file", &procenv, &labels, err);
    if (r < 0)
      return r;
    if (labels.n > 0)
      overlay(s, "labels", &labels, &procenv, false);
    struct cnode *build = cnode_map_get(s, "build");
    if (build && build->kind == CNODE_MAP)
      resolve_args(build, &procenv);
  }
  /* every node added above is typed already (strings quoted) */
  compose_sort_extra_hosts(project);
  return 0;
}
