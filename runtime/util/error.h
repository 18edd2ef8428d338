/* Errors that carry a human-readable message with context.
 *
 * Functions that can fail return 0 or a negative errno-style code and take a
 * trailing `struct stack_error **err`.  On failure they fill *err (if err is
 * not NULL) with a message that says what went wrong and, where a user can fix
 * it, what to do.  Callers add context with stack_error_prefix().
 */
#ifndef STACK_UTIL_ERROR_H
#define STACK_UTIL_ERROR_H

#include <stdarg.h>

struct stack_error {
  int code;  /* negative errno-style code */
  char *msg; /* owned, never NULL */
};

/* Sets *err to a new error with a formatted message; returns code (which
 * should be negative).  A previous *err is freed.  err may be NULL. */
int stack_error_set(struct stack_error **err, int code, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

/* Like stack_error_set() but appends ": strerror(-code)". */
int stack_error_errno(struct stack_error **err, int code, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

/* Prepends "<context>: " to an existing error's message; returns its code,
 * or -EINVAL if there is none. */
int stack_error_prefix(struct stack_error **err, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

/* Frees an error; NULL is fine. */
void stack_error_free(struct stack_error *e);

/* Cleanup helper for `_cleanup_error_`. */
void stack_error_freep(struct stack_error **e);

/* Prints "stack: <message>" to stderr. */
void stack_error_print(const struct stack_error *e);

#define _cleanup_error_ __attribute__((cleanup(stack_error_freep)))

#endif
