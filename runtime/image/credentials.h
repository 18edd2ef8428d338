/* Registry credentials: stack's own store (`stack login`), a JSON file
 * `auth.json` next to the config file (paths.h), mode 0600, in the format of
 * ~/.docker/config.json ({"auths": {"<host>": {"auth": base64(user:pass)}}});
 * and, read-only, Docker's own $DOCKER_CONFIG/config.json or
 * ~/.docker/config.json. */
#ifndef STACK_IMAGE_CREDENTIALS_H
#define STACK_IMAGE_CREDENTIALS_H

struct stack_error;

/* Finds credentials for a registry host ("docker.io" also matches Docker's
 * "https://index.docker.io/v1/" key).  Sets *user and *pass to NULL when there
 * are none; a malformed file is an error naming it. */
int credentials_lookup(const char *host, char **user, char **pass, struct stack_error **err);
/* Saves credentials for host in stack's store (created with mode 0600). */
int credentials_store(const char *host, const char *user, const char *pass,
                      struct stack_error **err);
/* Removes host from stack's store; -ENOENT (with a message) when absent. */
int credentials_erase(const char *host, struct stack_error **err);
/* Path of stack's store (caller frees). */
char *credentials_path(void);

#endif
