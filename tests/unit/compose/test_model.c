/* The typed model the runtime reads: fields from the canonical tree, with
 * durations in ns, sizes in bytes, defaults and lookups. */
#include <string.h>

#include "orchestrator/compose/compose_model.h"
#include "orchestrator/compose/compose_normalize.h"
#include "orchestrator/compose/compose_yaml.h"
#include "runtime/util/cleanup.h"
#include "runtime/util/error.h"
#include "test.h"

static const char yaml[] =
    "name: m\n"
    "services:\n"
    "  web:\n"
    "    image: busybox\n"
    "    command: httpd -f -p 80\n"
    "    environment: [B=2, A=1, C]\n"
    "    ports: [\"127.0.0.1:8080:80\", \"9000-9001:9000-9001/udp\"]\n"
    "    volumes: [\"./site:/www:ro\", \"data:/data\", {type: tmpfs, target: /tmp, tmpfs: {size: 1m}}]\n"
    "    networks:\n"
    "      front: {aliases: [www], ipv4_address: 10.0.0.5}\n"
    "    depends_on:\n"
    "      db: {condition: service_healthy, restart: true}\n"
    "    healthcheck: {test: [\"CMD\", \"true\"], interval: 1m30s, timeout: 500ms, retries: 3}\n"
    "    deploy: {replicas: 2, resources: {limits: {cpus: '0.5', memory: 64M}}, restart_policy: "
    "{condition: on-failure, max_attempts: 4, delay: 2s}}\n"
    "    stop_grace_period: 15s\n"
    "    ulimits: {nofile: {soft: 1024, hard: 2048}, nproc: 64}\n"
    "    secrets: [{source: key, target: k, mode: 0400}]\n"
    "    init: true\n"
    "    mem_limit: 1g\n"
    "  db:\n"
    "    image: postgres\n"
    "    healthcheck: {test: [NONE]}\n"
    "networks:\n"
    "  front:\n"
    "volumes:\n"
    "  data: {external: true}\n"
    "secrets:\n"
    "  key: {file: ./key}\n";

int main(void) {
  _cleanup_error_ struct stack_error *err = NULL;
  struct cnode *t = NULL;
  CHECK(compose_yaml_parse(yaml, strlen(yaml), "m.yaml", &t, &err) == 0);
  CHECK(compose_canonical(t, &err) == 0);
  CHECK(compose_resolve_paths(t, "/srv/m", &err) == 0);
  CHECK(compose_normalize(t, &err) == 0);
  _cleanup_compose_project_ struct compose_project *p = NULL;
  CHECK_MSG(compose_model_build(t, "/srv/m", &p, &err) == 0, "%s", err ? err->msg : "");
  if (p == NULL)
    TEST_DONE();
  CHECK_STREQ(p->name, "m");
  CHECK_INTEQ(p->n_services, 2);
  const struct compose_service *web = compose_project_service(p, "web");
  CHECK(web != NULL);
  if (web == NULL)
    TEST_DONE();
  CHECK_STREQ(web->image, "busybox");
  CHECK_STREQ(web->command[0], "httpd");
  CHECK_STREQ(web->command[3], "80");
  CHECK(web->command[4] == NULL);
  CHECK(web->entrypoint == NULL);
  CHECK_INTEQ(web->environment.n, 3);
  CHECK_STREQ(web->environment.v[0].key, "A"); /* sorted */
  CHECK(web->environment.v[2].value == NULL);
  CHECK_STREQ(compose_kvs_get(&web->environment, "B"), "2");
  CHECK_INTEQ(web->n_ports, 3);
  CHECK_STREQ(web->ports[0].host_ip, "127.0.0.1");
  CHECK_INTEQ(web->ports[0].target, 80);
  CHECK_STREQ(web->ports[0].published, "8080");
  CHECK_STREQ(web->ports[2].protocol, "udp");
  CHECK_STREQ(web->ports[2].published, "9001");
  CHECK_INTEQ(web->n_volumes, 3);
  CHECK_STREQ(web->volumes[0].type, "bind");
  CHECK_STREQ(web->volumes[0].source, "/srv/m/site");
  CHECK(web->volumes[0].read_only);
  CHECK(web->volumes[0].bind_create_host_path);
  CHECK_STREQ(web->volumes[1].source, "data");
  CHECK_INTEQ(web->volumes[2].tmpfs_size, 1 << 20);
  CHECK_INTEQ(web->n_networks, 1);
  CHECK_STREQ(web->networks[0].name, "front");
  CHECK_STREQ(web->networks[0].aliases[0], "www");
  CHECK_STREQ(web->networks[0].ipv4_address, "10.0.0.5");
  CHECK_INTEQ(web->n_depends_on, 1);
  CHECK_STREQ(web->depends_on[0].service, "db");
  CHECK_INTEQ(web->depends_on[0].condition, COMPOSE_DEP_HEALTHY);
  CHECK(web->depends_on[0].required && web->depends_on[0].restart);
  CHECK(web->healthcheck.set && !web->healthcheck.disable);
  CHECK_STREQ(web->healthcheck.test[0], "CMD");
  CHECK_INTEQ(web->healthcheck.interval_ns, 90000000000LL);
  CHECK_INTEQ(web->healthcheck.timeout_ns, 500000000LL);
  CHECK_INTEQ(web->healthcheck.start_period_ns, -1);
  CHECK_INTEQ(web->healthcheck.retries, 3);
  CHECK_INTEQ(web->deploy.replicas, 2);
  CHECK(web->deploy.cpus_limit > 0.49 && web->deploy.cpus_limit < 0.51);
  CHECK_INTEQ(web->deploy.memory_limit, 64 << 20);
  CHECK_STREQ(web->deploy.restart_policy.condition, "on-failure");
  CHECK_INTEQ(web->deploy.restart_policy.max_attempts, 4);
  CHECK_INTEQ(web->deploy.restart_policy.delay_ns, 2000000000LL);
  CHECK_INTEQ(web->stop_grace_period_ns, 15000000000LL);
  CHECK_INTEQ(web->n_ulimits, 2);
  CHECK_INTEQ(web->ulimits[0].hard, 2048);
  CHECK_INTEQ(web->ulimits[1].soft, 64);
  CHECK_INTEQ(web->ulimits[1].hard, 64);
  CHECK_INTEQ(web->n_secrets, 1);
  CHECK_INTEQ(web->secrets[0].mode, 0400);
  CHECK(web->init);
  CHECK(!web->tty);
  CHECK_INTEQ(web->mem_limit, 1 << 30);
  CHECK_INTEQ(web->memswap_limit, -1);
  const struct compose_service *db = compose_project_service(p, "db");
  CHECK(db && db->healthcheck.disable);
  CHECK(db && db->n_networks == 1 && strcmp(db->networks[0].name, "default") == 0);
  CHECK(compose_project_service(p, "nope") == NULL);
  const struct compose_network *front = compose_project_network(p, "front");
  CHECK(front && strcmp(front->name, "m_front") == 0);
  CHECK(compose_project_network(p, "default") != NULL);
  const struct compose_volume *data = compose_project_volume(p, "data");
  CHECK(data && data->external && strcmp(data->name, "data") == 0);
  CHECK_INTEQ(p->n_secrets, 1);
  CHECK_STREQ(p->secrets[0].file, "/srv/m/key");
  CHECK(p->tree != NULL);
  CHECK(web->node != NULL && cnode_map_get(web->node, "image") != NULL);
  TEST_DONE();
}
