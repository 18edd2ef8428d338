/* One stage walked instruction by instruction (build_plan.h, step 2), as
 * the reference's dispatchers (dockerfile2llb/convert.go) do: each
 * instruction's words are expanded with the ARG/ENV in scope before it runs,
 * so `ENV A=1 B=$A` gives B the previous A. */
#include <ctype.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "builder/build_internal.h"
#include "builder/shell_words.h"
#include "builder/text.h"
#include "runtime/util/cleanup.h"
#include "runtime/util/sbuf.h"
#include "runtime/util/xalloc.h"

static const char *const proxy_args[] = {"http_proxy", "https_proxy", "ftp_proxy", "no_proxy", "all_proxy"};

struct ctx {
  const struct build_plan *plan;
  const struct build_stage *stage;
  struct build_config cfg;
  char **env;        /* the state's environment: base Env, ARGs, ENVs (expansion, RUN) */
  char **stage_args; /* "K" of the ARGs this stage declared with a value, in order */
  bool cmd_set;
  struct build_step *steps;
  size_t n_steps, cap;
  bool onbuild;
  const char *path;
};

/* ---- configs --------------------------------------------------------- */

static void health_clear(struct build_health *h) {
  strv_free(h->test);
  memset(h, 0, sizeof(*h));
}

void build_config_clear(struct build_config *c) {
  strv_free(c->env);
  strv_free(c->cmd);
  strv_free(c->entrypoint);
  free(c->working_dir);
  free(c->user);
  strv_free(c->exposed_ports);
  strv_free(c->volumes);
  strv_free(c->labels);
  health_clear(&c->health);
  free(c->stop_signal);
  strv_free(c->shell);
  strv_free(c->onbuild);
  free(c->author);
  for (size_t i = 0; i < c->n_history; i++)
    free(c->history[i].created_by);
  free(c->history);
  memset(c, 0, sizeof(*c));
}

static char *xstrdup_or_null(const char *s) { return s ? xstrdup(s) : NULL; }

void build_config_copy(struct build_config *d, const struct build_config *s) {
  memset(d, 0, sizeof(*d));
  d->env = strv_copy(s->env);
  d->cmd = strv_copy(s->cmd);
  d->entrypoint = strv_copy(s->entrypoint);
  d->working_dir = xstrdup_or_null(s->working_dir);
  d->user = xstrdup_or_null(s->user);
  d->exposed_ports = strv_copy(s->exposed_ports);
  d->volumes = strv_copy(s->volumes);
  d->labels = strv_copy(s->labels);
  d->health = s->health;
  d->health.test = strv_copy(s->health.test);
  d->stop_signal = xstrdup_or_null(s->stop_signal);
  d->shell = strv_copy(s->shell);
  d->onbuild = strv_copy(s->onbuild);
  d->author = xstrdup_or_null(s->author);
  d->n_history = s->n_history;
  d->history = s->n_history ? xcalloc(s->n_history, sizeof(*d->history)) : NULL;
  for (size_t i = 0; i < s->n_history; i++) {
    d->history[i].created_by = xstrdup_or_null(s->history[i].created_by);
    d->history[i].empty_layer = s->history[i].empty_layer;
  }
}

static void step_clear(struct build_step *s) {
  free(s->created_by);
  strv_free(s->argv);
  strv_free(s->env);
  free(s->user);
  free(s->workdir);
  for (size_t i = 0; i < s->n_mounts; i++)
    build_mount_clear(&s->mounts[i]);
  free(s->mounts);
  free(s->network);
  free(s->security);
  for (size_t i = 0; i < s->n_files; i++) {
    free(s->files[i].name);
    free(s->files[i].data);
  }
  free(s->files);
  strv_free(s->sources);
  for (size_t i = 0; i < s->n_contents; i++) {
    free(s->contents[i].name);
    free(s->contents[i].data);
  }
  free(s->contents);
  free(s->dest);
  free(s->from);
  free(s->chown);
  free(s->chmod);
  free(s->checksum);
  strv_free(s->excludes);
}

void build_stage_result_free(struct build_stage_result *r) {
  if (r == NULL)
    return;
  for (size_t i = 0; i < r->n_steps; i++)
    step_clear(&r->steps[i]);
  free(r->steps);
  build_config_clear(&r->config);
  free(r);
}

/* ---- helpers --------------------------------------------------------- */

static int node_fail(struct ctx *c, const struct df_node *n, struct stack_error **err, const char *msg) {
  if (c->onbuild)
    return stack_error_set(err, -EINVAL, "%s:%d: FROM: the base image's ONBUILD trigger \"%s\": %s",
                           c->path, c->stage->line, n->original, msg);
  return stack_error_set(err, -EINVAL, "%s:%d: %s: %s", c->path, n->start_line, df_cmd_name(n->cmd), msg);
}

