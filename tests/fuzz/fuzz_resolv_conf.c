// module: net
/* The guest's resolv.conf made from an arbitrary host resolv.conf. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "net/resolv_conf.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  char *text = malloc(size + 1);
  if (text == NULL)
    return 0;
  memcpy(text, data, size);
  text[size] = '\0';
  char *out = resolv_conf_for_guest(text, NULL, NULL, NULL);
  /* every line is one of ours */
  for (char *l = out; l && *l;) {
    if (strncmp(l, "nameserver ", 11) != 0 && strncmp(l, "search ", 7) != 0 &&
        strncmp(l, "options ", 8) != 0)
      abort();
    char *nl = strchr(l, '\n');
    if (nl == NULL)
      abort();
    l = nl + 1;
  }
  free(out);
  const char *dns[] = {"10.0.0.1", NULL};
  free(resolv_conf_for_guest(text, dns, NULL, NULL));
  free(text);
  return 0;
}
