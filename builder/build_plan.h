/* The build plan: a parsed Dockerfile -> stages an executor walks.
 *
 * Two steps, because a stage's words can only be expanded once its base
 * image's config is known (`FROM golang` then `WORKDIR $GOPATH/src`):
 *
 *  1. build_plan_create(): the stages.  Global ARGs (before the first FROM)
 *     with --build-arg values and the automatic platform ARGs; each FROM's
 *     base (an image reference, an earlier stage, or scratch) and
 *     --platform, expanded in the global scope; the target stage and the
 *     stages it needs; every instruction checked (flags, arguments) so that
 *     a mistake anywhere fails before anything runs.
 *  2. build_stage_resolve(): one stage, given the config of its base (an
 *     image's, or the result of the earlier stage): the base's ONBUILD
 *     triggers first, then the stage's instructions, each expanded with the
 *     ARG/ENV in scope as the reference frontend does, giving the steps to
 *     run (RUN, COPY, ADD, WORKDIR) and the image config the stage ends
 *     with (Env, Cmd, Entrypoint, WorkingDir, User, ExposedPorts, Volumes,
 *     Labels, Healthcheck, StopSignal, Shell, OnBuild, history).
 *
 * Pure logic: nothing here touches a file, an image or a VM. */
#ifndef STACK_BUILDER_BUILD_PLAN_H
#define STACK_BUILDER_BUILD_PLAN_H
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "builder/dockerfile.h"
#include "runtime/util/error.h"

struct build_plan_opts {
  char *const *build_args;     /* "KEY=VALUE" (--build-arg, Compose build.args); may be NULL */
  const char *target;          /* stage name (build.target); NULL = the last stage */
  const char *target_platform; /* "linux/amd64"; NULL = build_platform */
  const char *build_platform;  /* "linux/amd64"; NULL = "linux/amd64" */
};

enum build_base {
  BUILD_BASE_IMAGE,   /* base_ref names an image */
  BUILD_BASE_STAGE,   /* base_stage is an earlier stage */
  BUILD_BASE_SCRATCH, /* FROM scratch: nothing */
};

struct build_stage {
  size_t index;
  char *name;                   /* the `AS` name, lower case, or NULL */
  enum build_base base;
  char *base_ref;               /* BUILD_BASE_IMAGE: the expanded reference */
  size_t base_stage;            /* BUILD_BASE_STAGE */
  char *platform;               /* the expanded --platform, or NULL */
  int line;                     /* of its FROM */
  const struct df_node **nodes; /* its instructions after FROM (borrowed from the plan's Dockerfile) */
  size_t n_nodes;
  size_t *deps;                 /* stages it needs: base, COPY --from, RUN --mount from= */
  size_t n_deps;
  bool needed;                  /* the target stage is, or depends on, this one */
};

struct build_plan {
  struct dockerfile *df;       /* owned */
  char **build_args;           /* a copy of opts->build_args (NULL-terminated) */
  char **global_args;          /* the global scope: "KEY=VALUE" of global ARGs with a value and the platform ARGs */
  char **global_declared;      /* names of every global ARG (with a value or not) */
  char *target_platform, *build_platform;
  struct build_stage *stages;
  size_t n_stages;
  size_t target;
};

/* Plans the build of df, which the plan then owns (also on failure). */
int build_plan_create(struct dockerfile *df, const struct build_plan_opts *opts,
                      struct build_plan **out, struct stack_error **err);
void build_plan_free(struct build_plan *plan);

/* ---- a stage, resolved ------------------------------------------------ */

struct build_health {
  char **test;   /* {"NONE"} | {"CMD", args...} | {"CMD-SHELL", cmd}; NULL = none set */
  int64_t interval_ns, timeout_ns, start_period_ns, start_interval_ns;
  int retries;
};

struct build_history {
  char *created_by;
  bool empty_layer;
};

/* The image config a stage has (the base's going in, the result coming out). */
struct build_config {
  char **env;            /* "K=V", NULL-terminated (may be NULL) */
  char **cmd;            /* NULL = none */
  char **entrypoint;     /* NULL = none */
  char *working_dir;     /* NULL = "/" */
  char *user;            /* NULL = root */
  char **exposed_ports;  /* "80/tcp", sorted, unique */
  char **volumes;        /* sorted, unique */
  char **labels;         /* "K=V", in order of first setting, unique keys */
  struct build_health health;
  char *stop_signal;
  char **shell;          /* NULL = {"/bin/sh", "-c"} */
  char **onbuild;        /* triggers for images built FROM this one */
  char *author;          /* MAINTAINER */
  struct build_history *history;
  size_t n_history;
};

