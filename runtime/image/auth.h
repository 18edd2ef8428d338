/* Registry authentication: the `WWW-Authenticate` challenge (Basic or Bearer
 * with realm, service, scope), Basic headers, and token responses. */
#ifndef STACK_IMAGE_AUTH_H
#define STACK_IMAGE_AUTH_H

#include <stddef.h>
#include <stdint.h>

struct stack_error;

struct auth_challenge {
  char *scheme;  /* "Basic" or "Bearer" (as sent) */
  char *realm;   /* or NULL */
  char *service; /* or NULL */
  char *scope;   /* or NULL */
};

/* Parses a WWW-Authenticate header value ('Bearer realm="...",service="..."').
 * Quoted strings may contain escapes and commas. */
int auth_challenge_parse(const char *value, struct auth_challenge *out, struct stack_error **err);
void auth_challenge_clear(struct auth_challenge *c);

/* "Authorization: Basic <base64(user:pass)>" (caller frees). */
char *auth_basic_header(const char *user, const char *pass);
/* Base64 of user:pass as ~/.docker/config.json's "auth" holds it (caller frees). */
char *auth_encode_userpass(const char *user, const char *pass);
/* Decodes such an "auth" value into user and password. */
int auth_decode_userpass(const char *b64, char **user, char **pass, struct stack_error **err);

/* Parses a token server's JSON answer: "token" or "access_token", and
 * "expires_in" seconds (60 when absent, as the spec says). */
int auth_token_parse(const char *json, size_t len, char **token, int64_t *expires_in,
                     struct stack_error **err);

#endif