static int expand(struct ctx *c, const char *word, char **out, char **msg) {
  struct shell_words_opts o = {.escape = c->plan->df->escape};
  _cleanup_error_ struct stack_error *e = NULL;
  if (shell_expand_word(word, c->env, &o, out, &e) < 0) {
    *msg = xstrdup(e->msg);
    return -EINVAL;
  }
  return 0;
}

static int mount_expand_cb(void *ctx, const char *in, char **out, char **msg) {
  return expand(ctx, in, out, msg);
}

static void history(struct ctx *c, char *created_by, bool layer) {
  c->cfg.history = xrealloc(c->cfg.history, (c->cfg.n_history + 1) * sizeof(*c->cfg.history));
  c->cfg.history[c->cfg.n_history].created_by = created_by;
  c->cfg.history[c->cfg.n_history].empty_layer = !layer;
  c->cfg.n_history++;
}

static struct build_step *new_step(struct ctx *c, const struct df_node *n, enum build_step_kind kind) {
  c->steps = xgrow(c->steps, &c->cap, c->n_steps + 1, sizeof(*c->steps));
  struct build_step *s = &c->steps[c->n_steps++];
  memset(s, 0, sizeof(*s));
  s->kind = kind;
  s->node = n;
  s->line = c->onbuild ? c->stage->line : n->start_line;
  s->onbuild = c->onbuild;
  s->from_stage = -1;
  s->unpack = -1;
  return s;
}

/* Go's %q of a []string: ["a" "b"]. */
static void quote_list(struct sbuf *b, char *const *v) {
  sbuf_putc(b, '[');
  for (size_t i = 0; v && v[i]; i++) {
    if (i)
      sbuf_putc(b, ' ');
    text_quote(b, v[i], strlen(v[i]));
  }
  sbuf_putc(b, ']');
}

static void plain_list(struct sbuf *b, char *const *v) {
  sbuf_putc(b, '[');
  for (size_t i = 0; v && v[i]; i++)
    sbuf_printf(b, "%s%s", i ? " " : "", v[i]);
  sbuf_putc(b, ']');
}

static int args_vector(const struct df_node *n, size_t from, char ***out, char **msg) {
  char **v = xcalloc(1, sizeof(char *));
  for (size_t i = from; i < n->n_args; i++) {
    if (strlen(n->args[i].s) != n->args[i].len) {
      strv_free(v);
      *msg = xasprintf("argument %zu holds a NUL character (\\u0000), which no command can take", i - from + 1);
      return -EINVAL;
    }
    strv_push(&v, xstrdup(n->args[i].s));
  }
  *out = v;
  return 0;
}

/* handleJSONArgs + withShell: a JSON form as it is, a shell form joined and
 * handed to the stage's SHELL. */
static int command_line(struct ctx *c, const struct df_node *n, size_t from, bool *prepend, char ***out,
                        char **msg) {
  *prepend = !n->json;
  if (n->json)
    return args_vector(n, from, out, msg);
  struct sbuf j = SBUF_INIT;
  for (size_t i = from; i < n->n_args; i++)
    sbuf_printf(&j, "%s%s", i > from ? " " : "", n->args[i].s);
  char **v = c->cfg.shell ? strv_copy(c->cfg.shell) : NULL;
  if (v == NULL) {
    v = xcalloc(1, sizeof(char *));
    strv_push(&v, xstrdup("/bin/sh"));
    strv_push(&v, xstrdup("-c"));
  }
  strv_push(&v, sbuf_steal(&j));
  *out = v;
  return 0;
}

static char *chomp(const char *s) {
  struct sbuf b = SBUF_INIT;
  bool bol = true;
  for (; *s; s++) {
    if (bol && *s == '\t')
      continue;
    bol = *s == '\n';
    sbuf_putc(&b, *s);
  }
  return sbuf_steal(&b);
}

static long stage_ref(struct ctx *c, const char *from) {
  const struct build_plan *p = c->plan;
  char *end;
  long idx = strtol(from, &end, 10);
  if (*from && isdigit((unsigned char)*from) && *end == '\0')
    return idx >= 0 && (size_t)idx < c->stage->index ? idx : -1;
  for (size_t i = 0; i < c->stage->index; i++)
    if (p->stages[i].name && strcasecmp(p->stages[i].name, from) == 0)
      return (long)i;
  return -1;
}

static const char *workdir(struct ctx *c) { return c->cfg.working_dir ? c->cfg.working_dir : "/"; }

