// module: supervisor
/* The project state file is read back after crashes and may be damaged or
 * edited: parsing any bytes must fail cleanly or give a state that formats
 * and parses again to the same text. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "orchestrator/supervisor/project_state.h"
#include "runtime/util/error.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  struct project_state *s = NULL;
  struct stack_error *err = NULL;
  if (project_state_parse((const char *)data, size, "fuzz", &s, &err) < 0) {
    stack_error_free(err);
    return 0;
  }
  char *text = project_state_format(s);
  struct project_state *s2 = NULL;
  if (project_state_parse(text, strlen(text), "fuzz", &s2, &err) < 0)
    abort(); /* what we write we must read */
  char *text2 = project_state_format(s2);
  if (strcmp(text, text2) != 0)
    abort();
  free(text);
  free(text2);
  project_state_free(s);
  project_state_free(s2);
  return 0;
}
