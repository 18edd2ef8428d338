/* The name rules (compose_names.h) and the load-time checks of what a
 * container start would refuse (compose_validate_runnable.c): each error
 * names the file position and the field. */
#include <limits.h>
#include <stdlib.h>
#include <string.h>

#include "orchestrator/compose/compose_load.h"
#include "orchestrator/compose/compose_model.h"
#include "orchestrator/compose/compose_names.h"
#include "runtime/util/cleanup.h"
#include "runtime/util/error.h"
#include "runtime/util/fsutil.h"
#include "runtime/util/sbuf.h"
#include "runtime/util/xalloc.h"
#include "test.h"

static char tmp[] = "/tmp/stack-test-names-XXXXXX";

static bool ok(enum compose_name_kind k, const char *name) {
  return compose_name_rule(k, name) == NULL;
}

static void test_rules(void) {
  /* Compose: projects */
  CHECK(ok(COMPOSE_NAME_PROJECT, "web"));
  CHECK(ok(COMPOSE_NAME_PROJECT, "0_my-app"));
  CHECK(!ok(COMPOSE_NAME_PROJECT, ""));
  CHECK(!ok(COMPOSE_NAME_PROJECT, "My"));
  CHECK(!ok(COMPOSE_NAME_PROJECT, "a.b"));
  CHECK(!ok(COMPOSE_NAME_PROJECT, "-a"));
  CHECK(!ok(COMPOSE_NAME_PROJECT, "_a"));
  CHECK(!ok(COMPOSE_NAME_PROJECT, "../x"));
  /* Docker: containers and volumes have at least two characters */
  CHECK(ok(COMPOSE_NAME_CONTAINER, "Web_1.x-y"));
  CHECK(!ok(COMPOSE_NAME_CONTAINER, "a"));
  CHECK(!ok(COMPOSE_NAME_CONTAINER, ".."));
  CHECK(!ok(COMPOSE_NAME_CONTAINER, ".web"));
  CHECK(!ok(COMPOSE_NAME_CONTAINER, "../../../../../../tmp/x/victim"));
  CHECK(!ok(COMPOSE_NAME_CONTAINER, "a/b"));
  CHECK(!ok(COMPOSE_NAME_CONTAINER, "a b"));
  CHECK(!ok(COMPOSE_NAME_CONTAINER, "a,b"));
  CHECK(!ok(COMPOSE_NAME_CONTAINER, "/web")); /* the file's leading '/' is dropped before */
  char name[300];
  memset(name, 'a', sizeof(name));
  name[COMPOSE_CONTAINER_NAME_MAX] = '\0';
  CHECK(ok(COMPOSE_NAME_CONTAINER, name));
  name[COMPOSE_CONTAINER_NAME_MAX] = 'a';
  name[COMPOSE_CONTAINER_NAME_MAX + 1] = '\0';
  CHECK(!ok(COMPOSE_NAME_CONTAINER, name));
  CHECK(ok(COMPOSE_NAME_VOLUME, "proj_data"));
  CHECK(ok(COMPOSE_NAME_VOLUME, "a.."));
  CHECK(!ok(COMPOSE_NAME_VOLUME, "../.."));
  CHECK(!ok(COMPOSE_NAME_VOLUME, "."));
  CHECK(!ok(COMPOSE_NAME_VOLUME, "x"));
  memset(name, 'a', sizeof(name));
  name[NAME_MAX] = '\0';
  CHECK(ok(COMPOSE_NAME_VOLUME, name));
  name[NAME_MAX] = 'a';
  name[NAME_MAX + 1] = '\0';
  CHECK(!ok(COMPOSE_NAME_VOLUME, name));
  /* Docker: networks only must not be blank */
  CHECK(ok(COMPOSE_NAME_NETWORK, "my net/1"));
  CHECK(!ok(COMPOSE_NAME_NETWORK, ""));
  CHECK(!ok(COMPOSE_NAME_NETWORK, " \t"));
  /* Docker: secrets and configs */
  CHECK(ok(COMPOSE_NAME_SECRET, "s"));
  CHECK(ok(COMPOSE_NAME_CONFIG, "my.conf-1"));
  CHECK(!ok(COMPOSE_NAME_SECRET, "s_"));
  CHECK(!ok(COMPOSE_NAME_SECRET, "../s"));
  CHECK(!ok(COMPOSE_NAME_CONFIG, ""));

  _cleanup_error_ struct stack_error *e = NULL;
  CHECK_INTEQ(compose_name_check(COMPOSE_NAME_VOLUME, "../..", &e), -22);
  CHECK(e && strstr(e->msg, "invalid volume name \"../..\"") && strstr(e->msg, "Docker"));
}

/* Loads text as compose.yaml of a fresh directory; the error (or NULL). */
static char *load(const char *text) {
  static int n;
  _cleanup_free_ char *dir = xasprintf("%s/p%d", tmp, n++);
  _cleanup_free_ char *file = xasprintf("%s/compose.yaml", dir);
  fs_mkdir_p(dir, 0755, NULL);
  if (fs_write_file_atomic(file, text, strlen(text), 0644, NULL) < 0)
    abort();
  static char *no_env[] = {NULL};
  struct compose_load_opts o = {.working_dir = dir, .environ = no_env};
  _cleanup_compose_project_ struct compose_project *p = NULL;
  _cleanup_error_ struct stack_error *e = NULL;
  if (compose_load(&o, &p, &e) == 0)
    return NULL;
  /* the position without the temporary directory */
  const char *at = strstr(e->msg, "compose.yaml");
  return xstrdup(at ? at : e->msg);
}