/* ---- the instructions ------------------------------------------------ */

static int do_kv(struct ctx *c, const struct df_node *n, char **msg) {
  size_t np = n->n_args / 3;
  _cleanup_strv_ char **keys = xcalloc(np + 1, sizeof(char *));
  _cleanup_strv_ char **vals = xcalloc(np + 1, sizeof(char *));
  for (size_t i = 0; i < np; i++) {
    if (expand(c, n->args[3 * i].s, &keys[i], msg) < 0 || expand(c, n->args[3 * i + 1].s, &vals[i], msg) < 0)
      return -EINVAL;
  }
  struct sbuf h = SBUF_INIT;
  sbuf_puts(&h, df_cmd_name(n->cmd));
  for (size_t i = 0; i < np; i++) {
    if (n->cmd == DF_ENV) {
      env_set(&c->env, keys[i], vals[i]);
      env_set(&c->cfg.env, keys[i], vals[i]);
    } else {
      env_set(&c->cfg.labels, keys[i], vals[i]);
    }
    sbuf_printf(&h, " %s=%s", keys[i], vals[i]);
  }
  history(c, sbuf_steal(&h), false);
  new_step(c, n, BUILD_STEP_CONFIG);
  return 0;
}

static int do_arg(struct ctx *c, const struct df_node *n, char **msg) {
  struct sbuf h = SBUF_INIT;
  sbuf_puts(&h, "ARG");
  for (size_t i = 0; i < n->n_args; i++) {
    const char *a = n->args[i].s;
    const char *eq = strchr(a, '=');
    _cleanup_free_ char *key = eq ? xstrndup(a, (size_t)(eq - a)) : xstrdup(a);
    const char *given = env_get(c->plan->build_args, key);
    _cleanup_free_ char *value = NULL;
    if (given) {
      value = xstrdup(given);
    } else if (eq) {
      if (expand(c, eq + 1, &value, msg) < 0) {
        sbuf_free(&h);
        return -EINVAL;
      }
    } else {
      bool declared = false;
      for (size_t k = 0; c->plan->global_declared && c->plan->global_declared[k]; k++)
        declared |= strcmp(c->plan->global_declared[k], key) == 0;
      const char *g = env_get(c->plan->global_args, key);
      bool automatic = strncmp(key, "BUILD", 5) == 0 || strncmp(key, "TARGET", 6) == 0;
      if (g && (declared || automatic))
        value = xstrdup(g);
    }
    if (value) {
      env_set(&c->env, key, value);
      bool seen = false;
      for (size_t k = 0; c->stage_args && c->stage_args[k]; k++)
        seen |= strcmp(c->stage_args[k], key) == 0;
      if (!seen)
        strv_push(&c->stage_args, xstrdup(key));
      sbuf_printf(&h, " %s=%s", key, value);
    } else {
      sbuf_printf(&h, " %s", key);
    }
  }
  history(c, sbuf_steal(&h), false);
  new_step(c, n, BUILD_STEP_CONFIG);
  return 0;
}

