#include "sup_attach.h"

#include <cjson/cJSON.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "orchestrator/compose/compose_model.h"
#include "runtime/util/base64.h"
#include "runtime/util/cleanup.h"
#include "runtime/util/error.h"
#include "runtime/vm/container.h"
#include "sup_ctrs.h"
#include "sup_proto.h"

int sup_attach(struct supervisor *s, struct sup_conn *c, const struct sup_request *req,
               cJSON **result, struct stack_error **err) {
  (void)c;
  const char *service = sup_param_str(req->params, "service");
  const cJSON *index = cJSON_GetObjectItemCaseSensitive(req->params, "index");
  if (service == NULL)
    return stack_error_set(err, -EINVAL, "attach needs params.service");
  unsigned want =
      cJSON_IsNumber(index) && index->valuedouble >= 1 ? (unsigned)index->valuedouble : 1;
  const struct ps_container *r = NULL;
  for (size_t i = 0; i < s->state->n_containers && !r; i++)
    if (strcmp(s->state->containers[i].service, service) == 0 &&
        s->state->containers[i].number == want)
      r = &s->state->containers[i];
  struct sup_ctr *ctr = r ? sup_ctr_find(s, r->name) : NULL;
  if (ctr == NULL || ctr->rt == NULL || !ctr->ran)
    return stack_error_set(err, -ENOENT, "service \"%s\" is not running", service);
  const struct compose_service *svc = s->project ? compose_project_service(s->project, service)
                                                 : NULL;
  bool open = svc && svc->stdin_open;
  const char *b64 = sup_param_str(req->params, "data");
  size_t n = 0;
  _cleanup_free_ unsigned char *buf = b64 ? b64_decode(b64, &n) : NULL;
  if (open && n > 0)
    container_write_stdin(ctr->rt, buf, n);
  *result = cJSON_CreateObject();
  cJSON_AddStringToObject(*result, "name", r->name);
  cJSON_AddBoolToObject(*result, "stdin_open", open);
  return 0;
}
