/* Restart policies as Docker applies them: which exits restart a container
 * and after which delay.  Pure logic: the caller passes the clock in. */
#ifndef STACK_SUPERVISOR_RESTART_POLICY_H
#define STACK_SUPERVISOR_RESTART_POLICY_H

#include <stdbool.h>
#include <stdint.h>

struct stack_error;

enum restart_mode {
  RESTART_NO,
  RESTART_ALWAYS,
  RESTART_ON_FAILURE,
  RESTART_UNLESS_STOPPED,
};

struct restart_policy {
  enum restart_mode mode;
  unsigned max_attempts; /* on-failure:N / deploy max_attempts; 0 = unlimited */
  int64_t delay_ms;      /* deploy delay: a fixed wait instead of the back-off; -1 unset */
  int64_t window_ms;     /* deploy window: a run this long resets the attempts; -1 unset */
};

/* Docker's back-off: 100 ms, doubling, capped at one minute, back to the
 * start after a run of at least 10 s. */
#define RESTART_BACKOFF_INITIAL_MS 100
#define RESTART_BACKOFF_MAX_MS 60000
#define RESTART_BACKOFF_RESET_MS 10000

/* What the supervisor remembers between runs of one container. */
struct restart_state {
  unsigned restart_count; /* restarts made by the policy since the user's last start */
  int64_t backoff_ms;     /* the previous back-off; 0 = none yet */
};

/* How a run ended. */
struct restart_exit {
  int exit_code;     /* the process's exit status */
  bool crashed;      /* the VM died without reporting a status: a failure */
  bool user_stopped; /* stop/down/kill by the user: never undone */
};

/* Parses the service's `restart:` value ("no", "always", "on-failure",
 * "on-failure:N", "unless-stopped"); NULL means "no".  `where` names the
 * service for the message. */
int restart_policy_parse(const char *restart, const char *where, struct restart_policy *out,
                         struct stack_error **err);

/* Applies `deploy.restart_policy` over `out` as Compose does (it wins over
 * `restart:`): condition none|on-failure|any (NULL keeps out's mode),
 * delay/window in ms (-1 unset), max_attempts (-1 unset). */
int restart_policy_apply_deploy(struct restart_policy *out, const char *condition, int64_t delay_ms,
                                int64_t window_ms, int max_attempts, const char *where,
                                struct stack_error **err);

/* Decides whether a run that lasted ran_ms and ended as `e` is restarted;
 * if so, updates *s and stores the wait before the restart in *delay_ms. */
bool restart_decide(const struct restart_policy *p, struct restart_state *s,
                    const struct restart_exit *e, int64_t ran_ms, int64_t *delay_ms);

/* Whether a container the supervisor finds stopped when it (re)starts -- the
 * host rebooted, the supervisor was killed with its VMs -- is started again:
 * always unless it was stopped by the user. */
bool restart_on_adopt(const struct restart_policy *p, bool user_stopped);

/* The policy's name as `docker inspect` shows it ("no", "always", ...). */
const char *restart_mode_name(enum restart_mode m);

#endif