static int do_run(struct ctx *c, const struct df_node *n, char **msg) {
  struct bflag f[] = {{.name = "mount", .type = BF_STRINGS}, {.name = "network", .type = BF_STRING}, {.name = "security", .type = BF_STRING}};
  int r = -EINVAL;
  if (bflags_parse(n, f, 3, msg) < 0)
    goto out;
  struct build_step *s = new_step(c, n, BUILD_STEP_RUN);
  for (size_t i = 0; i < f[0].n_values; i++) {
    struct mount_expand ex = {mount_expand_cb, c};
    s->mounts = xrealloc(s->mounts, (s->n_mounts + 1) * sizeof(*s->mounts));
    if (build_parse_mount(f[0].values[i], &ex, workdir(c), &s->mounts[s->n_mounts], msg) < 0)
      goto out;
    struct build_mount *m = &s->mounts[s->n_mounts++];
    if (m->from)
      m->from_stage = stage_ref(c, m->from);
  }
  if (f[1].value && expand(c, f[1].value, &s->network, msg) < 0)
    goto out;
  if (s->network == NULL)
    s->network = xstrdup("default");
  s->security = xstrdup(f[2].value ? f[2].value : "sandbox");

  bool prepend;
  if (n->n_heredocs > 0 && !n->json && n->n_args == 1) {
    struct df_heredoc h;
    _cleanup_error_ struct stack_error *e = NULL;
    int hr = df_heredoc_parse(n->args[0].s, &h, &e);
    if (hr < 0) {
      *msg = xstrdup(e->msg);
      goto out;
    }
    for (size_t i = 0; i < n->n_heredocs; i++) {
      s->files = xrealloc(s->files, (s->n_files + 1) * sizeof(*s->files));
      s->files[s->n_files].name = xstrdup(n->heredocs[i].name);
      s->files[s->n_files].data = n->heredocs[i].chomp ? chomp(n->heredocs[i].content)
                                                       : xstrdup(n->heredocs[i].content);
      s->files[s->n_files].fd = n->heredocs[i].fd;
      s->n_files++;
    }
    if (hr == 1) {
      /* the whole command is one heredoc: a script with a #! runs as a
       * file under /dev/pipes/, any other is handed to the shell */
      const char *data = s->files[0].data;
      if (strncmp(data, "#!", 2) == 0) {
        s->argv = xcalloc(1, sizeof(char *));
        strv_push(&s->argv, xasprintf("/dev/pipes/%s", s->files[0].name));
        prepend = false;
      } else {
        struct df_node tmp = *n;
        struct df_word w = {(char *)data, strlen(data)};
        tmp.args = &w;
        command_line(c, &tmp, 0, &prepend, &s->argv, msg);
      }
      df_heredoc_clear(&h);
    } else {
      /* heredocs inside a command: the shell reads them itself */
      struct sbuf script = SBUF_INIT;
      sbuf_puts(&script, n->args[0].s);
      for (size_t i = 0; i < n->n_heredocs; i++)
        sbuf_printf(&script, "\n%s%s", n->heredocs[i].content, n->heredocs[i].name);
      struct df_node tmp = *n;
      struct df_word w = {script.data, script.len};
      tmp.args = &w;
      command_line(c, &tmp, 0, &prepend, &s->argv, msg);
      sbuf_free(&script);
    }
  } else if (command_line(c, n, 0, &prepend, &s->argv, msg) < 0) {
    goto out;
  }

  s->env = strv_copy(c->env);
  if (s->env == NULL)
    s->env = xcalloc(1, sizeof(char *));
  for (size_t i = 0; c->plan->build_args[i]; i++) {
    const char *kv = c->plan->build_args[i];
    const char *eq = strchr(kv, '=');
    if (!eq)
      continue;
    for (size_t k = 0; k < sizeof(proxy_args) / sizeof(proxy_args[0]); k++) {
      if (strlen(proxy_args[k]) == (size_t)(eq - kv) && strncasecmp(kv, proxy_args[k], (size_t)(eq - kv)) == 0) {
        _cleanup_free_ char *key = xstrndup(kv, (size_t)(eq - kv));
        if (env_get(s->env, key) == NULL)
          env_set(&s->env, key, eq + 1);
      }
    }
  }
  s->user = xstrdup_or_null(c->cfg.user);
  s->workdir = xstrdup(workdir(c));

  struct sbuf h = SBUF_INIT;
  sbuf_puts(&h, "RUN");
  size_t na = strv_len(c->stage_args);
  if (na)
    sbuf_printf(&h, " |%zu", na);
  for (size_t i = 0; i < na; i++) {
    const char *v = env_get(c->env, c->stage_args[i]);
    sbuf_printf(&h, " %s=%s", c->stage_args[i], v ? v : "");
  }
  for (size_t i = 0; s->argv[i]; i++)
    sbuf_printf(&h, " %s", s->argv[i]);
  sbuf_puts(&h, " # buildkit");
  s->created_by = xstrdup(h.data);
  history(c, sbuf_steal(&h), true);
  r = 0;
out:
  bflags_clear(f, 3);
  return r;
}

static char *dest_path(struct ctx *c, const char *d) {
  bool slash = d[0] == '\0' || strcmp(d, ".") == 0 || d[strlen(d) - 1] == '/';
  char *abs = path_join_abs(workdir(c), d);
  if (slash && strcmp(abs, "/") != 0) {
    char *s = xasprintf("%s/", abs);
    free(abs);
    return s;
  }
  return abs;
}

