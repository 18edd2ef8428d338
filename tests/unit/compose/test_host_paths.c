/* Host paths a bind mount may not share without x-stack-allow-host-paths
 * (orchestrator/compose/compose_host_paths.h), and the refusal at load. */
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "orchestrator/compose/compose_host_paths.h"
#include "orchestrator/compose/compose_normalize.h"
#include "orchestrator/compose/compose_schema.h"
#include "orchestrator/compose/compose_validate.h"
#include "orchestrator/compose/compose_yaml.h"
#include "runtime/util/cleanup.h"
#include "runtime/util/error.h"
#include "runtime/util/fsutil.h"
#include "test.h"

static const char *const dirs[] = {"/var/lib/stack", "/var/cache/stack", "/run/stack", NULL};

/* The reason for path, or "" when it may be shared. */
static char *why(const char *path) {
  char *w = compose_host_path_sensitive(path, dirs);
  return w ? w : strdup("");
}

static void expect(const char *path, const char *want) {
  _cleanup_free_ char *w = why(path);
  CHECK_MSG(strcmp(w, want) == 0, "%s: \"%s\", want \"%s\"", path, w, want);
}

static void test_rules(void) {
  expect("/", "the host's root file system");
  expect("//", "the host's root file system");
  expect("/etc", "the host's configuration (/etc)");
  expect("/etc/", "the host's configuration (/etc)");
  expect("/usr/../etc", "the host's configuration (/etc)");
  expect("/proc", "the host kernel's interface /proc");
  expect("/proc/sys/kernel", "the host kernel's interface /proc");
  expect("/sys/fs/cgroup", "the host kernel's interface /sys");
  expect("/dev/sda", "the host kernel's interface /dev");
  expect("/var/run/docker.sock", "the Docker daemon's socket");
  expect("/run/docker.sock", "the Docker daemon's socket");
  expect("/var/run", "the Docker daemon's socket (/var/run/docker.sock)");
  /* stack's own state, what lies in it, and what holds it */
  expect("/var/lib/stack", "stack's own state (/var/lib/stack)");
  expect("/var/lib/stack/volumes/other_db/_data", "stack's own state (/var/lib/stack)");
  expect("/var/lib", "stack's own state (/var/lib/stack)");
  expect("/var", "the Docker daemon's socket (/var/run/docker.sock)");
  expect("/var/cache/stack/kernel", "stack's own state (/var/cache/stack)");
  expect("/run", "the Docker daemon's socket (/run/docker.sock)");
  /* what a project shares every day */
  expect("/etc/localtime", "");
  expect("/etc/nginx", "");
  expect("/home/user/app/src", "");
  expect("/var/lib/stackish", "");
  expect("/devices", "");
  expect("/srv/data", "");
  expect("relative/path", "");
}

/* A symbolic link to a sensitive path is that path. */
static void test_symlink(void) {
  char dir[] = "/tmp/stack-hostpaths.XXXXXX";
  CHECK(mkdtemp(dir) != NULL);
  _cleanup_free_ char *link = fs_path_join(dir, "etc-link");
  CHECK(symlink("/etc", link) == 0);
  _cleanup_free_ char *w = why(link);
  CHECK_STREQ(w, "the host's configuration (/etc)");
  fs_rm_rf(dir, NULL);
}

static char *check(const char *yaml) {
  _cleanup_error_ struct stack_error *err = NULL;
  _cleanup_cnode_ struct cnode *t = NULL;
  if (compose_yaml_parse(yaml, strlen(yaml), "t.yaml", &t, &err) < 0 ||
      compose_validate_schema(t, &err) < 0 || compose_canonical(t, &err) < 0 ||
      compose_validate_project(t, &err) < 0)
    return strdup(err->msg);
  return NULL;
}

static void test_validate(void) {
  _cleanup_free_ char *e1 = check("services:\n  web:\n    image: x\n    volumes:\n"
                                  "      - ./src:/src\n      - /:/host\n");
  CHECK_MSG(e1 && strstr(e1, "t.yaml:6:9: service \"web\": a bind mount of / shares the host's "
                             "root file system with the VM: root in the guest could read it and "
                             "change it on the host; stack refuses it unless the service sets "
                             "\"x-stack-allow-host-paths: true\""),
            "%s", e1 ? e1 : "(accepted)");
  _cleanup_free_ char *e2 = check("services:\n  web:\n    image: x\n    volumes:\n"
                                  "      - type: bind\n        source: /etc\n        target: /h\n"
                                  "        read_only: true\n");
  CHECK_MSG(e2 && strstr(e2, "t.yaml:6:17:") && strstr(e2, "could read it; stack refuses"), "%s",
            e2 ? e2 : "(accepted)");
  /* the opt-in, on the service or the project */
  _cleanup_free_ char *ok1 = check("services:\n  web:\n    image: x\n"
                                   "    x-stack-allow-host-paths: true\n    volumes: [/:/host]\n");
  CHECK_MSG(ok1 == NULL, "%s", ok1);
  _cleanup_free_ char *ok2 = check("x-stack-allow-host-paths: true\nservices:\n  web:\n"
                                   "    image: x\n    volumes: [/etc:/h:ro]\n");
  CHECK_MSG(ok2 == NULL, "%s", ok2);
  _cleanup_free_ char *no = check("x-stack-allow-host-paths: false\nservices:\n  web:\n"
                                  "    image: x\n    volumes: [/etc:/h:ro]\n");
  CHECK(no != NULL);
  /* named volumes and ordinary paths are not concerned */
  _cleanup_free_ char *ok3 = check("services:\n  web:\n    image: x\n    volumes: [etc:/etc, "
                                   "/etc/localtime:/etc/localtime:ro]\nvolumes:\n  etc: {}\n");
  CHECK_MSG(ok3 == NULL, "%s", ok3);
}

int main(void) {
  test_rules();
  test_symlink();
  test_validate();
  TEST_DONE();
}
