/* Short -> long syntax, typing, paths, environment and normalisation, each
 * checked against what compose-go produces for the same input. */
#include <stdlib.h>
#include <string.h>

#include "orchestrator/compose/compose_emit.h"
#include "orchestrator/compose/compose_normalize.h"
#include "orchestrator/compose/compose_validate.h"
#include "orchestrator/compose/compose_yaml.h"
#include "runtime/util/cleanup.h"
#include "runtime/util/error.h"
#include "test.h"

static struct cnode *load(const char *yaml, struct stack_error **err) {
  struct cnode *t = NULL;
  if (compose_yaml_parse(yaml, strlen(yaml), "t.yaml", &t, err) < 0)
    return NULL;
  if (compose_validate_schema(t, err) < 0 || compose_canonical(t, err) < 0) {
    cnode_free(t);
    return NULL;
  }
  return t;
}

/* The node at a dotted path; numeric segments index sequences. */
static const struct cnode *at(const struct cnode *n, const char *path) {
  char buf[256];
  snprintf(buf, sizeof(buf), "%s", path);
  for (char *save = NULL, *s = strtok_r(buf, ".", &save); s && n; s = strtok_r(NULL, ".", &save)) {
    if (n->kind == CNODE_SEQ) {
      size_t i = strtoul(s, NULL, 10);
      n = i < n->n ? n->items[i] : NULL;
    } else {
      n = cnode_map_get(n, s);
    }
  }
  return n;
}

static const char *str(const struct cnode *t, const char *path) {
  const struct cnode *n = at(t, path);
  return n && n->kind == CNODE_SCALAR ? n->str : NULL;
}

static bool quoted(const struct cnode *t, const char *path) {
  const struct cnode *n = at(t, path);
  return n && n->kind == CNODE_SCALAR && n->quoted;
}

static size_t count(const struct cnode *t, const char *path) {
  const struct cnode *n = at(t, path);
  return n && (n->kind == CNODE_SEQ || n->kind == CNODE_MAP) ? n->n : (size_t)-1;
}

static void test_ports(void) {
  _cleanup_error_ struct stack_error *err = NULL;
  _cleanup_cnode_ struct cnode *t = load("services:\n"
                                         "  web:\n"
                                         "    image: x\n"
                                         "    ports:\n"
                                         "      - 3000\n"
                                         "      - \"3001-3003\"\n"
                                         "      - \"9090-9091:8080-8081\"\n"
                                         "      - \"127.0.0.1:5000:5000/udp\"\n"
                                         "      - \"[::1]:81:80\"\n"
                                         "      - \"8000-8010:80\"\n"
                                         "      - target: 22\n"
                                         "        published: 2222\n",
                                         &err);
  CHECK_MSG(t != NULL, "%s", err ? err->msg : "");
  if (!t)
    return;
  CHECK_INTEQ(count(t, "services.web.ports"), 10);
  CHECK_STREQ(str(t, "services.web.ports.0.target"), "3000");
  CHECK(!quoted(t, "services.web.ports.0.target"));
  CHECK_STREQ(str(t, "services.web.ports.0.protocol"), "tcp");
  CHECK_STREQ(str(t, "services.web.ports.0.mode"), "ingress");
  CHECK(at(t, "services.web.ports.0.published") == NULL);
  CHECK_STREQ(str(t, "services.web.ports.3.target"), "3003");
  CHECK_STREQ(str(t, "services.web.ports.4.published"), "9090");
  CHECK_STREQ(str(t, "services.web.ports.5.published"), "9091");
  CHECK_STREQ(str(t, "services.web.ports.5.target"), "8081");
  CHECK(quoted(t, "services.web.ports.5.published"));
  CHECK_STREQ(str(t, "services.web.ports.6.host_ip"), "127.0.0.1");
  CHECK_STREQ(str(t, "services.web.ports.6.protocol"), "udp");
  CHECK_STREQ(str(t, "services.web.ports.7.host_ip"), "::1");
  CHECK_STREQ(str(t, "services.web.ports.7.published"), "81");
  CHECK_STREQ(str(t, "services.web.ports.8.published"), "8000-8010");
  CHECK_STREQ(str(t, "services.web.ports.8.target"), "80");
  CHECK_STREQ(str(t, "services.web.ports.9.published"), "2222");
  CHECK(quoted(t, "services.web.ports.9.published"));
  CHECK_STREQ(str(t, "services.web.ports.9.protocol"), "tcp");

  _cleanup_error_ struct stack_error *e2 = NULL;
  _cleanup_cnode_ struct cnode *bad = load("services:\n  web:\n    image: x\n    ports:\n"
                                           "      - \"80-81:90-93\"\n",
                                           &e2);
  CHECK(bad == NULL);
  CHECK_MSG(e2 && strstr(e2->msg, "t.yaml:5:9") && strstr(e2->msg, "\"web\""), "%s",
            e2 ? e2->msg : "");
}