static int do_copy(struct ctx *c, const struct df_node *n, char **msg) {
  bool add = n->cmd == DF_ADD;
  struct bflag fa[] = {{.name = "chown", .type = BF_STRING}, {.name = "chmod", .type = BF_STRING}, {.name = "link", .type = BF_BOOL},
                       {.name = "keep-git-dir", .type = BF_BOOL}, {.name = "checksum", .type = BF_STRING}, {.name = "unpack", .type = BF_BOOL},
                       {.name = "exclude", .type = BF_STRINGS}};
  struct bflag fc[] = {{.name = "chown", .type = BF_STRING}, {.name = "from", .type = BF_STRING}, {.name = "chmod", .type = BF_STRING},
                       {.name = "link", .type = BF_BOOL}, {.name = "exclude", .type = BF_STRINGS}, {.name = "parents", .type = BF_BOOL}};
  struct bflag *f = add ? fa : fc;
  size_t nf = add ? 7 : 6;
  _cleanup_free_ char *dest = NULL;
  int r = -EINVAL;
  if (bflags_parse(n, f, nf, msg) < 0)
    goto out;
  struct build_step *s = new_step(c, n, add ? BUILD_STEP_ADD : BUILD_STEP_COPY);
  struct df_heredoc h;
  if (df_heredoc_parse(n->args[n->n_args - 1].s, &h, NULL) == 1) {
    df_heredoc_clear(&h);
    *msg = xasprintf("%s cannot accept a heredoc as a destination", df_cmd_name(n->cmd));
    goto out;
  }
  s->sources = xcalloc(1, sizeof(char *));
  for (size_t i = 0; i + 1 < n->n_args; i++) {
    if (strlen(n->args[i].s) != n->args[i].len) {
      *msg = xasprintf("a source path holds a NUL character");
      goto out;
    }
    if (df_heredoc_parse(n->args[i].s, &h, NULL) == 1) {
      const char *content = "";
      for (size_t k = 0; k < n->n_heredocs; k++)
        if (strcmp(n->heredocs[k].name, h.name) == 0)
          content = n->heredocs[k].content;
      _cleanup_free_ char *data = h.chomp ? chomp(content) : xstrdup(content);
      char *final = NULL;
      if (h.expand) {
        struct shell_words_opts o = {.escape = '\\', .skip_process_quotes = true};
        _cleanup_error_ struct stack_error *e = NULL;
        if (shell_expand_word(data, c->env, &o, &final, &e) < 0) {
          *msg = xstrdup(e->msg);
          df_heredoc_clear(&h);
          goto out;
        }
      } else {
        final = steal_pointer(&data);
      }
      s->contents = xrealloc(s->contents, (s->n_contents + 1) * sizeof(*s->contents));
      s->contents[s->n_contents].name = steal_pointer(&h.name);
      s->contents[s->n_contents].data = final;
      s->contents[s->n_contents].fd = h.fd;
      s->n_contents++;
      df_heredoc_clear(&h);
      continue;
    }
    char *v;
    if (expand(c, n->args[i].s, &v, msg) < 0)
      goto out;
    strv_push(&s->sources, v);
  }
  if (expand(c, n->args[n->n_args - 1].s, &dest, msg) < 0)
    goto out;
  s->dest = dest_path(c, dest);
  const struct bflag *b;
  if ((b = bflag_get(f, nf, "chown"))->value && expand(c, b->value, &s->chown, msg) < 0)
    goto out;
  if ((b = bflag_get(f, nf, "chmod"))->value && expand(c, b->value, &s->chmod, msg) < 0)
    goto out;
  if ((b = bflag_get(f, nf, "link"))->value)
    s->link = strcmp(b->value, "true") == 0;
  if ((b = bflag_get(f, nf, "exclude"))->values)
    s->excludes = strv_copy(b->values);
  if (add) {
    if ((b = bflag_get(f, nf, "checksum"))->value && expand(c, b->value, &s->checksum, msg) < 0)
      goto out;
    if ((b = bflag_get(f, nf, "keep-git-dir"))->value)
      s->keep_git_dir = strcmp(b->value, "true") == 0;
    if ((b = bflag_get(f, nf, "unpack"))->value)
      s->unpack = strcmp(b->value, "true") == 0;
  } else {
    if ((b = bflag_get(f, nf, "from"))->value) {
      s->from = xstrdup(b->value);
      s->from_stage = stage_ref(c, s->from);
    }
    if ((b = bflag_get(f, nf, "parents"))->value)
      s->parents = strcmp(b->value, "true") == 0;
  }
  struct sbuf hs = SBUF_INIT;
  sbuf_puts(&hs, df_cmd_name(n->cmd));
  if (s->from)
    sbuf_printf(&hs, " --from=%s", s->from);
  for (size_t i = 0; s->sources[i]; i++)
    sbuf_printf(&hs, " %s", s->sources[i]);
  for (size_t i = 0; i < s->n_contents; i++)
    sbuf_printf(&hs, " <<%s", s->contents[i].name);
  sbuf_printf(&hs, " %s # buildkit", s->dest);
  s->created_by = xstrdup(hs.data);
  history(c, sbuf_steal(&hs), true);
  r = 0;
out:
  bflags_clear(f, nf);
  return r;
}

