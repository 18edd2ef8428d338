#include "compose_load.h"

#include <ctype.h>
#include <errno.h>
#include <libgen.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "compose_dotenv.h"
#include "compose_env.h"
#include "compose_extends.h"
#include "compose_interp.h"
#include "compose_merge.h"
#include "compose_names.h"
#include "compose_normalize.h"
#include "compose_profiles.h"
#include "compose_scalar.h"
#include "compose_validate.h"
#include "compose_yaml.h"
#include "runtime/util/cleanup.h"
#include "runtime/util/error.h"
#include "runtime/util/fsutil.h"
#include "runtime/util/sbuf.h"
#include "runtime/util/xalloc.h"

extern char **environ;

/* compose-go's order of default names. */
static const char *const default_files[] = {"compose.yaml", "compose.yml", "docker-compose.yml",
                                            "docker-compose.yaml", NULL};
static const char *const override_files[] = {"compose.override.yml", "compose.override.yaml",
                                             "docker-compose.override.yml",
                                             "docker-compose.override.yaml", NULL};

#define MAX_INCLUDE_DEPTH 32

struct loader {
  const struct compose_load_opts *o;
  char *cwd;
  /* The name came from -p or COMPOSE_PROJECT_NAME; else a file's `name`
   * sets COMPOSE_PROJECT_NAME for the interpolation that follows it. */
  bool name_explicit;
  /* Files being included, outermost first, for cycle detection. */
  char *including[MAX_INCLUDE_DEPTH];
  size_t depth;
  char **unset; /* the unset variables warned about (once each) */
  size_t n_unset;
};

/* The environment and directory one set of files is loaded with (the main
 * project, or an included one). */
struct scope {
  struct compose_env *env;
  const char *project_dir;
};

static int load_files(struct loader *L, char *const *paths, const struct scope *sc,
                      struct cnode **out, struct stack_error **err);

static bool is_file(const char *p) {
  struct stat st;
  return stat(p, &st) == 0 && S_ISREG(st.st_mode);
}

static char *absolute(const char *base, const char *p) {
  if (p[0] == '/')
    return xstrdup(p);
  return fs_path_join(base, p);
}

static char *dir_of(const char *path) {
  _cleanup_free_ char *copy = xstrdup(path);
  return xstrdup(dirname(copy));
}

static char *base_of(const char *path) {
  _cleanup_free_ char *copy = xstrdup(path);
  return xstrdup(basename(copy));
}

