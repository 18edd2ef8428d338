/* The table of what stack honours (compose_support.h): every key of the
 * embedded Compose schema is in it and nothing else is; `up`'s warning for a
 * service names every unhonoured key it sets, with its reason; network_mode
 * host is refused at load with file:line:col. */
#include <cjson/cJSON.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "orchestrator/compose/compose_load.h"
#include "orchestrator/compose/compose_model.h"
#include "orchestrator/compose/compose_schema.h"
#include "orchestrator/supervisor/compose_support.h"
#include "runtime/util/error.h"
#include "test.h"

/* The schema object at a path of keys (digits index arrays). */
static const cJSON *at(const cJSON *j, const char *const *path) {
  for (; j && *path; path++)
    j = cJSON_IsArray(j) ? cJSON_GetArrayItem(j, atoi(*path))
                         : cJSON_GetObjectItemCaseSensitive(j, *path);
  return j;
}

static void check_scope(const cJSON *schema, enum cs_scope scope, const char *const *path) {
  const cJSON *props = at(schema, path);
  CHECK_MSG(cJSON_IsObject(props), "no properties in the schema for %s", cs_scope_name(scope));
  const cJSON *p;
  cJSON_ArrayForEach(p, props) {
    CHECK_MSG(cs_lookup(scope, p->string) != NULL, "the schema's %s key \"%s\" is not in the table",
              cs_scope_name(scope), p->string);
  }
  size_t n;
  const struct cs_key *t = cs_table(scope, &n);
  CHECK_MSG(n > 0, "no table for %s", cs_scope_name(scope));
  for (size_t i = 0; i < n; i++) {
    /* a scope's entries are contiguous (cs_table() counts on it) */
    CHECK_MSG(t[i].scope == scope, "%s: entry %s is out of place", cs_scope_name(scope), t[i].key);
    CHECK_MSG(cJSON_GetObjectItemCaseSensitive(props, t[i].key) != NULL,
              "the table's %s key \"%s\" is not in the schema", cs_scope_name(scope), t[i].key);
    CHECK_MSG(t[i].reason && *t[i].reason, "%s.%s has no reason", cs_scope_name(scope), t[i].key);
    /* a partial key says which part it honours: a sub-table, a check, or an error at `up` */
    if (t[i].sub != CS_N_SCOPES || t[i].check)
      CHECK_MSG(t[i].level == CS_PARTIAL, "%s.%s: a check on a key that is not partial",
                cs_scope_name(scope), t[i].key);
  }
}

static void schema_cross_check(void) {
  cJSON *schema = cJSON_Parse(compose_schema_json);
  CHECK(schema != NULL);
#define P(...) ((const char *const[]){__VA_ARGS__, NULL})
  check_scope(schema, CS_TOP, P("properties"));
  check_scope(schema, CS_SERVICE, P("definitions", "service", "properties"));
  check_scope(schema, CS_SERVICE_NETWORK,
              P("definitions", "service", "properties", "networks", "oneOf", "1",
                "patternProperties", "^[a-zA-Z0-9._-]+$", "oneOf", "0", "properties"));
  check_scope(schema, CS_DEPLOY, P("definitions", "deployment", "properties"));
  check_scope(schema, CS_RESOURCES,
              P("definitions", "deployment", "properties", "resources", "properties"));
  check_scope(schema, CS_LIMITS,
              P("definitions", "deployment", "properties", "resources", "properties", "limits",
                "properties"));
  check_scope(schema, CS_DEVELOP, P("definitions", "development", "properties"));
  check_scope(schema, CS_NETWORK, P("definitions", "network", "properties"));
  check_scope(schema, CS_IPAM, P("definitions", "network", "properties", "ipam", "properties"));
  check_scope(schema, CS_VOLUME, P("definitions", "volume", "properties"));
  check_scope(schema, CS_SECRET, P("definitions", "secret", "properties"));
  check_scope(schema, CS_CONFIG, P("definitions", "config", "properties"));
#undef P
  cJSON_Delete(schema);
}

static char dir[] = "/tmp/stack-compose-support.XXXXXX";

static int load(const char *yaml, struct compose_project **p, struct stack_error **err) {
  char path[256];
  snprintf(path, sizeof(path), "%s/compose.yaml", dir);
  FILE *f = fopen(path, "w");
  fputs(yaml, f);
  fclose(f);
  char *files[] = {path, NULL};
  char *env[] = {NULL};
  struct compose_load_opts o = {.files = files, .environ = env, .working_dir = dir};
  return compose_load(&o, p, err);
}