static int sorted_insert(char ***set, const char *v) {
  size_t n = strv_len(*set), i = 0;
  while (i < n && strcmp((*set)[i], v) < 0)
    i++;
  if (i < n && strcmp((*set)[i], v) == 0)
    return 0;
  *set = xrealloc(*set, (n + 2) * sizeof(char *));
  (*set)[n] = NULL;
  memmove(&(*set)[i + 1], &(*set)[i], (n - i + 1) * sizeof(char *));
  (*set)[i] = xstrdup(v);
  return 1;
}

static int duration_flag(struct bflag *f, size_t nf, const char *name, int64_t *out, char **msg) {
  const struct bflag *b = bflag_get(f, nf, name);
  *out = 0;
  if (!b->value || b->value[0] == '\0')
    return 0;
  _cleanup_error_ struct stack_error *e = NULL;
  if (build_parse_duration(b->value, out, &e) < 0) {
    *msg = xstrdup(e->msg);
    return -EINVAL;
  }
  if (*out != 0 && *out < 1000000) {
    *msg = xasprintf("Interval \"%s\" cannot be less than 1ms", name);
    return -EINVAL;
  }
  return 0;
}

static int do_healthcheck(struct ctx *c, const struct df_node *n, char **msg) {
  struct build_health h = {0};
  if (strcasecmp(n->args[0].s, "NONE") == 0) {
    h.test = xcalloc(1, sizeof(char *));
    strv_push(&h.test, xstrdup("NONE"));
  } else {
    struct bflag f[] = {{.name = "interval", .type = BF_STRING}, {.name = "timeout", .type = BF_STRING}, {.name = "start-period", .type = BF_STRING},
                        {.name = "start-interval", .type = BF_STRING}, {.name = "retries", .type = BF_STRING}};
    int r = bflags_parse(n, f, 5, msg);
    if (r == 0)
      r = duration_flag(f, 5, "interval", &h.interval_ns, msg);
    if (r == 0)
      r = duration_flag(f, 5, "timeout", &h.timeout_ns, msg);
    if (r == 0)
      r = duration_flag(f, 5, "start-period", &h.start_period_ns, msg);
    if (r == 0)
      r = duration_flag(f, 5, "start-interval", &h.start_interval_ns, msg);
    if (r == 0 && f[4].value) {
      char *end;
      errno = 0;
      long v = strtol(f[4].value, &end, 10);
      if (f[4].value[0] == '\0' || *end || errno || v > INT32_MAX || v < INT32_MIN) {
        *msg = xasprintf("invalid --retries \"%s\": a number", f[4].value);
        r = -EINVAL;
      } else if (v < 0) {
        *msg = xasprintf("--retries cannot be negative (%ld)", v);
        r = -EINVAL;
      }
      h.retries = (int)v;
    }
    bflags_clear(f, 5);
    if (r < 0)
      return r;
    _cleanup_strv_ char **cmd = NULL;
    if (n->json) {
      if (args_vector(n, 1, &cmd, msg) < 0)
        return -EINVAL;
    } else {
      cmd = xcalloc(1, sizeof(char *));
      struct sbuf j = SBUF_INIT;
      for (size_t i = 1; i < n->n_args; i++)
        sbuf_printf(&j, "%s%s", i > 1 ? " " : "", n->args[i].s);
      strv_push(&cmd, sbuf_steal(&j));
    }
    if (strv_len(cmd) == 0) {
      *msg = xasprintf("Missing command after HEALTHCHECK CMD");
      return -EINVAL;
    }
    h.test = xcalloc(1, sizeof(char *));
    strv_push(&h.test, xstrdup(n->json ? "CMD" : "CMD-SHELL"));
    for (size_t i = 0; cmd[i]; i++)
      strv_push(&h.test, xstrdup(cmd[i]));
  }
  health_clear(&c->cfg.health);
  c->cfg.health = h;
  struct sbuf hs = SBUF_INIT;
  sbuf_puts(&hs, "HEALTHCHECK ");
  quote_list(&hs, h.test);
  if (h.interval_ns || h.timeout_ns || h.start_period_ns || h.start_interval_ns || h.retries)
    sbuf_printf(&hs, " interval=%lldns timeout=%lldns start-period=%lldns start-interval=%lldns retries=%d",
                (long long)h.interval_ns, (long long)h.timeout_ns, (long long)h.start_period_ns,
                (long long)h.start_interval_ns, h.retries);
  history(c, sbuf_steal(&hs), false);
  new_step(c, n, BUILD_STEP_CONFIG);
  return 0;
}

