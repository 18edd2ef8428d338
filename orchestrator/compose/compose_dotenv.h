/* .env files, parsed exactly as compose-go's dotenv package does:
 *
 *   [export] NAME=value        NAME: letters, digits, _ . - [ ]; `:` also
 *                              separates (yaml style); spaces around = ok
 *   NAME                       inherited: taken from lookup if set there
 *   # comment, value # comment (unquoted: " #" starts a comment)
 *   'single'                   literal (\' keeps the quote), may span lines
 *   "double"                   \n \r \t \\ \" \$ \0oo ... escapes, spans lines
 *   ${VAR} $VAR ...            interpolated (not in single quotes): from
 *                              lookup first, then the file's earlier values
 *
 * A UTF-8 byte order mark at the start is ignored. */
#ifndef STACK_COMPOSE_DOTENV_H
#define STACK_COMPOSE_DOTENV_H

#include <stddef.h>

#include "compose_env.h"
#include "compose_interp.h"

struct stack_error;

/* Parses buf[0..len) into out (values set in file order, later lines
 * replacing earlier ones).  lookup may be NULL.  Errors name path:line. */
int compose_dotenv_parse(const char *buf, size_t len, const char *path, compose_lookup_fn lookup,
                         void *ud, struct compose_env *out, struct stack_error **err);

/* Reads and parses a file (at most 16 MiB). */
int compose_dotenv_read_file(const char *path, compose_lookup_fn lookup, void *ud,
                             struct compose_env *out, struct stack_error **err);

#endif
