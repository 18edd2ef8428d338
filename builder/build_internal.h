/* Shared between build_plan.c, build_stage.c and build_flags.c; not API. */
#ifndef STACK_BUILDER_BUILD_INTERNAL_H
#define STACK_BUILDER_BUILD_INTERNAL_H
#include <stdbool.h>
#include <stddef.h>

#include "builder/build_plan.h"
#include "builder/dockerfile.h"

enum bflag_type { BF_BOOL, BF_STRING, BF_STRINGS };

/* One --flag an instruction takes (the reference's BFlags). */
struct bflag {
  const char *name;
  enum bflag_type type;
  bool used;
  char *value;   /* BF_BOOL: "true"/"false"; BF_STRING: the value */
  char **values; /* BF_STRINGS, NULL-terminated */
  size_t n_values;
};

/* Parses n's flags against defs; *msg (caller frees) says what is wrong. */
int bflags_parse(const struct df_node *n, struct bflag *defs, size_t ndefs, char **msg);
void bflags_clear(struct bflag *defs, size_t ndefs);
struct bflag *bflag_get(struct bflag *defs, size_t ndefs, const char *name);

/* Checks an instruction without expanding anything: its flags and the
 * number of its arguments.  *msg says what is wrong. */
int build_check_node(const struct df_node *n, char **msg);

/* "KEY=VALUE" list helpers (NULL-terminated, owned strings). */
void env_set(char ***env, const char *key, const char *value);
const char *env_get(char *const *env, const char *key);
char **strv_copy(char *const *v);
size_t strv_len(char *const *v);
void strv_push(char ***v, char *s);

/* RUN --mount=<csv> (expand: ARG/ENV expansion of each value, may fail). */
struct mount_expand {
  int (*fn)(void *ctx, const char *in, char **out, char **msg);
  void *ctx;
};
int build_parse_mount(const char *spec, const struct mount_expand *ex, const char *workdir,
                      struct build_mount *m, char **msg);
void build_mount_clear(struct build_mount *m);
/* The from= of a mount spec, unexpanded (*from NULL if none): which stage
 * a RUN needs is known before anything is expanded. */
int build_mount_from(const char *spec, char **from, char **msg);

/* EXPOSE: "80", "80/udp", "8000-8010/tcp", "127.0.0.1:80:80" -> "80/tcp"... */
int build_parse_ports(const char *spec, char ***ports, char **msg);
/* STOPSIGNAL: a name (SIGTERM, TERM) or a number. */
bool build_signal_valid(const char *s);

/* Go's path.Clean, and the join of a relative path onto a directory. */
char *path_clean(const char *p);
char *path_join_abs(const char *dir, const char *p);

#endif