static void test_volumes(void) {
  _cleanup_error_ struct stack_error *err = NULL;
  _cleanup_cnode_ struct cnode *t = load("services:\n"
                                         "  web:\n"
                                         "    image: x\n"
                                         "    volumes:\n"
                                         "      - /var/lib/anon\n"
                                         "      - ./src:/app:ro\n"
                                         "      - data:/data:nocopy\n"
                                         "      - /a:/b/../c/:z\n"
                                         "      - ${X}/y:/y\n"
                                         "volumes:\n"
                                         "  data:\n",
                                         &err);
  CHECK_MSG(t != NULL, "%s", err ? err->msg : "");
  if (!t)
    return;
  CHECK_STREQ(str(t, "services.web.volumes.0.type"), "volume");
  CHECK(at(t, "services.web.volumes.0.source") == NULL);
  CHECK_INTEQ(count(t, "services.web.volumes.0.volume"), 0);
  CHECK_STREQ(str(t, "services.web.volumes.1.type"), "bind");
  CHECK_STREQ(str(t, "services.web.volumes.1.source"), "./src");
  CHECK_STREQ(str(t, "services.web.volumes.1.read_only"), "true");
  CHECK_INTEQ(count(t, "services.web.volumes.1.bind"), 0);
  CHECK_STREQ(str(t, "services.web.volumes.2.volume.nocopy"), "true");
  CHECK_STREQ(str(t, "services.web.volumes.3.target"), "/c");
  CHECK_STREQ(str(t, "services.web.volumes.3.bind.selinux"), "z");
  CHECK_STREQ(str(t, "services.web.volumes.4.source"), "${X}/y");
  CHECK_STREQ(str(t, "services.web.volumes.4.type"), "volume");
  CHECK_INTEQ(count(t, "volumes.data"), 0); /* null -> {} */
}

