/* Stages, global ARGs, bases and the target (build_plan.h, step 1). */
#include <ctype.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "builder/build_internal.h"
#include "builder/shell_words.h"
#include "runtime/util/cleanup.h"
#include "runtime/util/sbuf.h"
#include "runtime/util/xalloc.h"

static const char *const platform_args[] = {"BUILDPLATFORM", "BUILDOS",  "BUILDARCH",
                                            "BUILDVARIANT",  "TARGETPLATFORM", "TARGETOS",
                                            "TARGETARCH",    "TARGETVARIANT"};

#define FLAGS(...) ((struct bflag[]){__VA_ARGS__})
#define NFLAGS(a) (sizeof(a) / sizeof(a[0]))

static int need_args(const struct df_node *n, size_t min, bool exact, char **msg) {
  if (exact && n->n_args != min) {
    *msg = xasprintf("%s requires exactly one argument", df_cmd_name(n->cmd));
    return -EINVAL;
  }
  if (n->n_args < min) {
    *msg = min >= 2 ? xasprintf("%s requires at least two arguments, but only one was provided. "
                                "Destination could not be determined",
                                df_cmd_name(n->cmd))
                    : xasprintf("%s requires at least one argument", df_cmd_name(n->cmd));
    return -EINVAL;
  }
  return 0;
}

static int check_flags(const struct df_node *n, struct bflag *defs, size_t nd, char **msg) {
  int r = bflags_parse(n, defs, nd, msg);
  bflags_clear(defs, nd);
  return r;
}

