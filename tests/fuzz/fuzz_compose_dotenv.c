// module: compose
/* .env files (and --env-file) are user data: parse or fail cleanly. */
#include <stddef.h>
#include <stdint.h>

#include "orchestrator/compose/compose_dotenv.h"
#include "runtime/util/error.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  struct compose_env os = COMPOSE_ENV_INIT, out = COMPOSE_ENV_INIT;
  compose_env_set(&os, "HOME", "/root");
  struct stack_error *err = NULL;
  compose_dotenv_parse((const char *)data, size, "fuzz.env", compose_env_lookup, &os, &out, &err);
  stack_error_free(err);
  compose_env_free(&out);
  compose_env_free(&os);
  return 0;
}
