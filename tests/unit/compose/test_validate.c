/* Schema and project validation: every error names file:line:col (and the
 * service), and valid files pass. */
#include <cjson/cJSON.h>
#include <stdlib.h>
#include <string.h>

#include "orchestrator/compose/compose_normalize.h"
#include "orchestrator/compose/compose_schema.h"
#include "orchestrator/compose/compose_validate.h"
#include "orchestrator/compose/compose_yaml.h"
#include "runtime/util/cleanup.h"
#include "runtime/util/error.h"
#include "runtime/util/fsutil.h"
#include "test.h"

/* Runs schema validation, canonical form and (project) validation; returns
 * the error message or NULL. */
static char *check(const char *yaml, bool project) {
  _cleanup_error_ struct stack_error *err = NULL;
  _cleanup_cnode_ struct cnode *t = NULL;
  if (compose_yaml_parse(yaml, strlen(yaml), "t.yaml", &t, &err) < 0 ||
      compose_validate_schema(t, &err) < 0 || compose_canonical(t, &err) < 0 ||
      (project && compose_validate_project(t, &err) < 0))
    return strdup(err->msg);
  return NULL;
}

static void expect_error(const char *yaml, bool project, const char *where, const char *what) {
  _cleanup_free_ char *msg = check(yaml, project);
  CHECK_MSG(msg != NULL, "no error for:\n%s", yaml);
  if (msg == NULL)
    return;
  CHECK_MSG(strstr(msg, where) != NULL, "expected %s in: %s", where, msg);
  CHECK_MSG(strstr(msg, what) != NULL, "expected \"%s\" in: %s", what, msg);
}

static void test_schema(void) {
  expect_error("services:\n  web:\n    image: x\n    portz: [80]\n", false, "t.yaml:4:5",
               "service \"web\": services.web has an unknown property \"portz\"");
  expect_error("servics:\n  web: {}\n", false, "t.yaml:1:1", "unknown property \"servics\"");
  expect_error("services:\n  web:\n    image: 3\n", false, "t.yaml:3:12", "must be a string");
  expect_error("services:\n  web:\n    image: x\n    depends_on:\n      db: {condition: sometime}\n",
               false, "t.yaml:5:23", "must be one of");
  expect_error("services:\n  web:\n    image: x\n    depends_on:\n      db: {required: true}\n",
               false, "t.yaml:5:11", "required property \"condition\"");
  expect_error("services:\n  web:\n    image: x\n    cap_add: [A, A]\n", false, "t.yaml:4:18",
               "duplicates item");
  expect_error("services:\n  \"bad name\":\n    image: x\n", false, "t.yaml:2:3", "invalid key");
  expect_error("services:\n  web:\n    image: x\n    volumes:\n      - type: floppy\n        "
               "target: /x\n",
               false, "t.yaml:5:15", "must be one of");
  expect_error("services:\n  web:\n    image: x\n    ports: {a: 1}\n", false, "t.yaml:4:12",
               "must be a list");
  expect_error("services:\n  web:\n    image: x\n    environment: 5\n", false, "t.yaml:4:18",
               "must be a mapping or a list");
  expect_error("services:\n  web:\n    image: x\n    cgroup: other\n", false, "t.yaml:4:13",
               "\"host\", \"private\"");
  expect_error("volumes:\n  v:\n    driver: 1.5\n", false, "t.yaml:3:13", "must be a string");
  expect_error("services:\n  web:\n    image: x\n    deploy:\n      replicas: many\n", false,
               "t.yaml:5:17", "");
  /* what is valid passes, including YAML-typed scalars */
  _cleanup_free_ char *ok =
      check("version: '3.9'\nname: p\nservices:\n  web:\n    image: x\n    ports: [80, "
            "\"81:81\", {target: 82}]\n    environment: {A: 1, B: true, C: null}\n    "
            "x-anything: {deep: [1]}\n    deploy: {replicas: 2}\nx-top: 1\n",
            true);
  CHECK_MSG(ok == NULL, "%s", ok);
}

static void test_project(void) {
  expect_error("services:\n  web:\n    command: [x]\n", true, "t.yaml:2:3",
               "neither an image nor a build");
  expect_error("services:\n  web:\n    image: x\n    networks: [back]\n", true, "t.yaml:4:16",
               "network \"back\", which is not defined");
  expect_error("services:\n  web:\n    image: x\n    volumes: [\"data:/d\"]\n", true, "t.yaml:4:15",
               "volume \"data\", which is not defined");
  expect_error("services:\n  web:\n    image: x\n    secrets: [s]\n", true, "t.yaml:4:15",
               "secret \"s\", which is not defined");
  expect_error("services:\n  web:\n    image: x\n    depends_on: [db]\n", true, "t.yaml:4:18",
               "depends on undefined service \"db\"");
  expect_error("services:\n  a:\n    image: x\n    depends_on: [b]\n  b:\n    image: x\n"
               "    depends_on: [c]\n  c:\n    image: x\n    depends_on: [a]\n",
               true, "t.yaml:2:3", "a -> b -> c -> a");
  expect_error("services:\n  a:\n    image: x\n    ports: [\"8080:80\"]\n  b:\n    image: x\n"
               "    ports: [\"127.0.0.1:8079-8081:90-92\"]\n",
               true, "t.yaml:7:13", "host port 127.0.0.1:8080/tcp, which service \"a\"");
  _cleanup_free_ char *ok = check("services:\n  a:\n    image: x\n    ports: [\"8080:80\", "
                                  "\"8080:80/udp\"]\n    depends_on:\n      gone: {condition: "
                                  "service_started, required: false}\n  b:\n    build: .\n"
                                  "    ports: [\"127.0.0.1:8081:80\", \"127.0.0.2:8081:80\"]\n",
                                  true);
  CHECK_MSG(ok == NULL, "%s", ok);
}

/* The embedded schema is the checked-in compose-spec.json. */
static void test_embedded_schema(void) {
  const char *src = getenv("STACK_SOURCE_DIR");
  if (src == NULL)
    return;
  _cleanup_free_ char *path = fs_path_join(src, "orchestrator/compose/schema/compose-spec.json");
  _cleanup_free_ char *text = NULL;
  size_t len;
  _cleanup_error_ struct stack_error *err = NULL;
  CHECK(fs_read_file(path, 0, &text, &len, &err) == 0);
  cJSON *a = cJSON_Parse(text), *b = cJSON_Parse(compose_schema_json);
  CHECK(a != NULL && b != NULL);
  CHECK_MSG(cJSON_Compare(a, b, true), "compose_schema.c is out of date; regenerate it");
  cJSON_Delete(a);
  cJSON_Delete(b);
}

int main(void) {
  test_schema();
  test_project();
  test_embedded_schema();
  TEST_DONE();
}
