/* Dependency gating: whether a service may start now, given its depends_on
 * and the current state of its dependencies' containers, with Compose's
 * messages.  Pure logic, re-evaluated by the supervisor on every state
 * change of a dependency (no polling). */
#ifndef STACK_SUPERVISOR_DEP_GATE_H
#define STACK_SUPERVISOR_DEP_GATE_H

#include <stdbool.h>
#include <stddef.h>

#include "ctr_status.h"
#include "health.h"

enum dep_condition {
  DEP_STARTED,
  DEP_HEALTHY,
  DEP_COMPLETED_OK,
  DEP_RUNNING_OR_HEALTHY, /* `up --wait`: healthy, or running without a check */
};

/* What the gate needs to know of one container of a dependency. */
struct dep_container {
  const char *name;
  enum ctr_status status;
  int exit_code;      /* when exited or dead */
  bool start_failed;  /* its VM or process could not be started */
  bool has_healthcheck;
  enum health_status health;
  /* its process started less than DEP_FIRST_LOOK_MS ago */
  bool just_started;
};

/* Compose first looks at a dependency's state half a second after it
 * started (its poll interval): a container without a health check that
 * exits by then is reported as exited, not as lacking a check.  A guest
 * under TCG on a loaded host may need several times that for what a
 * container does in 500 ms (a shell that exits at once: the exit seen
 * over 500 ms after the start), so stack looks later; only the failure is
 * reported later by it. */
#define DEP_FIRST_LOOK_MS 2000

struct dep_input {
  const char *service;
  enum dep_condition condition;
  bool required;
  bool skip; /* not part of this run (--no-deps, disabled by a profile) */
  unsigned scale; /* how many containers the dependency should have */
  const struct dep_container *containers;
  size_t n_containers;
};

enum dep_verdict {
  DEP_WAIT, /* ask again when a dependency changes */
  DEP_GO,
  DEP_FAIL,
};

/* Judges one dependency of `dependant`.  On DEP_FAIL *msg is the error (as
 * Compose words it); on DEP_GO *msg may be a warning about an optional
 * dependency; else NULL.  Caller frees *msg. */
enum dep_verdict dep_check(const char *dependant, const struct dep_input *d, char **msg);

/* Judges all dependencies: DEP_FAIL with the first failure's message in
 * *error, else DEP_WAIT while any waits, else DEP_GO.  Warnings about
 * optional dependencies are appended to *warnings, only when the verdict is
 * DEP_GO so that each is reported once (a NULL-terminated list,
 * may start NULL; caller frees with strv_free()). */
enum dep_verdict dep_gate(const char *dependant, const struct dep_input *deps, size_t n,
                          char **error, char ***warnings);

#endif
