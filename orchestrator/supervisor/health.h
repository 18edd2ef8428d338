/* Health checks as Docker runs them: the effective check (service over
 * image HEALTHCHECK over defaults) and the starting/healthy/unhealthy state
 * machine.  Pure logic: the caller runs the probes (exec sessions in the
 * guest) and passes the clock in, in milliseconds. */
#ifndef STACK_SUPERVISOR_HEALTH_H
#define STACK_SUPERVISOR_HEALTH_H

#include <stdbool.h>
#include <stdint.h>

struct stack_error;

#define HEALTH_DEFAULT_INTERVAL_MS 30000
#define HEALTH_DEFAULT_TIMEOUT_MS 30000
#define HEALTH_DEFAULT_START_INTERVAL_MS 5000
#define HEALTH_DEFAULT_RETRIES 3
/* A probe that did not finish within the timeout reports this exit code. */
#define HEALTH_EXIT_TIMEOUT (-1)

/* One source of health-check settings, as written in a Compose file
 * (healthcheck:) or in an image config (Healthcheck): test is
 * ["CMD", args...], ["CMD-SHELL", "cmd"] or ["NONE"]; NULL = not set.
 * Durations in ms and retries: -1 (or 0, as Docker treats it) = not set. */
struct health_spec {
  char *const *test;
  bool disable;
  int64_t interval_ms, timeout_ms, start_period_ms, start_interval_ms;
  int retries;
};

/* The effective check; argv == NULL means the container has none. */
struct health_config {
  char **argv; /* what to exec in the container; owned */
  int64_t interval_ms, timeout_ms, start_period_ms, start_interval_ms;
  unsigned retries;
};

/* Merges the service's spec over the image's (either may be NULL) field by
 * field as Docker does and resolves the test into argv (CMD-SHELL runs
 * /bin/sh -c).  A malformed test is an error naming `where`. */
int health_config_resolve(const struct health_spec *service, const struct health_spec *image,
                          const char *where, struct health_config *out, struct stack_error **err);
void health_config_clear(struct health_config *c);
/* A deep copy of from into to (cleared first). */
void health_config_copy(struct health_config *to, const struct health_config *from);

enum health_status {
  HEALTH_NONE, /* no health check */
  HEALTH_STARTING,
  HEALTH_HEALTHY,
  HEALTH_UNHEALTHY,
};

struct health_state {
  enum health_status status;
  unsigned failing_streak;
  int64_t started_ms; /* when the container's process started */
};

/* Resets the state for a container whose process started at now_ms. */
void health_start(struct health_state *s, const struct health_config *c, int64_t now_ms);

/* The wait before the next probe, counted from now_ms (from the start, and
 * then from the end of each probe): start_interval while starting within the
 * start period, else interval. */
int64_t health_next_delay(const struct health_config *c, const struct health_state *s,
                          int64_t now_ms);

/* Records a probe that began at probe_start_ms and exited with exit_code
 * (0 healthy, anything else including HEALTH_EXIT_TIMEOUT a failure);
 * returns whether the status changed. */
bool health_record(struct health_state *s, const struct health_config *c, int64_t probe_start_ms,
                   int exit_code);

/* "starting", "healthy", "unhealthy" or "" (none), as `docker ps` shows. */
const char *health_status_name(enum health_status s);
/* The inverse of health_status_name(); -1 for an unknown name. */
int health_status_parse(const char *name);

#endif
