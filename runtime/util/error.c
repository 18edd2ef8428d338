#include "error.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "xalloc.h"

static int error_vset(struct stack_error **err, int code, const char *suffix, const char *fmt,
                      va_list ap) {
  if (err == NULL)
    return code;
  char *msg = xvasprintf(fmt, ap);
  if (suffix != NULL) {
    char *full = xasprintf("%s: %s", msg, suffix);
    free(msg);
    msg = full;
  }
  stack_error_free(*err);
  struct stack_error *e = xmalloc(sizeof(*e));
  e->code = code;
  e->msg = msg;
  *err = e;
  return code;
}

int stack_error_set(struct stack_error **err, int code, const char *fmt, ...) {
  va_list ap;
  va_start(ap, fmt);
  int r = error_vset(err, code, NULL, fmt, ap);
  va_end(ap);
  return r;
}

int stack_error_errno(struct stack_error **err, int code, const char *fmt, ...) {
  va_list ap;
  va_start(ap, fmt);
  int r = error_vset(err, code, strerror(code < 0 ? -code : code), fmt, ap);
  va_end(ap);
  return r;
}

int stack_error_prefix(struct stack_error **err, const char *fmt, ...) {
  if (err == NULL || *err == NULL)
    return -EINVAL;
  va_list ap;
  va_start(ap, fmt);
  char *ctx = xvasprintf(fmt, ap);
  va_end(ap);
  char *msg = xasprintf("%s: %s", ctx, (*err)->msg);
  free(ctx);
  free((*err)->msg);
  (*err)->msg = msg;
  return (*err)->code;
}

void stack_error_free(struct stack_error *e) {
  if (e == NULL)
    return;
  free(e->msg);
  free(e);
}

void stack_error_freep(struct stack_error **e) {
  stack_error_free(*e);
  *e = NULL;
}

void stack_error_print(const struct stack_error *e) {
  if (e != NULL)
    fprintf(stderr, "stack: %s\n", e->msg);
}