int build_check_node(const struct df_node *n, char **msg) {
  switch (n->cmd) {
  case DF_ENV:
  case DF_LABEL:
    if (need_args(n, 1, false, msg) < 0 || check_flags(n, NULL, 0, msg) < 0)
      return -EINVAL;
    if (n->n_args % 3 != 0) {
      *msg = xasprintf("Bad input to %s, too many arguments", df_cmd_name(n->cmd));
      return -EINVAL;
    }
    for (size_t i = 0; i < n->n_args; i += 3)
      if (n->args[i].len == 0) {
        *msg = xasprintf("%s names can not be blank", df_cmd_name(n->cmd));
        return -EINVAL;
      }
    return 0;
  case DF_MAINTAINER:
  case DF_WORKDIR:
  case DF_USER:
  case DF_STOPSIGNAL:
    if (need_args(n, 1, true, msg) < 0)
      return -EINVAL;
    return check_flags(n, NULL, 0, msg);
  case DF_ADD: {
    struct bflag *f = FLAGS({.name = "chown", .type = BF_STRING}, {.name = "chmod", .type = BF_STRING}, {.name = "link", .type = BF_BOOL},
                            {.name = "keep-git-dir", .type = BF_BOOL}, {.name = "checksum", .type = BF_STRING}, {.name = "unpack", .type = BF_BOOL},
                            {.name = "exclude", .type = BF_STRINGS});
    if (need_args(n, 2, false, msg) < 0)
      return -EINVAL;
    return check_flags(n, f, 7, msg);
  }
  case DF_COPY: {
    struct bflag *f = FLAGS({.name = "chown", .type = BF_STRING}, {.name = "from", .type = BF_STRING}, {.name = "chmod", .type = BF_STRING},
                            {.name = "link", .type = BF_BOOL}, {.name = "exclude", .type = BF_STRINGS}, {.name = "parents", .type = BF_BOOL});
    if (need_args(n, 2, false, msg) < 0)
      return -EINVAL;
    return check_flags(n, f, 6, msg);
  }
  case DF_FROM: {
    struct bflag *f = FLAGS({.name = "platform", .type = BF_STRING});
    if (n->n_args == 3 && strcasecmp(n->args[1].s, "as") == 0) {
      const char *name = n->args[2].s;
      bool ok = isalpha((unsigned char)name[0]);
      for (const char *c = name; ok && *c; c++)
        ok = isalnum((unsigned char)*c) || *c == '-' || *c == '_' || *c == '.';
      if (!ok) {
        *msg = xasprintf("invalid name for build stage: \"%s\", name can't start with a number or "
                         "contain symbols",
                         name);
        return -EINVAL;
      }
    } else if (n->n_args != 1) {
      *msg = xasprintf("FROM requires either one or three arguments");
      return -EINVAL;
    }
    return check_flags(n, f, 1, msg);
  }
  case DF_ONBUILD:
    if (n->sub == NULL) {
      *msg = xasprintf("ONBUILD requires at least one argument");
      return -EINVAL;
    }
    if (check_flags(n, NULL, 0, msg) < 0)
      return -EINVAL;
    if (n->sub->cmd == DF_ONBUILD) {
      *msg = xasprintf("Chaining ONBUILD via `ONBUILD ONBUILD` isn't allowed");
      return -EINVAL;
    }
    if (n->sub->cmd == DF_FROM || n->sub->cmd == DF_MAINTAINER) {
      *msg = xasprintf("%s isn't allowed as an ONBUILD trigger", df_cmd_name(n->sub->cmd));
      return -EINVAL;
    }
    return build_check_node(n->sub, msg);
  case DF_RUN: {
    struct bflag *f = FLAGS({.name = "mount", .type = BF_STRINGS}, {.name = "network", .type = BF_STRING}, {.name = "security", .type = BF_STRING});
    if (n->json && n->n_args == 0) {
      *msg = xasprintf("RUN [] has no command to run");
      return -EINVAL;
    }
    if (bflags_parse(n, f, 3, msg) < 0) {
      bflags_clear(f, 3);
      return -EINVAL;
    }
    int r = 0;
    const char *net = bflag_get(f, 3, "network")->value;
    const char *sec = bflag_get(f, 3, "security")->value;
    if (net && strcmp(net, "default") != 0 && strcmp(net, "none") != 0 && strcmp(net, "host") != 0) {
      *msg = xasprintf("unsupported network mode \"%s\" (default, none or host)", net);
      r = -EINVAL;
    } else if (sec && strcmp(sec, "sandbox") != 0 && strcmp(sec, "insecure") != 0) {
      *msg = xasprintf("unsupported security mode \"%s\" (sandbox or insecure)", sec);
      r = -EINVAL;
    }
    bflags_clear(f, 3);
    return r;
  }
  case DF_CMD:
  case DF_ENTRYPOINT:
    return check_flags(n, NULL, 0, msg);
  case DF_HEALTHCHECK: {
    if (need_args(n, 1, false, msg) < 0)
      return -EINVAL;
    if (strcasecmp(n->args[0].s, "NONE") == 0) {
      if (n->n_args != 1) {
        *msg = xasprintf("HEALTHCHECK NONE takes no arguments");
        return -EINVAL;
      }
      return check_flags(n, NULL, 0, msg);
    }
    if (strcasecmp(n->args[0].s, "CMD") != 0) {
      *msg = xasprintf("Unknown type \"%s\" in HEALTHCHECK (try CMD)", n->args[0].s);
      return -EINVAL;
    }
    if (n->n_args < 2 || (!n->json && n->args[1].len == 0)) {
      *msg = xasprintf("Missing command after HEALTHCHECK CMD");
      return -EINVAL;
    }
    struct bflag *f = FLAGS({.name = "interval", .type = BF_STRING}, {.name = "timeout", .type = BF_STRING},
                            {.name = "start-period", .type = BF_STRING}, {.name = "start-interval", .type = BF_STRING},
                            {.name = "retries", .type = BF_STRING});
    return check_flags(n, f, 5, msg);
  }
  case DF_EXPOSE:
  case DF_VOLUME:
  case DF_ARG:
    if (need_args(n, 1, false, msg) < 0 || check_flags(n, NULL, 0, msg) < 0)
      return -EINVAL;
    if (n->cmd == DF_ARG)
      for (size_t i = 0; i < n->n_args; i++)
        if (n->args[i].s[0] == '=') {
          *msg = xasprintf("ARG names can not be blank");
          return -EINVAL;
        }
    return 0;
  case DF_SHELL:
    if (check_flags(n, NULL, 0, msg) < 0)
      return -EINVAL;
    if (n->n_args == 0) {
      *msg = xasprintf("SHELL requires at least one argument");
      return -EINVAL;
    }
    if (!n->json) {
      *msg = xasprintf("SHELL requires the arguments to be in JSON form, e.g. SHELL [\"/bin/bash\", \"-c\"]");
      return -EINVAL;
    }
    return 0;
  }
  *msg = xasprintf("unknown instruction");
  return -EINVAL;
}

