/* The service graph: services ordered by depends_on so that each starts after
 * what it depends on, grouped into levels that may start in parallel. */
#ifndef STACK_COMPOSE_GRAPH_H
#define STACK_COMPOSE_GRAPH_H

#include <stdbool.h>
#include <stddef.h>

struct stack_error;
struct compose_project;

/* Indices are those of compose_project.services. */
struct compose_graph {
  size_t n;
  size_t **deps;   /* deps[i][0..n_deps[i]): the services i depends on */
  size_t *n_deps;
  size_t *order;   /* start order: every service after all its deps */
  size_t *level;   /* 0 without deps, else 1 + the highest level of its deps */
  size_t n_levels; /* services of one level may start in parallel */
};

/* Finds a cycle in a dependency graph given as adjacency lists; returns
 * NULL if there is none, else the cycle named by `names` as
 * "a -> b -> a" (caller frees).  Used by validation before a model exists. */
char *compose_graph_find_cycle(size_t n, size_t *const *deps, const size_t *n_deps,
                               const char *const *names);

/* Builds the graph of a project; a cycle is an error naming it.  Deps on
 * services not in the project (disabled by profiles) are ignored. */
int compose_graph_build(const struct compose_project *p, struct compose_graph **out,
                        struct stack_error **err);
void compose_graph_free(struct compose_graph *g);
void compose_graph_freep(struct compose_graph **g);
#define _cleanup_compose_graph_ __attribute__((cleanup(compose_graph_freep)))

/* Writes the stop order (the start order reversed) into out[0..g->n). */
void compose_graph_stop_order(const struct compose_graph *g, size_t *out);

/* What must run for the services in want[0..n_want): they and everything
 * they depend on, transitively, in start order into out (room for g->n);
 * returns how many were written. */
size_t compose_graph_closure(const struct compose_graph *g, const size_t *want, size_t n_want,
                             size_t *out);

/* The services that (transitively) depend on service i, in stop order, into
 * out (room for g->n); returns how many were written.  For stopping or
 * restarting i: its dependents go first. */
size_t compose_graph_dependents(const struct compose_graph *g, size_t i, size_t *out);

#endif
