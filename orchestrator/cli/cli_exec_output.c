#include "cli_exec_output.h"

#include <cjson/cJSON.h>
#include <stdlib.h>
#include <unistd.h>

#include "runtime/util/base64.h"

unsigned char *cli_exec_output_decode(const cJSON *ev, int *fd, size_t *n) {
  const char *b64 = cJSON_GetStringValue(cJSON_GetObjectItem(ev, "data"));
  *fd = cJSON_GetNumberValue(cJSON_GetObjectItem(ev, "fd")) == 2 ? 2 : 1;
  *n = 0;
  return b64 ? b64_decode(b64, n) : NULL;
}

int cli_exec_output_write(const cJSON *ev, void *unused) {
  (void)unused;
  int fd;
  size_t n = 0;
  unsigned char *buf = cli_exec_output_decode(ev, &fd, &n);
  for (size_t off = 0; buf && off < n;) {
    ssize_t w = write(fd, buf + off, n - off);
    if (w <= 0)
      break;
    off += (size_t)w;
  }
  free(buf);
  return 0;
}
