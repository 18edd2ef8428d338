/* The service graph: start/stop order, parallel levels, closures, cycles. */
#include <string.h>

#include "orchestrator/compose/compose_graph.h"
#include "orchestrator/compose/compose_model.h"
#include "orchestrator/compose/compose_normalize.h"
#include "orchestrator/compose/compose_yaml.h"
#include "runtime/util/cleanup.h"
#include "runtime/util/error.h"
#include "runtime/util/sbuf.h"
#include "test.h"

static struct compose_project *project(const char *yaml) {
  _cleanup_error_ struct stack_error *err = NULL;
  struct cnode *t = NULL;
  struct compose_project *p = NULL;
  if (compose_yaml_parse(yaml, strlen(yaml), "g.yaml", &t, &err) < 0 ||
      compose_canonical(t, &err) < 0 || compose_model_build(t, "/w", &p, &err) < 0) {
    fprintf(stderr, "%s\n", err->msg);
    return NULL;
  }
  return p;
}

static size_t idx(const struct compose_project *p, const char *name) {
  return (size_t)compose_project_service_index(p, name);
}

static void test_order(void) {
  /* web -> api -> (db, cache); worker -> db; lone */
  _cleanup_compose_project_ struct compose_project *p =
      project("name: g\nservices:\n"
              "  web: {image: x, depends_on: [api]}\n"
              "  api: {image: x, depends_on: {db: {condition: service_healthy}, cache: "
              "{condition: service_started}}}\n"
              "  worker: {image: x, depends_on: [db]}\n"
              "  db: {image: x}\n"
              "  cache: {image: x}\n"
              "  lone: {image: x}\n");
  CHECK(p != NULL);
  if (!p)
    return;
  CHECK_INTEQ(p->services[idx(p, "api")].depends_on[0].condition, COMPOSE_DEP_HEALTHY);
  _cleanup_error_ struct stack_error *err = NULL;
  _cleanup_compose_graph_ struct compose_graph *g = NULL;
  CHECK(compose_graph_build(p, &g, &err) == 0);
  if (!g)
    return;
  size_t pos[6];
  for (size_t i = 0; i < g->n; i++)
    pos[g->order[i]] = i;
  CHECK(pos[idx(p, "db")] < pos[idx(p, "api")]);
  CHECK(pos[idx(p, "cache")] < pos[idx(p, "api")]);
  CHECK(pos[idx(p, "api")] < pos[idx(p, "web")]);
  CHECK(pos[idx(p, "db")] < pos[idx(p, "worker")]);
  CHECK_INTEQ(g->n_levels, 3);
  CHECK_INTEQ(g->level[idx(p, "db")], 0);
  CHECK_INTEQ(g->level[idx(p, "lone")], 0);
  CHECK_INTEQ(g->level[idx(p, "worker")], 1);
  CHECK_INTEQ(g->level[idx(p, "api")], 1);
  CHECK_INTEQ(g->level[idx(p, "web")], 2);

  size_t stop[6];
  compose_graph_stop_order(g, stop);
  CHECK_INTEQ(stop[0], g->order[5]);
  CHECK_INTEQ(stop[5], g->order[0]);

  size_t want = idx(p, "web"), out[6];
  size_t n = compose_graph_closure(g, &want, 1, out);
  CHECK_INTEQ(n, 4); /* web, api, db, cache */
  CHECK_INTEQ(out[n - 1], idx(p, "web"));
  want = idx(p, "lone");
  CHECK_INTEQ(compose_graph_closure(g, &want, 1, out), 1);

  n = compose_graph_dependents(g, idx(p, "db"), out);
  CHECK_INTEQ(n, 3); /* web, api, worker; web stops before api */
  size_t web_at = 9, api_at = 9;
  for (size_t i = 0; i < n; i++) {
    if (out[i] == idx(p, "web"))
      web_at = i;
    if (out[i] == idx(p, "api"))
      api_at = i;
  }
  CHECK(web_at < api_at && api_at < n);
}

static void test_cycle(void) {
  _cleanup_compose_project_ struct compose_project *p =
      project("name: g\nservices:\n"
              "  a: {image: x, depends_on: [b]}\n"
              "  b: {image: x, depends_on: [a]}\n"
              "  c: {image: x, depends_on: [c]}\n");
  CHECK(p != NULL);
  if (!p)
    return;
  _cleanup_error_ struct stack_error *err = NULL;
  _cleanup_compose_graph_ struct compose_graph *g = NULL;
  CHECK(compose_graph_build(p, &g, &err) < 0);
  CHECK_MSG(err && strstr(err->msg, "a -> b -> a"), "%s", err ? err->msg : "");

  size_t d0[] = {0}, *deps[] = {d0};
  size_t nd[] = {1};
  const char *names[] = {"self"};
  _cleanup_free_ char *c = compose_graph_find_cycle(1, deps, nd, names);
  CHECK_STREQ(c, "self -> self");
}

static void test_long_chain(void) {
  /* deep chains must not recurse: 3000 services, each on the previous */
  struct sbuf b = SBUF_INIT;
  sbuf_puts(&b, "name: g\nservices:\n  s0: {image: x}\n");
  for (int i = 1; i < 3000; i++)
    sbuf_printf(&b, "  s%d: {image: x, depends_on: [s%d]}\n", i, i - 1);
  _cleanup_free_ char *yaml = sbuf_steal(&b);
  _cleanup_compose_project_ struct compose_project *p = project(yaml);
  CHECK(p != NULL);
  if (!p)
    return;
  _cleanup_error_ struct stack_error *err = NULL;
  _cleanup_compose_graph_ struct compose_graph *g = NULL;
  CHECK(compose_graph_build(p, &g, &err) == 0);
  CHECK(g && g->n_levels == 3000);
}

int main(void) {
  test_order();
  test_cycle();
  test_long_chain();
  TEST_DONE();
}