static void test_service_forms(void) {
  _cleanup_error_ struct stack_error *err = NULL;
  _cleanup_cnode_ struct cnode *t =
      load("services:\n"
           "  web:\n"
           "    build: ./app\n"
           "    command: echo 'a b' c\\ d \"e f\"\n"
           "    depends_on: [db]\n"
           "    environment: [A=1, B]\n"
           "    labels: [x=y, empty]\n"
           "    healthcheck:\n"
           "      test: curl -f http://localhost\n"
           "      interval: 90s\n"
           "      timeout: 500ms\n"
           "      start_period: 1h\n"
           "      start_interval: 1.5s\n"
           "    networks: [front]\n"
           "    secrets: [s1]\n"
           "    extra_hosts: [\"h:1.2.3.4\"]\n"
           "    ulimits: {nproc: 100, nofile: {soft: 1, hard: 2}}\n"
           "    mem_limit: 50M\n"
           "    cpus: \"0.5\"\n"
           "    stop_grace_period: 60s\n"
           "    dns: 8.8.8.8\n"
           "    expose: [80]\n"
           "    x-keep: 0440\n"
           "  db:\n"
           "    image: postgres\n"
           "    deploy: {resources: {limits: {memory: 1g}}, restart_policy: {window: 120s}}\n"
           "    configs: [{source: c, mode: 0440, uid: '1'}]\n"
           "networks:\n"
           "  front:\n"
           "  old:\n"
           "    external: {name: legacy}\n"
           "secrets:\n"
           "  s1: {file: ./s}\n"
           "configs:\n"
           "  c: {content: hi}\n",
           &err);
  CHECK_MSG(t != NULL, "%s", err ? err->msg : "");
  if (!t)
    return;
  CHECK_STREQ(str(t, "services.web.build.context"), "./app");
  CHECK_INTEQ(count(t, "services.web.command"), 4);
  CHECK_STREQ(str(t, "services.web.command.1"), "a b");
  CHECK_STREQ(str(t, "services.web.command.2"), "c d");
  CHECK_STREQ(str(t, "services.web.command.3"), "e f");
  CHECK_STREQ(str(t, "services.web.depends_on.db.condition"), "service_started");
  CHECK_STREQ(str(t, "services.web.depends_on.db.required"), "true");
  CHECK(!quoted(t, "services.web.depends_on.db.required"));
  CHECK_STREQ(str(t, "services.web.environment.A"), "1");
  CHECK(quoted(t, "services.web.environment.A"));
  CHECK(at(t, "services.web.environment.B")->kind == CNODE_NULL);
  CHECK_STREQ(str(t, "services.web.labels.empty"), "");
  CHECK_STREQ(str(t, "services.web.labels.x"), "y");
  CHECK_STREQ(str(t, "services.web.healthcheck.test.0"), "CMD-SHELL");
  CHECK_STREQ(str(t, "services.web.healthcheck.test.1"), "curl -f http://localhost");
  CHECK_STREQ(str(t, "services.web.healthcheck.interval"), "1m30s");
  CHECK_STREQ(str(t, "services.web.healthcheck.timeout"), "500ms");
  CHECK_STREQ(str(t, "services.web.healthcheck.start_period"), "1h0m0s");
  CHECK_STREQ(str(t, "services.web.healthcheck.start_interval"), "1.5s");
  CHECK(at(t, "services.web.networks.front")->kind == CNODE_NULL);
  CHECK_STREQ(str(t, "services.web.secrets.0.source"), "s1");
  CHECK_STREQ(str(t, "services.web.extra_hosts.0"), "h=1.2.3.4");
  CHECK_STREQ(str(t, "services.web.ulimits.nproc"), "100");
  CHECK(!quoted(t, "services.web.ulimits.nproc"));
  CHECK_STREQ(str(t, "services.web.ulimits.nofile.hard"), "2");
  CHECK_STREQ(str(t, "services.web.mem_limit"), "52428800");
  CHECK(quoted(t, "services.web.mem_limit"));
  CHECK_STREQ(str(t, "services.web.cpus"), "0.5");
  CHECK(!quoted(t, "services.web.cpus"));
  CHECK_STREQ(str(t, "services.web.stop_grace_period"), "1m0s");
  CHECK_STREQ(str(t, "services.web.dns.0"), "8.8.8.8");
  CHECK_STREQ(str(t, "services.web.expose.0"), "80");
  CHECK(quoted(t, "services.web.expose.0"));
  CHECK_STREQ(str(t, "services.web.x-keep"), "0440");
  CHECK(!quoted(t, "services.web.x-keep"));
  CHECK_STREQ(str(t, "services.db.deploy.resources.limits.memory"), "1073741824");
  CHECK_STREQ(str(t, "services.db.deploy.restart_policy.window"), "2m0s");
  CHECK_STREQ(str(t, "services.db.configs.0.mode"), "0440");
  CHECK_STREQ(str(t, "services.db.configs.0.uid"), "1");
  CHECK_STREQ(str(t, "networks.old.name"), "legacy");
  CHECK_STREQ(str(t, "networks.old.external"), "true");
  CHECK_INTEQ(count(t, "networks.front"), 0);

  /* paths, then the defaults `docker compose config` adds */
  CHECK(compose_resolve_paths(t, "/proj", &err) == 0);
  CHECK_STREQ(str(t, "services.web.build.context"), "/proj/app");
  CHECK_STREQ(str(t, "secrets.s1.file"), "/proj/s");
  cnode_map_set(t, "name", cnode_scalar_at("demo", true, t));
  CHECK(compose_normalize(t, &err) == 0);
  CHECK_STREQ(str(t, "services.web.build.dockerfile"), "Dockerfile");
  CHECK_STREQ(str(t, "networks.front.name"), "demo_front");
  CHECK_STREQ(str(t, "secrets.s1.name"), "demo_s1");
  CHECK(at(t, "services.db.networks.default") != NULL);
  CHECK_INTEQ(count(t, "networks.default"), 1);
  CHECK_STREQ(str(t, "networks.default.name"), "demo_default");
  CHECK(at(t, "services.web.networks.default") == NULL);
}