static int do_node(struct ctx *c, const struct df_node *n, char **msg) {
  _cleanup_free_ char *v = NULL;
  switch (n->cmd) {
  case DF_ENV:
  case DF_LABEL:
    return do_kv(c, n, msg);
  case DF_ARG:
    return do_arg(c, n, msg);
  case DF_RUN:
    return do_run(c, n, msg);
  case DF_ADD:
  case DF_COPY:
    return do_copy(c, n, msg);
  case DF_HEALTHCHECK:
    return do_healthcheck(c, n, msg);
  case DF_WORKDIR: {
    if (expand(c, n->args[0].s, &v, msg) < 0)
      return -EINVAL;
    if (v[0] == '\0') {
      *msg = xasprintf("WORKDIR cannot be empty");
      return -EINVAL;
    }
    char *wd = path_join_abs(workdir(c), v);
    free(c->cfg.working_dir);
    c->cfg.working_dir = wd;
    struct build_step *s = new_step(c, n, BUILD_STEP_WORKDIR);
    s->workdir = xstrdup(wd);
    s->user = xstrdup_or_null(c->cfg.user);
    s->created_by = xasprintf("WORKDIR %s # buildkit", wd);
    history(c, xstrdup(s->created_by), true);
    return 0;
  }
  case DF_USER:
    if (expand(c, n->args[0].s, &v, msg) < 0)
      return -EINVAL;
    free(c->cfg.user);
    c->cfg.user = xstrdup(v);
    history(c, xasprintf("USER %s", v), false);
    new_step(c, n, BUILD_STEP_CONFIG);
    return 0;
  case DF_STOPSIGNAL:
    if (expand(c, n->args[0].s, &v, msg) < 0)
      return -EINVAL;
    if (!build_signal_valid(v)) {
      *msg = xasprintf("invalid signal: %s (a name like SIGTERM, or a number)", v);
      return -EINVAL;
    }
    free(c->cfg.stop_signal);
    c->cfg.stop_signal = xstrdup(v);
    history(c, xasprintf("STOPSIGNAL %s", v), false);
    new_step(c, n, BUILD_STEP_CONFIG);
    return 0;
  case DF_MAINTAINER:
    free(c->cfg.author);
    c->cfg.author = xstrdup(n->args[0].s);
    history(c, xasprintf("MAINTAINER %s", n->args[0].s), false);
    new_step(c, n, BUILD_STEP_CONFIG);
    return 0;
  case DF_EXPOSE: {
    struct sbuf hs = SBUF_INIT;
    sbuf_puts(&hs, "EXPOSE");
    struct shell_words_opts o = {.escape = c->plan->df->escape};
    for (size_t i = 0; i < n->n_args; i++) {
      _cleanup_strv_ char **words = NULL;
      _cleanup_error_ struct stack_error *e = NULL;
      if (shell_expand_words(n->args[i].s, c->env, &o, &words, &e) < 0) {
        *msg = xstrdup(e->msg);
        sbuf_free(&hs);
        return -EINVAL;
      }
      for (size_t w = 0; words[w]; w++) {
        _cleanup_strv_ char **ports = NULL;
        if (build_parse_ports(words[w], &ports, msg) < 0) {
          sbuf_free(&hs);
          return -EINVAL;
        }
        for (size_t k = 0; ports && ports[k]; k++) {
          sorted_insert(&c->cfg.exposed_ports, ports[k]);
          sbuf_printf(&hs, " %s", ports[k]);
        }
      }
    }
    history(c, sbuf_steal(&hs), false);
    new_step(c, n, BUILD_STEP_CONFIG);
    return 0;
  }
  case DF_VOLUME: {
    _cleanup_strv_ char **vols = xcalloc(1, sizeof(char *));
    for (size_t i = 0; i < n->n_args; i++) {
      size_t st, len;
      text_trim(n->args[i].s, n->args[i].len, &st, &len);
      if (len == 0) {
        *msg = xasprintf("VOLUME specified can not be an empty string");
        return -EINVAL;
      }
      _cleanup_free_ char *raw = xstrndup(n->args[i].s + st, len);
      char *e;
      if (expand(c, raw, &e, msg) < 0)
        return -EINVAL;
      if (e[0] == '\0') {
        free(e);
        *msg = xasprintf("VOLUME specified can not be an empty string");
        return -EINVAL;
      }
      strv_push(&vols, e);
    }
    for (size_t i = 0; vols[i]; i++)
      sorted_insert(&c->cfg.volumes, vols[i]);
    struct sbuf hs = SBUF_INIT;
    sbuf_puts(&hs, "VOLUME ");
    plain_list(&hs, vols);
    history(c, sbuf_steal(&hs), false);
    new_step(c, n, BUILD_STEP_CONFIG);
    return 0;
  }
  case DF_CMD:
  case DF_ENTRYPOINT: {
    char **args;
    bool prepend;
    if (n->cmd == DF_ENTRYPOINT && n->json && n->n_args == 0) {
      args = NULL;
    } else if (command_line(c, n, 0, &prepend, &args, msg) < 0) {
      return -EINVAL;
    }
    struct sbuf hs = SBUF_INIT;
    sbuf_printf(&hs, "%s ", df_cmd_name(n->cmd));
    quote_list(&hs, args);
    history(c, sbuf_steal(&hs), false);
    if (n->cmd == DF_CMD) {
      strv_free(c->cfg.cmd);
      c->cfg.cmd = args;
      c->cmd_set = true;
    } else {
      strv_free(c->cfg.entrypoint);
      c->cfg.entrypoint = args;
      if (!c->cmd_set) {
        strv_free(c->cfg.cmd);
        c->cfg.cmd = NULL;
      }
    }
    new_step(c, n, BUILD_STEP_CONFIG);
    return 0;
  }
  case DF_SHELL: {
    char **args;
    if (args_vector(n, 0, &args, msg) < 0)
      return -EINVAL;
    strv_free(c->cfg.shell);
    c->cfg.shell = args;
    struct sbuf hs = SBUF_INIT;
    sbuf_puts(&hs, "SHELL ");
    plain_list(&hs, args);
    history(c, sbuf_steal(&hs), false);
    new_step(c, n, BUILD_STEP_CONFIG);
    return 0;
  }
  case DF_ONBUILD: {
    /* the trigger as written: the line without ONBUILD, and its heredocs */
    const char *o = n->original;
    o += text_space_len(o, strlen(o));
    if (strncasecmp(o, "onbuild", 7) == 0)
      o += 7;
    o += text_space_len(o, strlen(o));
    struct sbuf t = SBUF_INIT;
    sbuf_puts(&t, o);
    for (size_t i = 0; i < n->n_heredocs; i++)
      sbuf_printf(&t, "\n%s%s", n->heredocs[i].content, n->heredocs[i].name);
    strv_push(&c->cfg.onbuild, sbuf_steal(&t));
    new_step(c, n, BUILD_STEP_CONFIG);
    return 0;
  }
  case DF_FROM:
    break;
  }
  *msg = xasprintf("not allowed here");
  return -EINVAL;
}

