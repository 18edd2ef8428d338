// module: cli
/* What a container's guest sends `cp` and `export`: the names in its tar
 * archive (checked against the entry asked for) and its /proc/mounts.
 * The first byte picks which; the rest is the text. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "orchestrator/cli/cli_guest_paths.h"
#include "runtime/util/cleanup.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  if (size == 0)
    return 0;
  char *s = malloc(size);
  memcpy(s, data + 1, size - 1);
  s[size - 1] = '\0';
  switch (data[0] % 3) {
  case 0: {
    char *r = cp_entry_rename(s, "data", "dest");
    /* what is accepted stays under the destination's name */
    if (r && strncmp(r, "dest", 4) != 0)
      abort();
    free(r);
    break;
  }
  case 1: {
    char **m = guest_mount_points(s);
    for (char **p = m; p && *p; p++)
      if ((*p)[0] != '/')
        abort();
    strv_free(m);
    break;
  }
  default: {
    struct cp_path p;
    cp_path_split(s, &p);
    cp_path_clear(&p);
  }
  }
  free(s);
  return 0;
}
