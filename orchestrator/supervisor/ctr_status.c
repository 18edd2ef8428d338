#include "ctr_status.h"

#include <string.h>

static const char *const names[] = {"created", "running", "restarting", "exited",
                                    "dead",    "paused",  "removing"};

const char *ctr_status_name(enum ctr_status s) {
  return (unsigned)s < sizeof(names) / sizeof(names[0]) ? names[s] : "unknown";
}

int ctr_status_parse(const char *name) {
  for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++)
    if (strcmp(names[i], name) == 0)
      return (int)i;
  return -1;
}