void build_plan_free(struct build_plan *plan) {
  if (plan == NULL)
    return;
  for (size_t i = 0; i < plan->n_stages; i++) {
    struct build_stage *s = &plan->stages[i];
    free(s->name);
    free(s->base_ref);
    free(s->platform);
    free(s->nodes);
    free(s->deps);
  }
  free(plan->stages);
  strv_free(plan->build_args);
  strv_free(plan->global_args);
  strv_free(plan->global_declared);
  free(plan->target_platform);
  free(plan->build_platform);
  dockerfile_free(plan->df);
  free(plan);
}

static int plan_error(struct stack_error **err, const struct build_plan *p, const struct df_node *n,
                      const char *msg) {
  return stack_error_set(err, -EINVAL, "%s:%d: %s: %s", p->df->path, n->start_line,
                         df_cmd_name(n->cmd), msg);
}

static void platform_split(const char *p, char **os, char **arch, char **variant) {
  const char *s1 = strchr(p, '/');
  const char *s2 = s1 ? strchr(s1 + 1, '/') : NULL;
  *os = s1 ? xstrndup(p, (size_t)(s1 - p)) : xstrdup(p);
  *arch = s1 ? (s2 ? xstrndup(s1 + 1, (size_t)(s2 - s1 - 1)) : xstrdup(s1 + 1)) : xstrdup("");
  *variant = s2 ? xstrdup(s2 + 1) : xstrdup("");
}

static long find_stage(const struct build_plan *p, size_t before, const char *name) {
  for (size_t i = 0; i < before; i++)
    if (p->stages[i].name && strcasecmp(p->stages[i].name, name) == 0)
      return (long)i;
  return -1;
}

static void add_dep(struct build_stage *s, size_t dep) {
  for (size_t i = 0; i < s->n_deps; i++)
    if (s->deps[i] == dep)
      return;
  s->deps = xrealloc(s->deps, (s->n_deps + 1) * sizeof(size_t));
  s->deps[s->n_deps++] = dep;
}

/* COPY --from and RUN --mount from=: a stage (by name or index, defined
 * before) or an image.  -1 for an image. */
static int resolve_from(struct build_plan *p, size_t cur, const struct df_node *n, const char *from,
                        long *stage, struct stack_error **err) {
  _cleanup_free_ char *exp = NULL;
  struct shell_words_opts o = {.escape = p->df->escape};
  if (shell_expand_word(from, NULL, &o, &exp, NULL) < 0 || strcmp(exp, from) != 0)
    return plan_error(err, p, n,
                      "variable expansion is not supported for --from, define a new stage with "
                      "FROM using ARG from global scope as a workaround");
  char *end;
  long idx = strtol(from, &end, 10);
  if (*from && *end == '\0' && isdigit((unsigned char)*from)) {
    if (idx < 0 || (size_t)idx >= p->n_stages) {
      _cleanup_free_ char *m = xasprintf("invalid stage index %s: there are %zu stages", from, p->n_stages);
      return plan_error(err, p, n, m);
    }
    if ((size_t)idx >= cur) {
      _cleanup_free_ char *m = xasprintf("cannot copy from stage %s, it needs to be defined before the current stage", from);
      return plan_error(err, p, n, m);
    }
    *stage = idx;
    return 0;
  }
  *stage = find_stage(p, cur, from);
  return 0;
}

static int stage_deps(struct build_plan *p, size_t si, const struct df_node *n, struct stack_error **err) {
  struct build_stage *s = &p->stages[si];
  if (n->cmd == DF_ONBUILD)
    return 0;
  if (n->cmd == DF_COPY) {
    for (size_t i = 0; i < n->n_flags; i++) {
      if (strncmp(n->flags[i], "--from=", 7) != 0)
        continue;
      long st;
      if (resolve_from(p, si, n, n->flags[i] + 7, &st, err) < 0)
        return -EINVAL;
      if (st >= 0)
        add_dep(s, (size_t)st);
    }
  }
  if (n->cmd == DF_RUN) {
    for (size_t i = 0; i < n->n_flags; i++) {
      if (strncmp(n->flags[i], "--mount=", 8) != 0)
        continue;
      _cleanup_free_ char *msg = NULL;
      _cleanup_free_ char *from = NULL;
      if (build_mount_from(n->flags[i] + 8, &from, &msg) < 0)
        return plan_error(err, p, n, msg);
      long st = -1;
      int r = from ? resolve_from(p, si, n, from, &st, err) : 0;
      if (r < 0)
        return r;
      if (st >= 0)
        add_dep(s, (size_t)st);
    }
  }
  return 0;
}

