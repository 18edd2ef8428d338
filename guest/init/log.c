/* Guest-side messages: to the console, which is the kernel log the host
 * keeps (`stack logs --boot`), and to the host as LOG frames. */
#include <stdarg.h>
#include <stdio.h>

#include "init.h"

void init_log(struct init *in, const char *fmt, ...) {
  char buf[1024];
  va_list ap;
  va_start(ap, fmt);
  vsnprintf(buf, sizeof buf, fmt, ap);
  va_end(ap);
  fprintf(stderr, "stack-init: %s\n", buf);
  if (in != NULL && in->port >= 0)
    port_send_status(in, PROTO_LOG, 0, 0, buf);
}
