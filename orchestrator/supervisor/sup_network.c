#include "sup_network.h"

#include <cjson/cJSON.h>
#include <errno.h>

#include "runtime/util/error.h"
#include "sup_net.h"
#include "sup_proto.h"

int sup_network_rm(struct supervisor *s, struct sup_conn *c, const struct sup_request *req,
                   cJSON **result, struct stack_error **err) {
  (void)c;
  (void)req;
  const char *busy = sup_net_release(s);
  if (busy)
    return stack_error_set(err, -EBUSY, "has active endpoints (name:\"%s\")", busy);
  *result = cJSON_CreateObject();
  return 0;
}
