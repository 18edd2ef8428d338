// module: builder
/* The Dockerfile parser and the build plan: any input is parsed or refused
 * with a message; a parsed file dumps, plans, and every stage resolves or
 * fails with a message (a base config with ONBUILD triggers taken from the
 * file itself exercises the trigger path too). */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "builder/build_plan.h"
#include "builder/dockerfile.h"
#include "runtime/util/error.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  struct dockerfile *df = NULL;
  struct stack_error *err = NULL;
  if (dockerfile_parse("Dockerfile", (const char *)data, size, &df, &err) < 0) {
    if (err == NULL || err->msg == NULL)
      abort();
    stack_error_free(err);
    return 0;
  }
  free(dockerfile_dump(df));
  char *args[] = {"A=1", "http_proxy=p", NULL};
  struct build_plan_opts o = {.build_args = args};
  struct build_plan *plan = NULL;
  if (build_plan_create(df, &o, &plan, &err) < 0) {
    if (err == NULL || err->msg == NULL)
      abort();
    stack_error_free(err);
    return 0;
  }
  struct build_config prev = {0};
  for (size_t i = 0; i < plan->n_stages; i++) {
    struct build_stage_result *r = NULL;
    err = NULL;
    if (build_stage_resolve(plan, i, i > 0 ? &prev : NULL, &r, &err) < 0) {
      if (err == NULL || err->msg == NULL)
        abort();
      stack_error_free(err);
      continue;
    }
    build_config_clear(&prev);
    build_config_copy(&prev, &r->config);
    build_stage_result_free(r);
  }
  build_config_clear(&prev);
  build_plan_free(plan);
  return 0;
}