static void warnings(void) {
  struct compose_project *p = NULL;
  struct stack_error *err = NULL;
  int r = load("name: t\n"
               "services:\n"
               "  web:\n"
               "    image: busybox\n"
               "    logging: {driver: syslog}\n"
               "    devices: [/dev/kvm]\n"
               "    develop: {watch: [{path: ., action: sync, target: /app}]}\n"
               "    mem_reservation: 64m\n"
               "    cpu_shares: 512\n"
               "    oom_kill_disable: false\n" /* the default: nothing to warn */
               "    security_opt: [no-new-privileges, apparmor=x]\n"
               "    volumes: [{type: npipe, source: p, target: /p}, {type: volume, source: v, "
               "target: /v, volume: {subpath: s}}]\n"
               "    deploy: {replicas: 1, placement: {constraints: [a]}, resources: {limits: "
               "{cpus: '1'}, reservations: {memory: 1g}}}\n"
               "    networks: {front: {aliases: [w], mac_address: '02:00:00:00:00:01'}}\n"
               "    x-anything: 1\n"
               "    stop_signal: SIGINT\n"
               "  plain:\n"
               "    image: busybox\n"
               "    network_mode: none\n"
               "    read_only: true\n"
               "networks:\n"
               "  front: {attachable: true, ipam: {config: [{subnet: 10.9.0.0/24, ip_range: "
               "10.9.0.0/25}]}}\n"
               "volumes:\n"
               "  v: {}\n"
               "models:\n"
               "  m: {model: ai/x}\n",
               &p, &err);
  CHECK_MSG(r == 0, "load: %s", err ? err->msg : "?");
  if (r < 0)
    return;
  char *w = cs_unhonoured(CS_SERVICE, compose_project_service(p, "web")->node);
  /* in the file's order */
  CHECK_STREQ(
      w, "logging (stack logs reads the VM's output: logging drivers and their options are not "
         "used), "
         "devices (no device pass-through into VMs), "
         "develop.watch (no file watching (`up --watch`) yet), "
         "mem_reservation (no meaning for a VM with its own memory: use mem_limit), "
         "cpu_shares (no meaning inside a VM, whose vCPUs are its own: use cpus), "
         "security_opt apparmor=x (seccomp profiles, AppArmor and SELinux labels are not "
         "applied: the VM is the boundary), "
         "volumes of type npipe (/p) (only bind, volume and tmpfs mounts exist in a VM), "
         "volumes (/v) volume.subpath (not applied yet: the whole volume is mounted), "
         "deploy.placement (Docker Swarm's), "
         "deploy.resources.reservations (a VM has the memory and vCPUs it is given), "
         "networks.front.mac_address (not applied to the VM's interface yet)");
  free(w);
  CHECK(cs_unhonoured(CS_SERVICE, compose_project_service(p, "plain")->node) == NULL);
  const struct cnode *nets = cnode_map_get(p->tree, "networks");
  w = cs_unhonoured(CS_NETWORK, cnode_map_get(nets, "front"));
  CHECK_STREQ(w, "attachable (Docker Swarm's), "
                 "ipam.config.ip_range (stack allocates addresses from the whole subnet)");
  free(w);
  w = cs_unhonoured(CS_TOP, p->tree);
  CHECK_STREQ(w, "models (AI model runners are out of scope)");
  free(w);
  compose_project_free(p);
}

static void network_mode(void) {
  static const char *const refused[] = {"host", "service:db", "bridge"};
  for (size_t i = 0; i < sizeof(refused) / sizeof(refused[0]); i++) {
    char yaml[256];
    snprintf(yaml, sizeof(yaml),
             "services:\n  db: {image: busybox}\n  web:\n    image: busybox\n"
             "    network_mode: \"%s\"\n",
             refused[i]);
    struct compose_project *p = NULL;
    struct stack_error *err = NULL;
    CHECK(load(yaml, &p, &err) == -EINVAL);
    CHECK_MSG(err && strstr(err->msg, "compose.yaml:5:19: services.web.network_mode: \"") &&
                  strstr(err->msg, refused[i]),
              "%s: %s", refused[i], err ? err->msg : "no error");
    if (i == 0)
      CHECK(err && strstr(err->msg, "own VM") && strstr(err->msg, "ports:"));
    stack_error_free(err);
    compose_project_free(p);
  }
}

int main(void) {
  if (mkdtemp(dir) == NULL)
    return 1;
  schema_cross_check();
  warnings();
  network_mode();
  char path[256];
  snprintf(path, sizeof(path), "%s/compose.yaml", dir);
  unlink(path);
  rmdir(dir);
  TEST_DONE();
}
