#include "restart_policy.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "runtime/util/error.h"

const char *restart_mode_name(enum restart_mode m) {
  switch (m) {
  case RESTART_ALWAYS:
    return "always";
  case RESTART_ON_FAILURE:
    return "on-failure";
  case RESTART_UNLESS_STOPPED:
    return "unless-stopped";
  case RESTART_NO:
  default:
    return "no";
  }
}

static int parse_count(const char *s, unsigned *out) {
  if (*s == '\0')
    return -EINVAL;
  for (const char *p = s; *p; p++)
    if (*p < '0' || *p > '9')
      return -EINVAL;
  errno = 0;
  unsigned long v = strtoul(s, NULL, 10);
  if (errno || v > 1000000000UL)
    return -EINVAL;
  *out = (unsigned)v;
  return 0;
}

int restart_policy_parse(const char *restart, const char *where, struct restart_policy *out,
                         struct stack_error **err) {
  *out = (struct restart_policy){RESTART_NO, 0, -1, -1};
  if (restart == NULL || strcmp(restart, "no") == 0 || *restart == '\0')
    return 0;
  if (strcmp(restart, "always") == 0) {
    out->mode = RESTART_ALWAYS;
    return 0;
  }
  if (strcmp(restart, "unless-stopped") == 0) {
    out->mode = RESTART_UNLESS_STOPPED;
    return 0;
  }
  if (strncmp(restart, "on-failure", 10) == 0) {
    if (restart[10] == '\0') {
      out->mode = RESTART_ON_FAILURE;
      return 0;
    }
    if (restart[10] == ':' && parse_count(restart + 11, &out->max_attempts) == 0) {
      out->mode = RESTART_ON_FAILURE;
      return 0;
    }
  }
  return stack_error_set(err, -EINVAL,
                         "%s: invalid restart policy \"%s\": use no, always, on-failure, "
                         "on-failure:N or unless-stopped",
                         where, restart);
}

int restart_policy_apply_deploy(struct restart_policy *out, const char *condition, int64_t delay_ms,
                                int64_t window_ms, int max_attempts, const char *where,
                                struct stack_error **err) {
  if (condition != NULL) {
    /* Compose maps these onto the engine's policies and accepts the engine
     * names too. */
    if (strcmp(condition, "none") == 0 || strcmp(condition, "no") == 0)
      out->mode = RESTART_NO;
    else if (strcmp(condition, "on-failure") == 0)
      out->mode = RESTART_ON_FAILURE;
    else if (strcmp(condition, "any") == 0 || strcmp(condition, "always") == 0)
      out->mode = RESTART_ALWAYS;
    else if (strcmp(condition, "unless-stopped") == 0)
      out->mode = RESTART_UNLESS_STOPPED;
    else
      return stack_error_set(err, -EINVAL,
                             "%s: invalid deploy.restart_policy.condition \"%s\": use none, "
                             "on-failure or any",
                             where, condition);
  }
  if (max_attempts < -1 || delay_ms < -1 || window_ms < -1)
    return stack_error_set(err, -EINVAL, "%s: deploy.restart_policy values must not be negative",
                           where);
  if (max_attempts >= 0)
    out->max_attempts = (unsigned)max_attempts;
  if (delay_ms >= 0)
    out->delay_ms = delay_ms;
  if (window_ms >= 0)
    out->window_ms = window_ms;
  return 0;
}

bool restart_decide(const struct restart_policy *p, struct restart_state *s,
                    const struct restart_exit *e, int64_t ran_ms, int64_t *delay_ms) {
  if (p->mode == RESTART_NO || e->user_stopped)
    return false;

  /* Docker resets the back-off after a long enough run, whatever the policy;
   * a deploy window also resets the attempts: the restart "succeeded". */
  if (ran_ms >= RESTART_BACKOFF_RESET_MS)
    s->backoff_ms = 0;
  if (p->window_ms > 0 && ran_ms >= p->window_ms)
    s->restart_count = 0;

  bool failed = e->crashed || e->exit_code != 0;
  bool restart;
  switch (p->mode) {
  case RESTART_ALWAYS:
  case RESTART_UNLESS_STOPPED:
    restart = true;
    break;
  case RESTART_ON_FAILURE:
    restart = failed;
    break;
  default:
    restart = false;
  }
  /* max_attempts bounds every mode that has it (deploy's `any` with
   * max_attempts too, as swarm does); on-failure:N always had it. */
  if (restart && p->max_attempts > 0 && s->restart_count >= p->max_attempts)
    restart = false;
  if (!restart)
    return false;

  if (s->backoff_ms == 0)
    s->backoff_ms = RESTART_BACKOFF_INITIAL_MS;
  else if (s->backoff_ms < RESTART_BACKOFF_MAX_MS)
    s->backoff_ms *= 2;
  if (s->backoff_ms > RESTART_BACKOFF_MAX_MS)
    s->backoff_ms = RESTART_BACKOFF_MAX_MS;
  s->restart_count++;
  *delay_ms = p->delay_ms >= 0 ? p->delay_ms : s->backoff_ms;
  return true;
}

bool restart_on_adopt(const struct restart_policy *p, bool user_stopped) {
  if (user_stopped)
    return false;
  return p->mode == RESTART_ALWAYS || p->mode == RESTART_UNLESS_STOPPED;
}
