/* A service's config hash is computed from the model (its node as JSON
 * values in memory) and is the same as the hash of its `stack config
 * --format json` text parsed back, as containers made before were hashed:
 * an upgrade recreates nothing.  A project handed on as JSON (`up`: the
 * CLI loads, the supervisor builds its model from the tree it is sent) is
 * the same project: same tree, same hashes. */
#include <cjson/cJSON.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "orchestrator/compose/compose_emit.h"
#include "orchestrator/compose/compose_load.h"
#include "orchestrator/compose/compose_model.h"
#include "orchestrator/compose/compose_tree_json.h"
#include "orchestrator/supervisor/config_hash.h"
#include "runtime/util/cleanup.h"
#include "runtime/util/error.h"
#include "runtime/util/fsutil.h"
#include "runtime/util/xalloc.h"
#include "test.h"

/* How containers were hashed before: the service's JSON text, parsed. */
static void hash_via_text(const struct compose_service *svc, char out[65]) {
  _cleanup_free_ char *text = NULL;
  _cleanup_error_ struct stack_error *err = NULL;
  CHECK(compose_emit_string(&text, svc->node, COMPOSE_EMIT_JSON, false, &err) == 0);
  cJSON *j = cJSON_Parse(text);
  CHECK(config_hash(j, "sha256:img", out, &err) == 0);
  cJSON_Delete(j);
}

static void check_project(char *file, char **environ_list, bool consistent) {
  char *files[] = {file, NULL};
  struct compose_load_opts o = {.files = files, .environ = environ_list,
                                .no_consistency = !consistent};
  _cleanup_compose_project_ struct compose_project *p = NULL;
  _cleanup_error_ struct stack_error *err = NULL;
  CHECK_MSG(compose_load(&o, &p, &err) == 0, "%s: %s", file, err ? err->msg : "");
  for (size_t i = 0; p && i < p->n_services; i++) {
    char a[65], b[65];
    hash_via_text(&p->services[i], a);
    CHECK(config_hash_service(&p->services[i], "sha256:img", b, &err) == 0);
    CHECK_STREQ(b, a);
  }
  CHECK(p == NULL || p->n_services > 0);
  if (p == NULL || !consistent)
    return;
  /* as the supervisor receives it: printed, parsed */
  cJSON *tree = compose_emit_json_tree(p->tree, false);
  _cleanup_free_ char *wire = cJSON_PrintUnformatted(tree);
  cJSON_Delete(tree);
  cJSON *back = cJSON_Parse(wire);
  _cleanup_compose_project_ struct compose_project *q = NULL;
  CHECK_MSG(compose_project_from_json(back, p->working_dir, &q, &err) == 0, "%s",
            err ? err->msg : "");
  cJSON_Delete(back);
  if (q == NULL)
    return;
  _cleanup_free_ char *text_p = NULL, *text_q = NULL;
  CHECK(compose_emit_string(&text_p, p->tree, COMPOSE_EMIT_JSON, false, &err) == 0);
  CHECK(compose_emit_string(&text_q, q->tree, COMPOSE_EMIT_JSON, false, &err) == 0);
  CHECK_STREQ(text_q, text_p);
  CHECK_STREQ(q->name, p->name);
  CHECK_STREQ(q->working_dir, p->working_dir);
  CHECK_INTEQ(q->n_services, p->n_services);
  for (size_t i = 0; i < p->n_services && i < q->n_services; i++) {
    char a[65], b[65];
    CHECK(config_hash_service(&p->services[i], "sha256:img", a, &err) == 0);
    CHECK(config_hash_service(&q->services[i], "sha256:img", b, &err) == 0);
    CHECK_STREQ(b, a);
  }
  /* not a project: an error, not a crash */
  cJSON *bad = cJSON_Parse("{\"services\": {\"x\": {\"ports\": 5}}}");
  _cleanup_compose_project_ struct compose_project *r = NULL;
  _cleanup_error_ struct stack_error *e2 = NULL;
  CHECK(compose_project_from_json(bad, "/", &r, &e2) < 0 && r == NULL && e2 != NULL);
  cJSON_Delete(bad);
}

int main(void) {
  char tmpl[] = "/tmp/test_config_hash.XXXXXX";
  CHECK(mkdtemp(tmpl) != NULL);
  _cleanup_free_ char *file = fs_path_join(tmpl, "compose.yaml");
  FILE *f = fopen(file, "w");
  CHECK(f != NULL);
  fputs("name: hashes\n"
        "services:\n"
        "  web:\n"
        "    image: busybox\n"
        "    command: [\"sh\", \"-c\", \"echo $$HOME\"]\n"
        "    environment: {B: \"2\", A: 1, C: ~}\n"
        "    ports: [\"127.0.0.1:8080:80\", \"9000-9001:90-91/udp\"]\n"
        "    mem_limit: 16g\n"
        "    shm_size: 1099511627776\n"
        "    cpus: 0.5\n"
        "    ulimits: {nofile: {soft: 1024, hard: 65536}}\n"
        "    healthcheck: {test: [\"CMD\", \"true\"], interval: 1500ms, retries: 3}\n"
        "    labels: [\"x=1\", \"y=two words\"]\n"
        "    read_only: true\n"
        "    depends_on: [db]\n"
        "  db:\n"
        "    image: busybox\n"
        "    deploy: {replicas: 2, resources: {limits: {cpus: \"1.5\", memory: 512M}}}\n"
        "    stop_grace_period: 1m30s\n",
        f);
  fclose(f);
  char *env[] = {"HOME=/root", NULL};
  check_project(file, env, true);
  unlink(file);
  rmdir(tmpl);

  /* compose-go's full example: every kind of key */
  const char *conf = getenv("STACK_CONFORMANCE_DIR");
  _cleanup_free_ char *full =
      conf ? fs_path_join(conf, "compose-go/full-example/full-example.yml") : NULL;
  char real[PATH_MAX];
  if (full && realpath(full, real)) {
    char *fenv[] = {"HOME=/root", "QUX=qux_from_environment", NULL};
    check_project(real, fenv, false); /* it names networks it does not define */
  }
  TEST_DONE();
}
