#include "service_warnings.h"

#include <string.h>

#include "orchestrator/compose/compose_model.h"
#include "runtime/util/cleanup.h"
#include "runtime/util/sbuf.h"
#include "runtime/util/xalloc.h"
#include "service_resources.h"

static void add(struct sbuf *b, const char *key) {
  if (b->len)
    sbuf_puts(b, ", ");
  sbuf_puts(b, key);
}

char *sup_unhonoured_keys(const struct compose_service *svc) {
  struct sbuf b = SBUF_INIT;
  for (char **o = svc->security_opt; o && *o; o++)
    if (!sup_security_opt_honoured(*o)) {
      _cleanup_free_ char *what = xasprintf("security_opt %s", *o);
      add(&b, what);
    }
  for (size_t i = 0; i < svc->n_volumes; i++) {
    const char *t = svc->volumes[i].type;
    if (!t || (strcmp(t, "tmpfs") != 0 && strcmp(t, "bind") != 0 && strcmp(t, "volume") != 0)) {
      add(&b, "volumes of type npipe, cluster or image");
      break;
    }
  }
  return b.len ? sbuf_steal(&b) : NULL;
}