static void mark_needed(struct build_plan *p, size_t i) {
  if (p->stages[i].needed)
    return;
  p->stages[i].needed = true;
  for (size_t d = 0; d < p->stages[i].n_deps; d++)
    mark_needed(p, p->stages[i].deps[d]);
}

static void global_arg(struct build_plan *p, const char *arg, struct stack_error **experr, int *r,
                       const struct df_node *n, struct stack_error **err) {
  const char *eq = strchr(arg, '=');
  _cleanup_free_ char *key = eq ? xstrndup(arg, (size_t)(eq - arg)) : xstrdup(arg);
  strv_push(&p->global_declared, xstrdup(key));
  const char *given = env_get(p->build_args, key);
  if (given) {
    env_set(&p->global_args, key, given);
    return;
  }
  if (!eq)
    return;
  _cleanup_free_ char *v = NULL;
  struct shell_words_opts o = {.escape = p->df->escape};
  if (shell_expand_word(eq + 1, p->global_args, &o, &v, experr) < 0) {
    *r = plan_error(err, p, n, (*experr)->msg);
    return;
  }
  env_set(&p->global_args, key, v);
}

int build_plan_create(struct dockerfile *df, const struct build_plan_opts *opts,
                      struct build_plan **out, struct stack_error **err) {
  struct build_plan_opts none = {0};
  if (opts == NULL)
    opts = &none;
  struct build_plan *p = xcalloc(1, sizeof(*p));
  p->df = df;
  p->build_args = strv_copy(opts->build_args);
  if (p->build_args == NULL)
    p->build_args = xcalloc(1, sizeof(char *));
  p->build_platform = xstrdup(opts->build_platform ? opts->build_platform : "linux/amd64");
  p->target_platform = xstrdup(opts->target_platform ? opts->target_platform : p->build_platform);
  p->global_args = xcalloc(1, sizeof(char *));
  {
    char *v[2][3];
    platform_split(p->build_platform, &v[0][0], &v[0][1], &v[0][2]);
    platform_split(p->target_platform, &v[1][0], &v[1][1], &v[1][2]);
    const char *vals[] = {p->build_platform, v[0][0], v[0][1], v[0][2],
                          p->target_platform, v[1][0], v[1][1], v[1][2]};
    for (size_t i = 0; i < 8; i++)
      env_set(&p->global_args, platform_args[i], vals[i]);
    for (size_t i = 0; i < 2; i++)
      for (size_t j = 0; j < 3; j++)
        free(v[i][j]);
  }
  int r = 0;
  size_t cap = 0;
  for (size_t i = 0; i < df->n_nodes; i++) {
    const struct df_node *n = &df->nodes[i];
    _cleanup_free_ char *msg = NULL;
    if (build_check_node(n, &msg) < 0) {
      r = plan_error(err, p, n, msg);
      goto fail;
    }
    if (n->cmd == DF_FROM) {
      p->stages = xgrow(p->stages, &cap, p->n_stages + 1, sizeof(*p->stages));
      size_t si = p->n_stages;
      struct build_stage *s = &p->stages[si];
      memset(s, 0, sizeof(*s));
      p->n_stages++;
      s->index = si;
      s->line = n->start_line;
      if (n->n_args == 3) {
        s->name = xstrdup(n->args[2].s);
        for (char *c = s->name; *c; c++)
          *c = (char)tolower((unsigned char)*c);
        if (find_stage(p, si, s->name) >= 0) {
          _cleanup_free_ char *m = xasprintf("duplicate stage name \"%s\"", s->name);
          r = plan_error(err, p, n, m);
          goto fail;
        }
      }
      struct shell_words_opts o = {.escape = df->escape};
      _cleanup_error_ struct stack_error *e = NULL;
      _cleanup_free_ char *base = NULL;
      if (shell_expand_word(n->args[0].s, p->global_args, &o, &base, &e) < 0) {
        r = plan_error(err, p, n, e->msg);
        goto fail;
      }
      if (base[0] == '\0') {
        _cleanup_free_ char *m = xasprintf("base name (%s) should not be blank", n->args[0].s);
        r = plan_error(err, p, n, m);
        goto fail;
      }
      for (size_t f = 0; f < n->n_flags; f++) {
        if (strncmp(n->flags[f], "--platform=", 11) != 0)
          continue;
        free(s->platform);
        s->platform = NULL;
        if (shell_expand_word(n->flags[f] + 11, p->global_args, &o, &s->platform, &e) < 0) {
          r = plan_error(err, p, n, e->msg);
          goto fail;
        }
      }
      long st = find_stage(p, si, base);
      if (st >= 0) {
        s->base = BUILD_BASE_STAGE;
        s->base_stage = (size_t)st;
        add_dep(s, (size_t)st);
      } else if (strcmp(base, "scratch") == 0) {
        s->base = BUILD_BASE_SCRATCH;
      } else {
        s->base = BUILD_BASE_IMAGE;
        s->base_ref = steal_pointer(&base);
      }
      continue;
    }
    if (p->n_stages == 0) {
      if (n->cmd != DF_ARG) {
        r = stack_error_set(err, -EINVAL,
                            "%s:%d: %s: no build stage in current context: a Dockerfile starts with "
                            "FROM (only ARG may come before it)",
                            df->path, n->start_line, df_cmd_name(n->cmd));
        goto fail;
      }
      _cleanup_error_ struct stack_error *e = NULL;
      for (size_t a = 0; a < n->n_args && r == 0; a++)
        global_arg(p, n->args[a].s, &e, &r, n, err);
      if (r < 0)
        goto fail;
      continue;
    }
    struct build_stage *s = &p->stages[p->n_stages - 1];
    s->nodes = xrealloc(s->nodes, (s->n_nodes + 1) * sizeof(*s->nodes));
    s->nodes[s->n_nodes++] = n;
    if ((r = stage_deps(p, p->n_stages - 1, n, err)) < 0)
      goto fail;
  }
  if (p->n_stages == 0) {
    r = stack_error_set(err, -EINVAL, "%s: no FROM: a Dockerfile needs at least one build stage", df->path);
    goto fail;
  }
  p->target = p->n_stages - 1;
  if (opts->target && opts->target[0]) {
    long t = find_stage(p, p->n_stages, opts->target);
    if (t < 0) {
      struct sbuf names = SBUF_INIT;
      for (size_t i = 0; i < p->n_stages; i++)
        if (p->stages[i].name)
          sbuf_printf(&names, "%s%s", names.len ? ", " : "", p->stages[i].name);
      r = stack_error_set(err, -EINVAL, "%s: target stage \"%s\" could not be found (its stages: %s)",
                          df->path, opts->target, names.data ? names.data : "none is named");
      sbuf_free(&names);
      goto fail;
    }
    p->target = (size_t)t;
  }
  mark_needed(p, p->target);
  *out = p;
  return 0;
fail:
  build_plan_free(p);
  return r < 0 ? r : -EINVAL;
}

