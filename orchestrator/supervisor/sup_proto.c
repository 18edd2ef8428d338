#include "sup_proto.h"

#include <cjson/cJSON.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "runtime/util/cleanup.h"
#include "runtime/util/error.h"
#include "runtime/util/xalloc.h"

int sup_linebuf_feed(struct sup_linebuf *b, const char *data, size_t n) {
  if (n == 0)
    return 0;
  b->data = xgrow(b->data, &b->cap, b->len + n + 1, 1);
  memcpy(b->data + b->len, data, n);
  b->len += n;
  b->data[b->len] = '\0';
  /* Only the unterminated tail can overflow: complete lines are taken
   * before the next read. */
  char *nl = memchr(b->data + b->scanned, '\n', b->len - b->scanned);
  if (nl == NULL) {
    b->scanned = b->len;
    if (b->len > SUP_MAX_LINE)
      return -EMSGSIZE;
  } else if ((size_t)(nl - b->data) > SUP_MAX_LINE) {
    return -EMSGSIZE;
  }
  return 0;
}

int sup_linebuf_next(struct sup_linebuf *b, char **line, size_t *len) {
  if (b->len == 0)
    return 0;
  char *nl = memchr(b->data, '\n', b->len);
  if (nl == NULL) {
    b->scanned = b->len;
    return 0;
  }
  size_t n = (size_t)(nl - b->data);
  if (n > SUP_MAX_LINE)
    return -EMSGSIZE;
  *line = xstrndup(b->data, n);
  if (len)
    *len = n;
  memmove(b->data, nl + 1, b->len - n - 1);
  b->len -= n + 1;
  b->data[b->len] = '\0';
  b->scanned = 0;
  return 1;
}

void sup_linebuf_free(struct sup_linebuf *b) {
  free(b->data);
  *b = (struct sup_linebuf){0};
}

int sup_request_parse(const char *line, size_t len, struct sup_request *req,
                      struct stack_error **err) {
  *req = (struct sup_request){0};
  req->root = cJSON_ParseWithLength(line, len);
  if (req->root == NULL)
    return stack_error_set(err, -EBADMSG, "request is not valid JSON");
  if (!cJSON_IsObject(req->root))
    return stack_error_set(err, -EBADMSG, "request must be a JSON object");
  const cJSON *id = cJSON_GetObjectItemCaseSensitive(req->root, "id");
  if (id != NULL) {
    if (!cJSON_IsNumber(id) && !cJSON_IsString(id))
      return stack_error_set(err, -EBADMSG, "request id must be a number or a string");
    req->id = id;
  }
  const cJSON *m = cJSON_GetObjectItemCaseSensitive(req->root, "method");
  if (!cJSON_IsString(m) || m->valuestring == NULL || *m->valuestring == '\0')
    return stack_error_set(err, -EBADMSG, "request has no \"method\" string");
  req->method = m->valuestring;
  const cJSON *p = cJSON_GetObjectItemCaseSensitive(req->root, "params");
  if (p != NULL && !cJSON_IsNull(p)) {
    if (!cJSON_IsObject(p))
      return stack_error_set(err, -EBADMSG, "request params must be an object");
    req->params = p;
  }
  return 0;
}

void sup_request_clear(struct sup_request *req) {
  cJSON_Delete(req->root);
  *req = (struct sup_request){0};
}

static char *finish(cJSON *o) {
  char *s = cJSON_PrintUnformatted(o);
  cJSON_Delete(o);
  if (s == NULL)
    abort(); /* cJSON fails only when out of memory */
  char *line = xasprintf("%s\n", s);
  free(s);
  return line;
}

static cJSON *with_id(const cJSON *id) {
  cJSON *o = cJSON_CreateObject();
  cJSON_AddItemToObject(o, "id", id ? cJSON_Duplicate(id, true) : cJSON_CreateNull());
  return o;
}

char *sup_format_result(const cJSON *id, cJSON *result) {
  cJSON *o = with_id(id);
  cJSON_AddItemToObject(o, "result", result ? result : cJSON_CreateObject());
  return finish(o);
}

char *sup_format_error(const cJSON *id, int code, const char *message) {
  cJSON *o = with_id(id);
  cJSON *e = cJSON_AddObjectToObject(o, "error");
  cJSON_AddNumberToObject(e, "code", code);
  cJSON_AddStringToObject(e, "message", message);
  return finish(o);
}

char *sup_format_event(const cJSON *id, cJSON *event) {
  cJSON *o = with_id(id);
  cJSON_AddItemToObject(o, "event", event ? event : cJSON_CreateObject());
  return finish(o);
}

char *sup_format_request(long id, const char *method, cJSON *params) {
  cJSON *o = cJSON_CreateObject();
  cJSON_AddNumberToObject(o, "id", (double)id);
  cJSON_AddStringToObject(o, "method", method);
  if (params)
    cJSON_AddItemToObject(o, "params", params);
  return finish(o);
}

int sup_parse_reply(const char *line, size_t len, long id, cJSON **result, cJSON **event,
                    struct stack_error **err) {
  cJSON *root = cJSON_ParseWithLength(line, len);
  if (!cJSON_IsObject(root)) {
    cJSON_Delete(root);
    return stack_error_set(err, -EPROTO, "the supervisor sent a malformed reply");
  }
  const cJSON *rid = cJSON_GetObjectItemCaseSensitive(root, "id");
  int r;
  if (!cJSON_IsNumber(rid) || rid->valuedouble != (double)id) {
    r = stack_error_set(err, -EPROTO, "the supervisor answered another request");
  } else if (cJSON_HasObjectItem(root, "result")) {
    *result = cJSON_DetachItemFromObjectCaseSensitive(root, "result");
    r = 0;
  } else if (cJSON_HasObjectItem(root, "event")) {
    *event = cJSON_DetachItemFromObjectCaseSensitive(root, "event");
    r = 1;
  } else {
    const cJSON *e = cJSON_GetObjectItemCaseSensitive(root, "error");
    const cJSON *code = cJSON_GetObjectItemCaseSensitive(e, "code");
    const cJSON *msg = cJSON_GetObjectItemCaseSensitive(e, "message");
    int c = cJSON_IsNumber(code) && code->valuedouble < 0 && code->valuedouble > -4096
                ? (int)code->valuedouble
                : -EPROTO;
    r = stack_error_set(err, c, "%s",
                        cJSON_IsString(msg) ? msg->valuestring
                                            : "the supervisor sent a malformed error");
  }
  cJSON_Delete(root);
  return r;
}

const char *sup_param_str(const cJSON *params, const char *key) {
  return cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(params, key));
}

bool sup_param_true(const cJSON *params, const char *key) {
  return cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(params, key));
}

int sup_param_strv(const cJSON *params, const char *key, bool keep_empty, char ***out,
                   struct stack_error **err) {
  *out = NULL;
  const cJSON *a = cJSON_GetObjectItemCaseSensitive(params, key);
  if (a == NULL || cJSON_IsNull(a))
    return 0;
  if (!cJSON_IsArray(a))
    return stack_error_set(err, -EINVAL, "params.%s must be a list of strings", key);
  _cleanup_strv_ char **v = xcalloc((size_t)cJSON_GetArraySize(a) + 1, sizeof(char *));
  size_t n = 0;
  const cJSON *x;
  cJSON_ArrayForEach(x, a) {
    if (!cJSON_IsString(x))
      return stack_error_set(err, -EINVAL, "params.%s must be a list of strings", key);
    v[n++] = xstrdup(x->valuestring);
  }
  if (n || keep_empty)
    *out = steal_pointer(&v);
  return 0;
}