char *compose_normalize_project_name(const char *name) {
  struct sbuf b = SBUF_INIT;
  for (const unsigned char *p = (const unsigned char *)name; *p; p++) {
    unsigned char c = (unsigned char)tolower(*p);
    if ((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '_' || c == '-') {
      if (b.len == 0 && (c == '_' || c == '-'))
        continue;
      sbuf_putc(&b, (char)c);
    }
  }
  return sbuf_steal(&b);
}

/* Splits s at any of seps into a new strv (empty parts dropped). */
static char **split(const char *s, const char *seps) {
  size_t n = 0, cap = 0;
  char **v = NULL;
  _cleanup_free_ char *copy = xstrdup(s);
  for (char *p = copy, *tok; (tok = strsep(&p, seps)) != NULL;) {
    while (*tok == ' ')
      tok++;
    if (*tok == '\0')
      continue;
    v = xgrow(v, &cap, n + 2, sizeof(*v));
    v[n++] = xstrdup(tok);
    v[n] = NULL;
  }
  return v ? v : xcalloc(1, sizeof(*v));
}

/* ---- environment ----------------------------------------------------- */

/* Reads env files into `files_env` with compose-go's lookups: the process
 * environment first, then earlier files. */
struct env_files_lookup {
  const struct compose_env *os;
  const struct compose_env *files;
};

static const char *env_files_lookup(const char *name, void *ud) {
  const struct env_files_lookup *l = ud;
  const char *v = compose_env_get(l->os, name);
  return v ? v : compose_env_get(l->files, name);
}

static int read_env_files(char *const *files, const struct compose_env *os,
                          struct compose_env *out, struct stack_error **err) {
  for (char *const *f = files; f && *f; f++) {
    _cleanup_compose_env_ struct compose_env one = COMPOSE_ENV_INIT;
    struct env_files_lookup l = {os, out};
    int r = compose_dotenv_read_file(*f, env_files_lookup, &l, &one, err);
    if (r < 0)
      return r;
    for (size_t i = 0; i < one.n; i++)
      compose_env_set(out, one.names[i], one.values[i]);
  }
  return 0;
}

/* env = os, plus the values of env files the process environment lacks. */
static int build_env(char *const *env_files, char *const *os_environ, struct compose_env *env,
                     struct stack_error **err) {
  _cleanup_compose_env_ struct compose_env os = COMPOSE_ENV_INIT;
  _cleanup_compose_env_ struct compose_env files = COMPOSE_ENV_INIT;
  compose_env_add_environ(&os, os_environ);
  int r = read_env_files(env_files, &os, &files, err);
  if (r < 0)
    return r;
  compose_env_add_environ(env, os_environ);
  for (size_t i = 0; i < files.n; i++)
    compose_env_set_default(env, files.names[i], files.values[i]);
  return 0;
}

/* A variable of a process environment ("K=V" strings), or NULL. */
static const char *environ_get(char *const *env, const char *name) {
  size_t n = strlen(name);
  for (; env && *env; env++)
    if (strncmp(*env, name, n) == 0 && (*env)[n] == '=')
      return *env + n + 1;
  return NULL;
}

/* --env-file as given, else COMPOSE_ENV_FILES (comma-separated), both
 * relative to the working directory; else <dir>/.env if there is one. */
static char **env_file_list(struct loader *L, const char *dir) {
  const char *cef = environ_get(L->o->environ ? L->o->environ : environ, "COMPOSE_ENV_FILES");
  if (L->o->env_files || (cef && *cef)) {
    char **v = L->o->env_files ? xstrv_dup(L->o->env_files) : split(cef, ",");
    for (char **p = v; *p; p++) {
      char *a = absolute(L->cwd, *p);
      free(*p);
      *p = a;
    }
    return v;
  }
  char **v = xcalloc(2, sizeof(*v));
  char *dotenv = fs_path_join(dir, ".env");
  if (is_file(dotenv))
    v[0] = dotenv;
  else
    free(dotenv);
  return v;
}

/* ---- discovery ------------------------------------------------------- */

static const char *first_existing(const char *dir, const char *const *names, char **found) {
  for (const char *const *n = names; *n; n++) {
    char *p = fs_path_join(dir, *n);
    if (is_file(p)) {
      *found = p;
      return *n;
    }
    free(p);
  }
  return NULL;
}

static int discover(const char *start, char ***files, struct stack_error **err) {
  _cleanup_free_ char *dir = xstrdup(start);
  for (;;) {
    char *main_file = NULL, *over = NULL;
    if (first_existing(dir, default_files, &main_file)) {
      char **v = xcalloc(3, sizeof(*v));
      v[0] = main_file;
      if (first_existing(dir, override_files, &over))
        v[1] = over;
      *files = v;
      return 0;
    }
    if (strcmp(dir, "/") == 0)
      break;
    char *parent = dir_of(dir);
    free(dir);
    dir = parent;
  }
  return stack_error_set(err, -ENOENT,
                         "no configuration file provided: not found (looked for compose.yaml, "
                         "compose.yml, docker-compose.yml, docker-compose.yaml in %s and its "
                         "parents; use -f to name one)",
                         start);
}

/* ---- per-file pipeline ----------------------------------------------- */

/* What interpolation looks variables up in, and who warns of unset ones. */
struct interp_env {
  struct loader *L;
  struct compose_env *env;
};

static const char *interp_lookup(const char *name, void *ud) {
  return compose_env_get(((struct interp_env *)ud)->env, name);
}

static void interp_unset(const char *name, void *ud) {
  struct loader *L = ((struct interp_env *)ud)->L;
  if (L->o->warn == NULL)
    return;
  for (size_t i = 0; i < L->n_unset; i++)
    if (strcmp(L->unset[i], name) == 0)
      return;
  L->unset = xrealloc(L->unset, (L->n_unset + 2) * sizeof(char *));
  L->unset[L->n_unset++] = xstrdup(name);
  L->unset[L->n_unset] = NULL;
  _cleanup_free_ char *msg =
      xasprintf("The \"%s\" variable is not set. Defaulting to a blank string.", name);
  L->o->warn(msg, L->o->warn_ud);
}

/* parse -> interpolate -> schema -> canonical, for one document. */
static int prepare_doc(struct loader *L, struct cnode *doc, struct compose_env *env,
                       struct stack_error **err) {
  struct cnode *name = cnode_map_get(doc, "name");
  if (!L->o->no_interpolate && !L->name_explicit && name && name->kind == CNODE_SCALAR) {
    _cleanup_free_ char *v = NULL;
    int r = compose_interp_string(name->str, compose_env_lookup, env, &v, err);
    if (r < 0) {
      _cleanup_free_ char *where = cnode_where(name);
      return stack_error_prefix(err, "%s: error while interpolating name", where);
    }
    if (*v)
      compose_env_set(env, "COMPOSE_PROJECT_NAME", v);
  }
  if (!L->o->no_interpolate) {
    struct interp_env ie = {L, env};
    int r = compose_interp_tree(doc, interp_lookup, interp_unset, &ie, err);
    if (r < 0)
      return r;
  }
  int r = compose_validate_schema(doc, err);
  if (r < 0)
    return r;
  struct compose_tags *tags = compose_tags_save(doc);
  r = compose_canonical(doc, err);
  compose_tags_restore(doc, tags);
  return r;
}

static int read_docs(const char *path, struct cnode **docs, struct stack_error **err) {
  int r = compose_yaml_read_file(path, docs, err);
  if (r < 0)
    return r;
  if ((*docs)->n == 0)
    return stack_error_set(err, -EINVAL, "%s: empty compose file", path);
  return 0;
}

struct extends_ctx {
  struct loader *L;
  struct compose_env *env;
};

/* compose_extends_loader: another file, prepared and with its paths
 * resolved against its own directory. */
static int load_extended(void *ud, const char *base_dir, const char *path, struct cnode **tree,
                         char **abs_path, struct stack_error **err) {
  struct extends_ctx *x = ud;
  _cleanup_free_ char *abs = absolute(base_dir, path);
  _cleanup_cnode_ struct cnode *docs = NULL;
  int r = read_docs(abs, &docs, err);
  if (r < 0)
    return r;
  _cleanup_cnode_ struct cnode *merged = NULL;
  for (size_t i = 0; i < docs->n; i++) {
    struct cnode *doc = steal_pointer(&docs->items[i]);
    r = prepare_doc(x->L, doc, x->env, err);
    if (r == 0)
      r = compose_merge(&merged, doc, err);
    else
      cnode_free(doc);
    if (r < 0)
      return r;
  }
  _cleanup_free_ char *dir = dir_of(abs);
  r = compose_resolve_paths(merged, dir, err);
  if (r < 0)
    return r;
  *tree = steal_pointer(&merged);
  *abs_path = steal_pointer(&abs);
  return 0;
}

/* Adds an included project's resources to the including file; the same
 * name with a different definition is a conflict. */
static int import_resources(struct cnode *doc, struct cnode *inc, const char *inc_name,
                            struct stack_error **err) {
  static const char *const kinds[] = {"services", "networks", "volumes", "secrets", "configs",
                                      "models", NULL};
  for (const char *const *k = kinds; *k; k++) {
    struct cnode *from = cnode_map_get(inc, *k);
    if (from == NULL || from->kind != CNODE_MAP)
      continue;
    struct cnode *to = cnode_map_get(doc, *k);
    if (to == NULL || to->kind != CNODE_MAP) {
      to = cnode_new(CNODE_MAP, from->src, from->line, from->col);
      cnode_map_set(doc, *k, to);
    }
    for (size_t i = 0; i < from->n; i++) {
      struct cnode_pair *p = &from->pairs[i];
      struct cnode_pair *have = cnode_map_get_pair(to, p->key->str);
      if (have) {
        if (cnode_equal(have->value, p->value))
          continue;
        _cleanup_free_ char *where = cnode_where(have->key);
        return stack_error_set(err, -EINVAL,
                               "%s: %.*s \"%s\" conflicts with the one imported from %s; rename "
                               "one of them",
                               where, (int)strlen(*k) - 1, *k, p->key->str, inc_name);
      }
      cnode_map_set_node(to, steal_pointer(&p->key), steal_pointer(&p->value));
    }
  }
  return 0;
}

static int apply_include(struct loader *L, struct cnode *doc, const struct scope *sc,
                         struct stack_error **err) {
  _cleanup_cnode_ struct cnode *inc = cnode_map_take(doc, "include");
  if (inc == NULL || inc->kind != CNODE_SEQ)
    return 0;
  for (size_t i = 0; i < inc->n; i++) {
    const struct cnode *it = inc->items[i];
    const struct cnode *paths = cnode_map_get(it, "path");
    _cleanup_free_ char *where = cnode_where(it);
    if (paths == NULL || paths->kind != CNODE_SEQ || paths->n == 0)
      return stack_error_set(err, -EINVAL, "%s: include needs a path", where);
    _cleanup_strv_ char **files = xcalloc(paths->n + 1, sizeof(char *));
    for (size_t j = 0; j < paths->n; j++) {
      files[j] = absolute(sc->project_dir, paths->items[j]->str ? paths->items[j]->str : "");
      if (!is_file(files[j])) {
        _cleanup_free_ char *pwhere = cnode_where(paths->items[j]);
        return stack_error_set(err, -ENOENT, "%s: include: %s: no such file", pwhere, files[j]);
      }
    }
    const char *pd = cnode_map_get_str(it, "project_directory");
    _cleanup_free_ char *inc_dir = pd ? absolute(sc->project_dir, pd) : dir_of(files[0]);
    /* Env files: as listed, else the included project's .env; the
     * including project's variables win. */
    const struct cnode *ef = cnode_map_get(it, "env_file");
    _cleanup_strv_ char **env_files = NULL;
    if (ef && ef->kind == CNODE_SEQ) {
      env_files = xcalloc(ef->n + 1, sizeof(char *));
      for (size_t j = 0; j < ef->n; j++)
        env_files[j] = absolute(sc->project_dir, ef->items[j]->str ? ef->items[j]->str : "");
    } else {
      env_files = xcalloc(2, sizeof(char *));
      char *dotenv = fs_path_join(inc_dir, ".env");
      if (is_file(dotenv))
        env_files[0] = dotenv;
      else
        free(dotenv);
    }
    _cleanup_compose_env_ struct compose_env env = COMPOSE_ENV_INIT;
    _cleanup_compose_env_ struct compose_env from_files = COMPOSE_ENV_INIT;
    int r = read_env_files(env_files, sc->env, &from_files, err);
    if (r < 0)
      return stack_error_prefix(err, "%s: include", where);
    for (size_t j = 0; j < sc->env->n; j++)
      compose_env_set(&env, sc->env->names[j], sc->env->values[j]);
    for (size_t j = 0; j < from_files.n; j++)
      compose_env_set_default(&env, from_files.names[j], from_files.values[j]);

    struct scope sub = {&env, inc_dir};
    _cleanup_cnode_ struct cnode *tree = NULL;
    r = load_files(L, files, &sub, &tree, err);
    if (r < 0)
      return r;
    r = compose_resolve_paths(tree, inc_dir, err);
    if (r < 0)
      return r;
    r = import_resources(doc, tree, files[0], err);
    if (r < 0)
      return r;
  }
  return 0;
}

/* Loads and merges a list of files (absolute paths, or "-"). */
static int load_files(struct loader *L, char *const *paths, const struct scope *sc,
                      struct cnode **out, struct stack_error **err) {
  _cleanup_cnode_ struct cnode *merged = NULL;
  for (char *const *f = paths; *f; f++) {
    const char *abs = *f;
    for (size_t i = 0; i < L->depth; i++)
      if (strcmp(L->including[i], abs) == 0)
        return stack_error_set(err, -ELOOP, "%s: include cycle: the file includes itself", abs);
    if (L->depth >= MAX_INCLUDE_DEPTH)
      return stack_error_set(err, -ELOOP, "%s: includes nest deeper than %d", abs,
                             MAX_INCLUDE_DEPTH);
    _cleanup_cnode_ struct cnode *docs = NULL;
    int r = read_docs(abs, &docs, err);
    if (r < 0)
      return r;
    _cleanup_free_ char *dir = strcmp(abs, "-") == 0 ? xstrdup(L->cwd) : dir_of(abs);
    for (size_t i = 0; i < docs->n; i++) {
      _cleanup_cnode_ struct cnode *doc = steal_pointer(&docs->items[i]);
      if (doc->kind != CNODE_MAP) {
        _cleanup_free_ char *where = cnode_where(doc);
        return stack_error_set(err, -EINVAL,
                               "%s: a Compose file must be a mapping (services:, networks:, "
                               "...), not %s",
                               where, cnode_is_null(doc) ? "empty" : "a list or a value");
      }
      r = prepare_doc(L, doc, sc->env, err);
      if (r < 0)
        return r;
      L->including[L->depth++] = (char *)abs;
      r = apply_include(L, doc, sc, err);
      L->depth--;
      if (r < 0)
        return r;
      struct extends_ctx x = {L, sc->env};
      r = compose_extends_apply(doc, abs, dir, load_extended, &x, err);
      if (r < 0)
        return r;
      r = compose_merge(&merged, steal_pointer(&doc), err);
      if (r < 0)
        return r;
    }
  }
  if (merged == NULL)
    merged = cnode_new(CNODE_MAP, NULL, 0, 0);
  *out = steal_pointer(&merged);
  return 0;
}

/* ---- project name ---------------------------------------------------- */

static int check_name(const char *name, const char *from, struct stack_error **err) {
  int r = compose_name_check(COMPOSE_NAME_PROJECT, name, err);
  return r < 0 ? stack_error_prefix(err, "%s", from) : 0;
}

static int project_name(struct loader *L, const struct compose_env *env, const struct cnode *tree,
                        const char *project_dir, char **out, struct stack_error **err) {
  const char *name = NULL, *from = NULL;
  const struct cnode *at = NULL;
  if (L->o->project_name && *L->o->project_name) {
    name = L->o->project_name;
    from = "-p/--project-name";
  } else if (L->name_explicit && (name = compose_env_get(env, "COMPOSE_PROJECT_NAME")) && *name) {
    from = "COMPOSE_PROJECT_NAME";
  } else if ((name = cnode_map_get_str(tree, "name")) && *name) {
    from = "the top-level `name`";
    at = cnode_map_get(tree, "name");
  }
  if (from) {
    int r = check_name(name, from, err);
    if (r < 0 && at) {
      _cleanup_free_ char *where = cnode_where(at);
      return stack_error_prefix(err, "%s", where);
    }
    if (r < 0)
      return r;
    *out = xstrdup(name);
    return 0;
  }
  _cleanup_free_ char *base = base_of(project_dir);
  *out = compose_normalize_project_name(base);
  if (**out == '\0' || compose_name_rule(COMPOSE_NAME_PROJECT, *out) != NULL)
    return stack_error_set(err, -EINVAL,
                           "cannot derive a project name from the directory \"%s\"; set one with "
                           "-p or a top-level `name`",
                           project_dir);
  return 0;
}

/* ---- the pipeline ---------------------------------------------------- */

static void loader_clear(struct loader *L) { strv_free(L->unset); }

static int load_tree(const struct compose_load_opts *o, struct cnode **tree_out,
                     char **project_dir_out, char ***files_out, char ***env_out,
                     struct stack_error **err) {
  __attribute__((cleanup(loader_clear))) struct loader L = {.o = o};
  _cleanup_free_ char *cwd = o->working_dir ? xstrdup(o->working_dir) : getcwd(NULL, 0);
  if (cwd == NULL)
    return stack_error_errno(err, -errno, "cannot determine the working directory");
  L.cwd = cwd;
  char *const *os_env = o->environ ? o->environ : environ;

  /* .env is read from the project directory as far as it is known before
   * the files are (it may name them through COMPOSE_FILE). */
  _cleanup_free_ char *pd0 = NULL;
  if (o->project_dir)
    pd0 = absolute(cwd, o->project_dir);
  else if (o->files && o->files[0] && strcmp(o->files[0], "-") != 0) {
    _cleanup_free_ char *f = absolute(cwd, o->files[0]);
    pd0 = dir_of(f);
  } else
    pd0 = xstrdup(cwd);
  _cleanup_strv_ char **env_files = env_file_list(&L, pd0);
  _cleanup_compose_env_ struct compose_env env = COMPOSE_ENV_INIT;
  int r = build_env(env_files, os_env, &env, err);
  if (r < 0)
    return r;

  _cleanup_strv_ char **files = NULL;
  const char *cf = compose_env_get(&env, "COMPOSE_FILE");
  if (o->files && o->files[0]) {
    files = xstrv_dup(o->files);
  } else if (cf && *cf) {
    const char *sep = compose_env_get(&env, "COMPOSE_PATH_SEPARATOR");
    files = split(cf, sep && *sep ? sep : ":");
  } else {
    r = discover(pd0, &files, err);
    if (r < 0)
      return r;
  }
  for (char **p = files; *p; p++) {
    if (strcmp(*p, "-") == 0)
      continue;
    char *a = absolute(cwd, *p);
    free(*p);
    *p = a;
    if (!is_file(a))
      return stack_error_set(err, -ENOENT, "%s: no such file (check the -f or COMPOSE_FILE path)",
                             a);
  }

  _cleanup_free_ char *project_dir = NULL;
  if (o->project_dir)
    project_dir = absolute(cwd, o->project_dir);
  else if (strcmp(files[0], "-") != 0)
    project_dir = dir_of(files[0]);
  else
    project_dir = xstrdup(cwd);
  if (strcmp(project_dir, pd0) != 0 && o->env_files == NULL) {
    /* The files moved the project directory: its .env is the one. */
    compose_env_free(&env);
    _cleanup_strv_ char **ef = env_file_list(&L, project_dir);
    r = build_env(ef, os_env, &env, err);
    if (r < 0)
      return r;
  }
  if (o->project_name && *o->project_name)
    compose_env_set(&env, "COMPOSE_PROJECT_NAME", o->project_name);
  const char *cpn = compose_env_get(&env, "COMPOSE_PROJECT_NAME");
  L.name_explicit = cpn && *cpn;
  if (!L.name_explicit) {
    _cleanup_free_ char *base = base_of(project_dir);
    _cleanup_free_ char *norm = compose_normalize_project_name(base);
    compose_env_set(&env, "COMPOSE_PROJECT_NAME", norm);
  }

  struct scope sc = {&env, project_dir};
  _cleanup_cnode_ struct cnode *tree = NULL;
  r = load_files(&L, files, &sc, &tree, err);
  if (r < 0)
    return r;

  _cleanup_strv_ char **profiles = NULL;
  const char *cp = compose_env_get(&env, "COMPOSE_PROFILES");
  if (o->profiles)
    profiles = xstrv_dup(o->profiles);
  else if (cp)
    profiles = split(cp, ",");
  r = compose_profiles_apply(tree, profiles, o->services, o->services_optional, err);
  if (r < 0)
    return r;

  _cleanup_free_ char *name = NULL;
  r = project_name(&L, &env, tree, project_dir, &name, err);
  if (r < 0)
    return r;
  cnode_map_remove(tree, "name");
  /* `name` comes first in the output, as compose-go prints it. */
  struct cnode *named = cnode_new(CNODE_MAP, tree->src, tree->line, tree->col);
  cnode_map_set(named, "name", cnode_scalar_at(name, true, tree));
  for (size_t i = 0; i < tree->n; i++)
    cnode_map_set_node(named, steal_pointer(&tree->pairs[i].key),
                       steal_pointer(&tree->pairs[i].value));
  cnode_free(tree);
  tree = named;
  compose_env_set(&env, "COMPOSE_PROJECT_NAME", name);

  r = compose_resolve_paths(tree, project_dir, err);
  if (r < 0)
    return r;
  _cleanup_strv_ char **env_list = compose_env_to_environ(&env);
  r = compose_finalize(tree, (const char *const *)env_list, err);
  if (r < 0)
    return r;
  /* before normalisation: a `name:` there is one the user wrote */
  if (!o->no_consistency && (r = compose_validate_runnable(tree, err)) < 0)
    return r;
  if (!o->skip_normalize) {
    r = compose_normalize(tree, err);
    if (r < 0)
      return r;
  }
  if (!o->no_consistency) {
    r = compose_validate_project(tree, err);
    if (r < 0)
      return r;
  }
  *tree_out = steal_pointer(&tree);
  if (project_dir_out)
    *project_dir_out = steal_pointer(&project_dir);
  if (files_out) {
    size_t n = 0;
    for (char **f = files; *f; f++)
      if (strcmp(*f, "-") != 0)
        files[n++] = *f;
      else
        free(*f);
    files[n] = NULL;
    *files_out = steal_pointer(&files);
  }
  if (env_out)
    *env_out = steal_pointer(&env_list);
  return 0;
}

int compose_load_tree(const struct compose_load_opts *o, struct cnode **tree_out,
                      char **project_dir_out, struct stack_error **err) {
  return load_tree(o, tree_out, project_dir_out, NULL, NULL, err);
}

int compose_load(const struct compose_load_opts *o, struct compose_project **out,
                 struct stack_error **err) {
  struct cnode *tree = NULL;
  _cleanup_free_ char *dir = NULL;
  _cleanup_strv_ char **files = NULL, **env = NULL;
  int r = load_tree(o, &tree, &dir, &files, &env, err);
  if (r < 0)
    return r;
  if ((r = compose_model_build(tree, dir, out, err)) < 0)
    return r;
  (*out)->config_files = steal_pointer(&files);
  (*out)->environment = steal_pointer(&env);
  return 0;
}