int build_parse_onbuild(char *const *triggers, struct dockerfile **out, struct stack_error **err) {
  /* One parse per trigger: a trigger is one instruction (its heredocs
   * included), and must not run into the next. */
  struct dockerfile *all = xcalloc(1, sizeof(*all));
  all->path = xstrdup("ONBUILD trigger of the base image");
  all->escape = '\\';
  size_t cap = 0;
  for (size_t i = 0; triggers && triggers[i]; i++) {
    _cleanup_free_ char *path = xasprintf("ONBUILD trigger %zu of the base image (\"%s\")", i + 1, triggers[i]);
    struct dockerfile *one = NULL;
    int r = dockerfile_parse(path, triggers[i], strlen(triggers[i]), &one, err);
    if (r == 0 && one->n_nodes != 1)
      r = stack_error_set(err, -EINVAL, "%s: a trigger is one instruction", path);
    const struct df_node *n = r == 0 ? &one->nodes[0] : NULL;
    _cleanup_free_ char *msg = NULL;
    if (r == 0) {
      if (n->cmd == DF_ONBUILD || n->cmd == DF_FROM || n->cmd == DF_MAINTAINER)
        msg = xasprintf("%s isn't allowed as an ONBUILD trigger", df_cmd_name(n->cmd));
      else
        build_check_node(n, &msg);
      if (msg)
        r = stack_error_set(err, -EINVAL, "%s: %s: %s", path, df_cmd_name(n->cmd), msg);
    }
    if (r < 0) {
      dockerfile_free(one);
      dockerfile_free(all);
      return r;
    }
    all->nodes = xgrow(all->nodes, &cap, all->n_nodes + 1, sizeof(*all->nodes));
    all->nodes[all->n_nodes++] = one->nodes[0];
    one->n_nodes = 0;
    dockerfile_free(one);
  }
  *out = all;
  return 0;
}
