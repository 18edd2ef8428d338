#include "cli_exec_stream.h"

#include <cjson/cJSON.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "cli_exec_output.h"
#include "orchestrator/supervisor/sup_client.h"
#include "orchestrator/supervisor/sup_proto.h"
#include "runtime/util/base64.h"
#include "runtime/util/cleanup.h"
#include "runtime/util/error.h"
#include "runtime/util/fdio.h"
#include "runtime/util/xalloc.h"

#define STDERR_KEEP 4096
/* stdin goes out in chunks the guest takes in one frame */
#define STDIN_CHUNK 24576

int cli_exec_stream_start(struct cli_exec_stream *x, struct sup_client *client,
                          const char *service, unsigned index, const char *const *argv,
                          bool stdin, struct stack_error **err) {
  *x = (struct cli_exec_stream){.client = client, .err = SBUF_INIT};
  cJSON *params = cJSON_CreateObject();
  cJSON_AddStringToObject(params, "service", service);
  cJSON_AddNumberToObject(params, "index", index);
  cJSON_AddStringToObject(params, "user", "0:0");
  cJSON_AddBoolToObject(params, "interactive", stdin);
  cJSON_AddBoolToObject(params, "tty", false);
  cJSON *a = cJSON_AddArrayToObject(params, "argv");
  for (; *argv; argv++)
    cJSON_AddItemToArray(a, cJSON_CreateString(*argv));
  return sup_client_send(client, "exec", params, err);
}

/* 1 stops sup_client_resume() at a stdout chunk; stderr is kept. */
static int on_event(const cJSON *ev, void *ctx) {
  struct cli_exec_stream *x = ctx;
  int fd;
  size_t n;
  unsigned char *p = cli_exec_output_decode(ev, &fd, &n);
  if (p == NULL)
    return 0;
  if (fd == 2) {
    if (x->err.len < STDERR_KEEP)
      sbuf_append(&x->err, p, n < STDERR_KEEP - x->err.len ? n : STDERR_KEEP - x->err.len);
    free(p);
    return 0;
  }
  free(x->chunk);
  x->chunk = p;
  x->n = n;
  return 1;
}

int cli_exec_stream_read(struct cli_exec_stream *x, struct stack_error **err) {
  free(x->chunk);
  x->chunk = NULL;
  x->n = 0;
  if (x->done)
    return 0;
  cJSON *res = NULL;
  int r = sup_client_resume(x->client, on_event, x, &res, err);
  if (r == 1)
    return 1;
  if (r < 0)
    return r;
  x->done = true;
  x->exit_code = (int)cJSON_GetNumberValue(cJSON_GetObjectItem(res, "exit_code"));
  const char *why = cJSON_GetStringValue(cJSON_GetObjectItem(res, "error"));
  if (why)
    x->error = xstrdup(why);
  cJSON_Delete(res);
  return 0;
}

int cli_exec_stream_write(struct cli_exec_stream *x, const void *p, size_t n,
                          struct stack_error **err) {
  const unsigned char *b = p;
  do {
    size_t k = n < STDIN_CHUNK ? n : STDIN_CHUNK;
    cJSON *params = cJSON_CreateObject();
    if (k > 0) {
      _cleanup_free_ char *b64 = b64_encode(b, k);
      cJSON_AddStringToObject(params, "data", b64);
    } else {
      cJSON_AddBoolToObject(params, "eof", true);
    }
    /* a notification: it gets no reply */
    _cleanup_free_ char *line = sup_format_request(0, "exec_stdin", params);
    if (fd_write_all(sup_client_fd(x->client), line, strlen(line)) < 0)
      return stack_error_errno(err, -errno, "the supervisor closed the connection");
    b += k;
    n -= k;
  } while (n > 0);
  return 0;
}

int cli_exec_stream_wait(struct cli_exec_stream *x, struct stack_error **err) {
  int r;
  while ((r = cli_exec_stream_read(x, err)) > 0)
    ;
  return r;
}

void cli_exec_stream_clear(struct cli_exec_stream *x) {
  free(x->chunk);
  free(x->error);
  sbuf_free(&x->err);
  *x = (struct cli_exec_stream){0};
}

int cli_exec_stream_run(struct sup_client *client, const char *service, unsigned index,
                        const char *const *argv, int *code, struct sbuf *out, size_t max,
                        struct stack_error **err) {
  struct cli_exec_stream x;
  int r = cli_exec_stream_start(&x, client, service, index, argv, false, err);
  while (r == 0 && (r = cli_exec_stream_read(&x, err)) > 0) {
    if (out && out->len < max)
      sbuf_append(out, x.chunk, x.n < max - out->len ? x.n : max - out->len);
    r = 0;
  }
  if (r == 0 && x.error)
    r = stack_error_set(err, -EIO, "%s", x.error);
  *code = x.exit_code;
  cli_exec_stream_clear(&x);
  return r;
}
