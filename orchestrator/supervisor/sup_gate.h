/* A container's dependency gate: whether service svc's depends_on lets a
 * container start now, judged (dep_gate.h) from the container table. */
#ifndef STACK_SUPERVISOR_SUP_GATE_H
#define STACK_SUPERVISOR_SUP_GATE_H

#include "dep_gate.h"
#include "sup_loop.h"

struct compose_service;

/* Judges service svc's depends_on for a container called name: go, wait
 * or fail (*error says why); *warnings (strv) names optional dependencies
 * that failed.  One-off containers never count as their service.  With
 * only (not NULL), dependencies on services not listed there do not count
 * (`up --no-deps`: Compose drops them from the project). */
enum dep_verdict sup_service_gate(struct supervisor *s, const struct compose_service *svc,
                                  const char *name, char *const *only, char **error,
                                  char ***warnings);

#endif
