// module: builder
/* .dockerignore: the input up to the first NUL is the file, the rest are
 * paths (one a line) matched against it.  A file parses or is refused with
 * a message; matching any path never crashes. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "builder/dockerignore.h"
#include "runtime/util/error.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  const char *s = (const char *)data;
  const char *nul = memchr(s, '\0', size);
  size_t flen = nul ? (size_t)(nul - s) : size;
  struct dockerignore *di = NULL;
  struct stack_error *err = NULL;
  if (dockerignore_parse(".dockerignore", s, flen, &di, &err) < 0) {
    if (err == NULL || err->msg == NULL)
      abort();
    stack_error_free(err);
    return 0;
  }
  if (nul) {
    size_t rest = size - flen - 1;
    char *paths = malloc(rest + 1);
    memcpy(paths, nul + 1, rest);
    paths[rest] = '\0';
    for (char *p = paths, *nl; p; p = nl ? nl + 1 : NULL) {
      nl = strchr(p, '\n');
      if (nl)
        *nl = '\0';
      dockerignore_excludes(di, p);
    }
    free(paths);
  }
  dockerignore_free(di);
  return 0;
}