#define CHECK_LOAD_ERR(text, ...)                                                                 \
  do {                                                                                             \
    _cleanup_free_ char *_m = load(text);                                                          \
    const char *_want[] = {__VA_ARGS__, NULL};                                                     \
    CHECK_MSG(_m != NULL, "loaded: %s", text);                                                     \
    for (const char **_w = _want; _m && *_w; _w++)                                                 \
      CHECK_MSG(strstr(_m, *_w) != NULL, "want \"%s\" in \"%s\"", *_w, _m);                      \
  } while (0)

#define SVC "name: p\nservices:\n  a:\n    image: busybox\n"

static void test_load_checks(void) {
  CHECK_LOAD_ERR(SVC "    container_name: ../../../../../../tmp/x/victim\n",
                 "compose.yaml:5:21: services.a.container_name: invalid container name "
                 "\"../../../../../../tmp/x/victim\"");
  /* the schema's pattern is not anchored: it lets these through */
  CHECK_LOAD_ERR(SVC "    container_name: -web\n", "services.a.container_name", "2 to 200");
  CHECK_LOAD_ERR(SVC "    container_name: web/../..\n", "services.a.container_name");
  /* Docker's leading '/' is fine, and dropped */
  _cleanup_free_ char *slash = load(SVC "    container_name: /web-1\n");
  CHECK_MSG(slash == NULL, "%s", slash);

  CHECK_LOAD_ERR(SVC "    volumes: [data:/d]\nvolumes:\n  data:\n    name: ../..\n",
                 "compose.yaml:8:11: volumes.data.name: invalid volume name \"../..\"");
  CHECK_LOAD_ERR(SVC "    volumes: [_x:/d]\nvolumes:\n  _x:\n    external: true\n",
                 "compose.yaml:7:3: volumes._x: invalid volume name \"_x\"");
  CHECK_LOAD_ERR(SVC "networks:\n  n:\n    name: \" \"\n", "networks.n.name",
                 "not be empty or blank");
  CHECK_LOAD_ERR(SVC "    secrets: [s]\nsecrets:\n  s:\n    file: ./s\n    name: ../s\n",
                 "compose.yaml:9:11: secrets.s.name: invalid secret name \"../s\"");
  CHECK_LOAD_ERR(SVC "configs:\n  c:\n    content: x\n    name: \"a/b\"\n", "configs.c.name",
                 "invalid config name");
  /* a key that is a valid default name stays fine */
  _cleanup_free_ char *dots = load(SVC "    volumes: [..:/d]\nvolumes:\n  ..: {}\n");
  CHECK_MSG(dots == NULL, "%s", dots);

  /* targets */
  CHECK_LOAD_ERR(SVC "    volumes: [\"data:..\"]\nvolumes:\n  data: {}\n",
                 "compose.yaml:5:", "services.a.volumes[0].target", "not an absolute path");
  CHECK_LOAD_ERR(SVC "    volumes: [\"/h:/\"]\n", "services.a.volumes[0].target", "not / itself");
  CHECK_LOAD_ERR(SVC "    tmpfs: [\"run:size=1m\"]\n", "services.a.tmpfs[0]");
  CHECK_LOAD_ERR(SVC "    working_dir: app\n", "services.a.working_dir");
  CHECK_LOAD_ERR(SVC "    secrets: [{source: s, target: ../../etc/shadow}]\nsecrets:\n  s:\n"
                     "    file: ./s\n",
                 "services.a.secrets[0]", "/run/secrets/../../etc/shadow");
  CHECK_LOAD_ERR(SVC "    configs: [..]\nconfigs:\n  ..:\n    content: x\n",
                 "services.a.configs[0]");
  _cleanup_free_ char *abs = load(SVC "    secrets: [{source: s, target: /etc/s}]\nsecrets:\n"
                                      "  s:\n    file: ./s\n");
  CHECK_MSG(abs == NULL, "%s", abs);

  /* sizes */
  struct sbuf big = SBUF_INIT;
  sbuf_puts(&big, SVC "    environment:\n      X: ");
  for (int i = 0; i < 140000; i++)
    sbuf_putc(&big, 'x');
  sbuf_puts(&big, "\n");
  CHECK_LOAD_ERR(big.data, "compose.yaml:6:10: services.a.environment.X: 140002 bytes");
  sbuf_free(&big);
  sbuf_puts(&big, SVC "    environment:\n");
  for (int v = 0; v < 6; v++) {
    sbuf_printf(&big, "      V%d: ", v);
    for (int i = 0; i < 100000; i++)
      sbuf_putc(&big, 'x');
    sbuf_puts(&big, "\n");
  }
  CHECK_LOAD_ERR(big.data, "services.a: the command, entrypoint and environment take");
  sbuf_free(&big);

  /* a service name too long for its containers' names */
  sbuf_puts(&big, "name: p\nservices:\n  ");
  for (int i = 0; i < 190; i++)
    sbuf_putc(&big, 's');
  sbuf_puts(&big, ":\n    image: busybox\n");
  CHECK_LOAD_ERR(big.data, "compose.yaml:3:3:", "the service name is too long");
  sbuf_free(&big);
}

int main(void) {
  if (mkdtemp(tmp) == NULL)
    return 1;
  test_rules();
  test_load_checks();
  fs_rm_rf(tmp, NULL);
  TEST_DONE();
}
