// module: net
/* The network state file (what `down` deletes after a crash) on arbitrary
 * bytes: it must be refused or loaded, and a loaded one must only name
 * stack's own interfaces and table. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "net/net_state.h"
#include "runtime/util/error.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  int fd = memfd_create("state", 0);
  if (fd < 0)
    return 0;
  if (size > 0 && write(fd, data, size) != (ssize_t)size) {
    close(fd);
    return 0;
  }
  char path[64];
  snprintf(path, sizeof(path), "/proc/self/fd/%d", fd);
  struct net_state st;
  bool exists = false;
  struct stack_error *err = NULL;
  if (net_state_load(path, &st, &exists, &err) == 0 && exists) {
    for (size_t i = 0; st.bridges && st.bridges[i]; i++)
      if (strncmp(st.bridges[i], "stk", 3) != 0 || strlen(st.bridges[i]) > 15)
        abort();
    for (size_t i = 0; st.taps && st.taps[i]; i++)
      if (strncmp(st.taps[i], "stk", 3) != 0 || strlen(st.taps[i]) > 15)
        abort();
    if (st.table && strncmp(st.table, "stack_", 6) != 0)
      abort();
    net_state_free(&st);
  }
  stack_error_free(err);
  close(fd);
  return 0;
}