int build_stage_resolve(const struct build_plan *plan, size_t index, const struct build_config *base,
                        struct build_stage_result **out, struct stack_error **err) {
  if (index >= plan->n_stages)
    return stack_error_set(err, -EINVAL, "%s: no stage %zu", plan->df->path, index);
  struct ctx c = {.plan = plan, .stage = &plan->stages[index], .path = plan->df->path};
  if (base)
    build_config_copy(&c.cfg, base);
  c.env = strv_copy(c.cfg.env);
  if (c.env == NULL)
    c.env = xcalloc(1, sizeof(char *));
  int r = 0;
  /* the base's triggers run first and are not inherited */
  char **triggers = steal_pointer(&c.cfg.onbuild);
  if (triggers && triggers[0]) {
    struct dockerfile *tdf = NULL;
    r = build_parse_onbuild(triggers, &tdf, err);
    if (r < 0) {
      stack_error_prefix(err, "%s:%d: FROM", c.path, c.stage->line);
    } else {
      c.onbuild = true;
      for (size_t i = 0; i < tdf->n_nodes && r == 0; i++) {
        _cleanup_free_ char *msg = NULL;
        if (do_node(&c, &tdf->nodes[i], &msg) < 0)
          r = node_fail(&c, &tdf->nodes[i], err, msg);
        if (c.n_steps > 0)
          c.steps[c.n_steps - 1].node = NULL; /* the trigger's tree goes away */
      }
      c.onbuild = false;
      dockerfile_free(tdf);
    }
  }
  strv_free(triggers);
  for (size_t i = 0; i < c.stage->n_nodes && r == 0; i++) {
    const struct df_node *n = c.stage->nodes[i];
    _cleanup_free_ char *msg = NULL;
    if (do_node(&c, n, &msg) < 0)
      r = node_fail(&c, n, err, msg);
  }
  strv_free(c.env);
  strv_free(c.stage_args);
  struct build_stage_result *res = xcalloc(1, sizeof(*res));
  res->steps = c.steps;
  res->n_steps = c.n_steps;
  res->config = c.cfg;
  if (r < 0) {
    build_stage_result_free(res);
    return r;
  }
  *out = res;
  return 0;
}
