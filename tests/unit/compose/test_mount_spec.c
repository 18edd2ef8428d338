/* `run -v` specs read as a Compose file's short volume syntax: binds with
 * relative sources made absolute, named and anonymous volumes, options,
 * and errors that name the spec, not a generated file. */
#include <string.h>

#include "orchestrator/compose/compose_model.h"
#include "orchestrator/compose/compose_mount_spec.h"
#include "runtime/util/cleanup.h"
#include "runtime/util/error.h"
#include "test.h"

static void test_specs(void) {
  char *specs[] = {"./src:/app/src:ro", "cache:/cache:nocopy", "/anon", "~/x:/x",
                   "/abs/${Y}:/y"};
  _cleanup_compose_project_ struct compose_project *p = NULL;
  _cleanup_error_ struct stack_error *err = NULL;
  CHECK(compose_mount_specs(specs, 5, "/base/dir", &p, &err) == 0);
  if (p == NULL)
    return;
  CHECK_INTEQ(p->n_services, 1);
  const struct compose_service *s = &p->services[0];
  CHECK_INTEQ(s->n_volumes, 5);
  CHECK_STREQ(s->volumes[0].type, "bind");
  CHECK_STREQ(s->volumes[0].source, "/base/dir/src");
  CHECK_STREQ(s->volumes[0].target, "/app/src");
  CHECK(s->volumes[0].read_only);
  CHECK_STREQ(s->volumes[1].type, "volume");
  CHECK_STREQ(s->volumes[1].source, "cache");
  CHECK(s->volumes[1].volume_nocopy);
  CHECK(!s->volumes[1].read_only);
  CHECK_STREQ(s->volumes[2].type, "volume");
  CHECK(s->volumes[2].source == NULL || s->volumes[2].source[0] == '\0');
  CHECK_STREQ(s->volumes[2].target, "/anon");
  CHECK_STREQ(s->volumes[3].type, "bind");
  CHECK(s->volumes[3].source[0] == '/'); /* ~ is $HOME */
  /* no interpolation: a spec is taken as written */
  CHECK_STREQ(s->volumes[4].source, "/abs/${Y}");
}

static void test_errors(void) {
  char *bad[] = {"bad::x"};
  _cleanup_compose_project_ struct compose_project *p = NULL;
  _cleanup_error_ struct stack_error *err = NULL;
  CHECK(compose_mount_specs(bad, 1, "/w", &p, &err) < 0);
  CHECK(p == NULL);
  CHECK(err && strcmp(err->msg, "-v/--volume: invalid volume \"bad::x\": empty section between "
                                "colons") == 0);
}

int main(void) {
  test_specs();
  test_errors();
  TEST_DONE();
}