void build_config_clear(struct build_config *c);
/* A deep copy. */
void build_config_copy(struct build_config *dst, const struct build_config *src);

enum build_mount_type { BUILD_MOUNT_BIND, BUILD_MOUNT_CACHE, BUILD_MOUNT_TMPFS, BUILD_MOUNT_SECRET, BUILD_MOUNT_SSH };
enum build_mount_sharing { BUILD_SHARING_SHARED, BUILD_SHARING_PRIVATE, BUILD_SHARING_LOCKED };

/* RUN --mount=... */
struct build_mount {
  enum build_mount_type type;
  char *target;         /* absolute (relative ones are taken from the workdir) */
  char *source;         /* in `from` (or the context); NULL = its root */
  char *from;           /* a stage name/index or an image; NULL = the build context */
  long from_stage;      /* index when from names a stage, else -1 */
  bool readonly;        /* bind: default true; cache: default false */
  char *id;             /* cache/secret/ssh; cache defaults to target, secret to basename(target) */
  enum build_mount_sharing sharing;
  uint32_t mode;        /* cache/secret: 0755 / 0400 unless set */
  bool mode_set;
  long uid, gid;        /* -1 unless set */
  bool required;        /* secret/ssh */
  char *env;            /* secret: the variable to set instead of a file */
  int64_t size;         /* tmpfs: bytes, 0 = unlimited */
};

/* A here-document of RUN (a file handed to the step) or of COPY/ADD (a
 * source file with that content). */
struct build_inline_file {
  char *name;
  char *data;     /* chomped (<<-) and, for COPY/ADD with an unquoted delimiter, expanded */
  unsigned fd;
};

enum build_step_kind {
  BUILD_STEP_RUN,
  BUILD_STEP_COPY,
  BUILD_STEP_ADD,
  BUILD_STEP_WORKDIR, /* make the directory (mkdir -p, owned by the user) */
  BUILD_STEP_CONFIG,  /* config only: ENV, LABEL, USER, CMD, ... (no layer) */
};

struct build_step {
  enum build_step_kind kind;
  const struct df_node *node; /* the instruction (borrowed; the trigger's for ONBUILD) */
  int line;
  bool onbuild;               /* a trigger of the base image */
  char *created_by;           /* the history entry */

  /* RUN */
  char **argv;                /* what to exec: shell form already wrapped in the shell */
  char **env;                 /* its environment: image Env, ARGs in scope, proxy build args */
  char *user;                 /* NULL = root */
  char *workdir;              /* absolute */
  struct build_mount *mounts;
  size_t n_mounts;
  char *network;              /* "default", "none" or "host" */
  char *security;             /* "sandbox" or "insecure" */
  struct build_inline_file *files; /* RUN heredocs; argv names them under /dev/pipes/ when it runs one */
  size_t n_files;

  /* COPY / ADD */
  char **sources;             /* expanded source paths (or URLs for ADD), NULL-terminated */
  struct build_inline_file *contents; /* heredoc sources */
  size_t n_contents;
  char *dest;                 /* expanded, absolute (a trailing '/' kept) */
  char *from;                 /* COPY --from as written, or NULL (the build context) */
  long from_stage;            /* index when from is a stage, else -1 */
  char *chown, *chmod, *checksum; /* expanded, or NULL */
  bool link, keep_git_dir, parents;
  int unpack;                 /* ADD --unpack: -1 unset, 0, 1 */
  char **excludes;            /* --exclude patterns, or NULL */
};

struct build_stage_result {
  struct build_step *steps;
  size_t n_steps;
  struct build_config config; /* what the stage ends with */
};

/* Resolves stage `index` of plan.  base is the config of its base image or
 * of the stage it is FROM (NULL for scratch); the base's ONBUILD triggers
 * run first and are not inherited.  Errors name the Dockerfile, line and
 * instruction. */
int build_stage_resolve(const struct build_plan *plan, size_t index, const struct build_config *base,
                        struct build_stage_result **out, struct stack_error **err);
void build_stage_result_free(struct build_stage_result *r);
static inline void build_stage_result_freep(struct build_stage_result **r) { build_stage_result_free(*r); }
static inline void build_plan_freep(struct build_plan **p) { build_plan_free(*p); }

/* Parses ONBUILD triggers (an image's config OnBuild list) into
 * instructions, as build_stage_resolve() runs them.  Each must be one
 * instruction other than ONBUILD, FROM and MAINTAINER. */
int build_parse_onbuild(char *const *triggers, struct dockerfile **out, struct stack_error **err);

/* Go's time.ParseDuration ("1m30s", "250ms"), as HEALTHCHECK's flags take it. */
int build_parse_duration(const char *s, int64_t *ns, struct stack_error **err);

#endif
