/* Registry credentials: stack's own store (`stack login`), a JSON file
 * `auth.json` next to the config file (paths.h), mode 0600, in the format of
 * ~/.docker/config.json ({"auths": {"<host>": {"auth": base64(user:pass)}}});
 * and Docker's own $DOCKER_CONFIG/config.json or ~/.docker/config.json:
 * its "auths" (read only), and the credential helpers its "credHelpers"
 * (per registry) or "credsStore" name (cred_helper.h), which `stack
 * login`/`logout` store into and erase from, as `docker login` does. */
#ifndef STACK_IMAGE_CREDENTIALS_H
#define STACK_IMAGE_CREDENTIALS_H

struct stack_error;

/* Finds credentials for a registry host ("docker.io" also matches Docker's
 * "https://index.docker.io/v1/" key): stack's store, then Docker's helper
 * for the host if its config names one (as docker, then only the helper),
 * else Docker's "auths".  Sets *user and *pass to NULL when there are none;
 * a malformed file, or a helper that is not installed or fails, is an error
 * naming the file, the key and what to do. */
int credentials_lookup(const char *host, char **user, char **pass, struct stack_error **err);
/* Saves credentials for host: through Docker's helper for the host if its
 * config names one, else in stack's store (created with mode 0600). */
int credentials_store(const char *host, const char *user, const char *pass,
                      struct stack_error **err);
/* Removes host from stack's store and Docker's helper for it; -ENOENT
 * (with a message) when neither had it. */
int credentials_erase(const char *host, struct stack_error **err);
/* The name of the helper Docker's config names for host, or NULL (caller
 * frees). */
int credentials_helper(const char *host, char **helper, struct stack_error **err);
/* Path of stack's store (caller frees). */
char *credentials_path(void);

#endif