static void test_finalize_and_emit(void) {
  _cleanup_error_ struct stack_error *err = NULL;
  _cleanup_cnode_ struct cnode *t = load("name: p\n"
                                         "services:\n"
                                         "  web:\n"
                                         "    image: busybox\n"
                                         "    environment:\n"
                                         "      FROM_ENV:\n"
                                         "      UNSET:\n"
                                         "      PRICE: $$5\n"
                                         "      N: 8000\n"
                                         "      YES: \"yes\"\n"
                                         "      TIME: \"12:30\"\n"
                                         "      MAC: 02:42:ac:11:65:43\n"
                                         "    links: [db]\n"
                                         "  db:\n"
                                         "    image: db\n",
                                         &err);
  CHECK_MSG(t != NULL, "%s", err ? err->msg : "");
  if (!t)
    return;
  const char *env[] = {"FROM_ENV=hello", "OTHER=x", NULL};
  CHECK(compose_finalize(t, env, &err) == 0);
  CHECK_STREQ(str(t, "services.web.environment.FROM_ENV"), "hello");
  CHECK(at(t, "services.web.environment.UNSET")->kind == CNODE_NULL);
  CHECK(compose_normalize(t, &err) == 0);
  CHECK_STREQ(str(t, "services.web.depends_on.db.condition"), "service_started");
  CHECK_STREQ(str(t, "services.web.depends_on.db.restart"), "true");
  _cleanup_free_ char *yaml = NULL;
  CHECK(compose_emit_string(&yaml, t, COMPOSE_EMIT_YAML, true, &err) == 0);
  CHECK_MSG(yaml && strstr(yaml, "\"N\": \"8000\""), "%s", yaml);
  CHECK_MSG(yaml && strstr(yaml, "PRICE: $$$$5"), "%s", yaml); /* "$$5" read raw: each $ doubled */
  CHECK_MSG(yaml && strstr(yaml, "UNSET: null"), "%s", yaml);
  CHECK_MSG(yaml && strstr(yaml, "\"YES\": \"yes\""), "%s", yaml);
  CHECK_MSG(yaml && strstr(yaml, "TIME: \"12:30\""), "%s", yaml);
  CHECK_MSG(yaml && strstr(yaml, "MAC: 02:42:ac:11:65:43\n"), "%s", yaml);
  CHECK_MSG(yaml && strncmp(yaml, "name: p\nservices:\n", 18) == 0, "%s", yaml);
  _cleanup_free_ char *json = NULL;
  CHECK(compose_emit_string(&json, t, COMPOSE_EMIT_JSON, false, &err) == 0);
  CHECK_MSG(json && strstr(json, "\"N\": \"8000\""), "%s", json);
  CHECK_MSG(json && strstr(json, "\"UNSET\": null"), "%s", json);
}

static void test_bad_values(void) {
  static const struct {
    const char *yaml, *where;
  } cases[] = {
      {"services:\n  a:\n    image: x\n    stop_grace_period: 10 years\n", "t.yaml:4:24"},
      {"services:\n  a:\n    image: x\n    mem_limit: lots\n", "t.yaml:4:16"},
      {"services:\n  a:\n    image: x\n    command: \"echo 'open\"\n", "t.yaml:4:14"},
      {"services:\n  a:\n    image: x\n    tty: maybe\n", "t.yaml:4:10"},
  };
  for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
    _cleanup_error_ struct stack_error *err = NULL;
    _cleanup_cnode_ struct cnode *t = load(cases[i].yaml, &err);
    CHECK(t == NULL);
    CHECK_MSG(err && strstr(err->msg, cases[i].where), "case %zu: %s", i,
              err ? err->msg : "(no error)");
  }
}

int main(void) {
  test_ports();
  test_volumes();
  test_service_forms();
  test_finalize_and_emit();
  test_bad_values();
  TEST_DONE();
}
