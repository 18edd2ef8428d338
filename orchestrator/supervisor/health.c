#include "health.h"

#include <errno.h>
#include <string.h>

#include "runtime/util/cleanup.h"
#include "runtime/util/error.h"
#include "runtime/util/xalloc.h"

static char **strv_dup(char *const *v) {
  size_t n = 0;
  while (v[n])
    n++;
  char **out = xcalloc(n + 1, sizeof(char *));
  for (size_t i = 0; i < n; i++)
    out[i] = xstrdup(v[i]);
  return out;
}

/* Docker treats 0 as "not set" for every duration and for retries. */
static int64_t pick(int64_t svc, int64_t img, int64_t dflt) {
  if (svc > 0)
    return svc;
  if (img > 0)
    return img;
  return dflt;
}

static int test_to_argv(char *const *test, const char *where, char ***argv,
                        struct stack_error **err) {
  *argv = NULL;
  if (test[0] == NULL || strcmp(test[0], "NONE") == 0)
    return 0;
  if (strcmp(test[0], "CMD") == 0) {
    if (test[1] == NULL)
      return stack_error_set(err, -EINVAL,
                             "%s: healthcheck test [\"CMD\"] names no command: add the "
                             "command and its arguments after \"CMD\"",
                             where);
    *argv = strv_dup(test + 1);
    return 0;
  }
  if (strcmp(test[0], "CMD-SHELL") == 0) {
    if (test[1] == NULL || test[2] != NULL)
      return stack_error_set(err, -EINVAL,
                             "%s: healthcheck test [\"CMD-SHELL\", ...] takes exactly one "
                             "command string",
                             where);
    char *sh[] = {"/bin/sh", "-c", test[1], NULL};
    *argv = strv_dup(sh);
    return 0;
  }
  return stack_error_set(err, -EINVAL,
                         "%s: healthcheck test must start with \"CMD\", \"CMD-SHELL\" or "
                         "\"NONE\", not \"%s\" (or be a string, which runs in a shell)",
                         where, test[0]);
}

int health_config_resolve(const struct health_spec *service, const struct health_spec *image,
                          const char *where, struct health_config *out, struct stack_error **err) {
  static const struct health_spec unset = {NULL, false, -1, -1, -1, -1, -1};
  const struct health_spec *s = service ? service : &unset;
  const struct health_spec *i = image ? image : &unset;
  *out = (struct health_config){0};
  if (s->disable)
    return 0;
  char *const *test = s->test && s->test[0] ? s->test : i->test;
  if (test == NULL || (i->disable && test == i->test))
    return 0;
  int r = test_to_argv(test, where, &out->argv, err);
  if (r < 0 || out->argv == NULL)
    return r;
  out->interval_ms = pick(s->interval_ms, i->interval_ms, HEALTH_DEFAULT_INTERVAL_MS);
  out->timeout_ms = pick(s->timeout_ms, i->timeout_ms, HEALTH_DEFAULT_TIMEOUT_MS);
  out->start_period_ms = pick(s->start_period_ms, i->start_period_ms, 0);
  out->start_interval_ms =
      pick(s->start_interval_ms, i->start_interval_ms, HEALTH_DEFAULT_START_INTERVAL_MS);
  out->retries = (unsigned)pick(s->retries, i->retries, HEALTH_DEFAULT_RETRIES);
  return 0;
}

void health_config_clear(struct health_config *c) {
  strv_free(c->argv);
  *c = (struct health_config){0};
}

void health_config_copy(struct health_config *to, const struct health_config *from) {
  health_config_clear(to);
  *to = *from;
  to->argv = NULL;
  size_t n = 0;
  while (from->argv && from->argv[n])
    n++;
  if (from->argv == NULL)
    return;
  to->argv = xcalloc(n + 1, sizeof(char *));
  for (size_t i = 0; i < n; i++)
    to->argv[i] = xstrdup(from->argv[i]);
}

void health_start(struct health_state *s, const struct health_config *c, int64_t now_ms) {
  s->status = c->argv ? HEALTH_STARTING : HEALTH_NONE;
  s->failing_streak = 0;
  s->started_ms = now_ms;
}

int64_t health_next_delay(const struct health_config *c, const struct health_state *s,
                          int64_t now_ms) {
  if (now_ms - s->started_ms >= c->start_period_ms)
    return c->interval_ms;
  return s->status == HEALTH_STARTING ? c->start_interval_ms : c->interval_ms;
}

bool health_record(struct health_state *s, const struct health_config *c, int64_t probe_start_ms,
                   int exit_code) {
  enum health_status old = s->status;
  if (s->status == HEALTH_NONE)
    return false;
  if (exit_code == 0) {
    s->failing_streak = 0;
    s->status = HEALTH_HEALTHY;
  } else {
    /* Failures of a container that never passed do not count during the
     * start period: slow starters are not marked unhealthy. */
    bool counts = !(s->status == HEALTH_STARTING &&
                    probe_start_ms - s->started_ms < c->start_period_ms);
    if (counts && ++s->failing_streak >= c->retries)
      s->status = HEALTH_UNHEALTHY;
  }
  return s->status != old;
}

static const char *const names[] = {"", "starting", "healthy", "unhealthy"};

const char *health_status_name(enum health_status s) {
  return (unsigned)s < sizeof(names) / sizeof(names[0]) ? names[s] : "";
}

int health_status_parse(const char *name) {
  for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++)
    if (strcmp(names[i], name) == 0)
      return (int)i;
  if (strcmp(name, "none") == 0)
    return HEALTH_NONE;
  return -1;
}
