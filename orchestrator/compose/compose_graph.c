#include "compose_graph.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "compose_model.h"
#include "runtime/util/cleanup.h"
#include "runtime/util/error.h"
#include "runtime/util/sbuf.h"
#include "runtime/util/xalloc.h"

enum { WHITE, GREY, BLACK };

/* Iterative depth-first search (no recursion: a generated file may chain
 * thousands of services).  Returns the index where a back edge closes a
 * cycle, with the grey path in stack[0..*depth). */
static long dfs_cycle(size_t n, size_t *const *deps, const size_t *n_deps, unsigned char *color,
                      size_t *stack, size_t *next, size_t *depth, size_t root) {
  *depth = 0;
  stack[(*depth)++] = root;
  next[root] = 0;
  color[root] = GREY;
  while (*depth > 0) {
    size_t v = stack[*depth - 1];
    if (next[v] < n_deps[v]) {
      size_t w = deps[v][next[v]++];
      if (w >= n)
        continue;
      if (color[w] == GREY)
        return (long)w;
      if (color[w] == WHITE) {
        color[w] = GREY;
        next[w] = 0;
        stack[(*depth)++] = w;
      }
    } else {
      color[v] = BLACK;
      (*depth)--;
    }
  }
  return -1;
}

char *compose_graph_find_cycle(size_t n, size_t *const *deps, const size_t *n_deps,
                               const char *const *names) {
  _cleanup_free_ unsigned char *color = xcalloc(n + 1, 1);
  _cleanup_free_ size_t *stack = xcalloc(n + 1, sizeof(size_t));
  _cleanup_free_ size_t *next = xcalloc(n + 1, sizeof(size_t));
  for (size_t r = 0; r < n; r++) {
    if (color[r] != WHITE)
      continue;
    size_t depth;
    long w = dfs_cycle(n, deps, n_deps, color, stack, next, &depth, r);
    if (w < 0)
      continue;
    size_t start = 0;
    while (start < depth && stack[start] != (size_t)w)
      start++;
    struct sbuf b = SBUF_INIT;
    for (size_t i = start; i < depth; i++)
      sbuf_printf(&b, "%s -> ", names[stack[i]]);
    sbuf_puts(&b, names[w]);
    return sbuf_steal(&b);
  }
  return NULL;
}

void compose_graph_free(struct compose_graph *g) {
  if (g == NULL)
    return;
  for (size_t i = 0; i < g->n; i++)
    free(g->deps[i]);
  free(g->deps);
  free(g->n_deps);
  free(g->order);
  free(g->level);
  free(g);
}

void compose_graph_freep(struct compose_graph **g) {
  compose_graph_free(*g);
  *g = NULL;
}

int compose_graph_build(const struct compose_project *p, struct compose_graph **out,
                        struct stack_error **err) {
  struct compose_graph *g = xcalloc(1, sizeof(*g));
  _cleanup_compose_graph_ struct compose_graph *guard = g;
  size_t n = g->n = p->n_services;
  g->deps = xcalloc(n + 1, sizeof(*g->deps));
  g->n_deps = xcalloc(n + 1, sizeof(*g->n_deps));
  g->order = xcalloc(n + 1, sizeof(*g->order));
  g->level = xcalloc(n + 1, sizeof(*g->level));
  for (size_t i = 0; i < n; i++) {
    const struct compose_service *s = &p->services[i];
    g->deps[i] = xcalloc(s->n_depends_on + 1, sizeof(size_t));
    for (size_t j = 0; j < s->n_depends_on; j++) {
      long k = compose_project_service_index(p, s->depends_on[j].service);
      if (k >= 0)
        g->deps[i][g->n_deps[i]++] = (size_t)k;
    }
  }
  _cleanup_free_ const char **names = xcalloc(n + 1, sizeof(*names));
  for (size_t i = 0; i < n; i++)
    names[i] = p->services[i].name;
  _cleanup_free_ char *cycle = compose_graph_find_cycle(n, g->deps, g->n_deps, names);
  if (cycle)
    return stack_error_set(err, -ELOOP,
                           "dependency cycle between services: %s; remove one of these depends_on",
                           cycle);

  /* Kahn's algorithm by levels; within a level, file order, so that the
   * order is stable across runs. */
  _cleanup_free_ size_t *remaining = xcalloc(n + 1, sizeof(size_t));
  _cleanup_free_ unsigned char *done = xcalloc(n + 1, 1);
  for (size_t i = 0; i < n; i++)
    remaining[i] = g->n_deps[i];
  size_t placed = 0, lvl = 0;
  while (placed < n) {
    size_t first = placed;
    for (size_t i = 0; i < n; i++)
      if (!done[i] && remaining[i] == 0) {
        g->order[placed++] = i;
        g->level[i] = lvl;
      }
    if (placed == first)
      return stack_error_set(err, -ELOOP, "dependency cycle between services");
    for (size_t k = first; k < placed; k++)
      done[g->order[k]] = 1;
    for (size_t i = 0; i < n; i++)
      if (!done[i])
        for (size_t j = 0; j < g->n_deps[i]; j++)
          if (done[g->deps[i][j]] && g->level[g->deps[i][j]] == lvl && remaining[i] > 0)
            remaining[i]--;
    lvl++;
  }
  g->n_levels = lvl;
  *out = steal_pointer(&guard);
  return 0;
}

void compose_graph_stop_order(const struct compose_graph *g, size_t *out) {
  for (size_t i = 0; i < g->n; i++)
    out[i] = g->order[g->n - 1 - i];
}

size_t compose_graph_closure(const struct compose_graph *g, const size_t *want, size_t n_want,
                             size_t *out) {
  _cleanup_free_ unsigned char *need = xcalloc(g->n + 1, 1);
  _cleanup_free_ size_t *stack = xcalloc(g->n + 1, sizeof(size_t));
  size_t sp = 0;
  for (size_t i = 0; i < n_want; i++)
    if (want[i] < g->n && !need[want[i]]) {
      need[want[i]] = 1;
      stack[sp++] = want[i];
    }
  while (sp > 0) {
    size_t v = stack[--sp];
    for (size_t j = 0; j < g->n_deps[v]; j++)
      if (!need[g->deps[v][j]]) {
        need[g->deps[v][j]] = 1;
        stack[sp++] = g->deps[v][j];
      }
  }
  size_t k = 0;
  for (size_t i = 0; i < g->n; i++)
    if (need[g->order[i]])
      out[k++] = g->order[i];
  return k;
}

size_t compose_graph_dependents(const struct compose_graph *g, size_t i, size_t *out) {
  _cleanup_free_ unsigned char *hit = xcalloc(g->n + 1, 1);
  if (i >= g->n)
    return 0;
  /* In start order every dependent comes after what it depends on, so one
   * pass over the order finds the transitive dependents. */
  hit[i] = 1;
  for (size_t k = 0; k < g->n; k++) {
    size_t v = g->order[k];
    for (size_t j = 0; j < g->n_deps[v] && !hit[v]; j++)
      if (hit[g->deps[v][j]])
        hit[v] = 1;
  }
  size_t m = 0;
  for (size_t k = g->n; k-- > 0;) {
    size_t v = g->order[k];
    if (hit[v] && v != i)
      out[m++] = v;
  }
  return m;
}
