/* Docker's credential helper protocol: `docker-credential-<name> get|store|erase`
 * with the request on stdin and the answer on stdout, as the `credsStore`
 * and `credHelpers` of ~/.docker/config.json name them
 * (github.com/docker/docker-credential-helpers):
 *
 *   get     stdin: the server URL          stdout: {"ServerURL","Username","Secret"}
 *   store   stdin: {"ServerURL","Username","Secret"}
 *   erase   stdin: the server URL
 *
 * A helper that has nothing for the server exits non-zero and prints
 * "credentials not found in native keychain". */
#ifndef STACK_IMAGE_CRED_HELPER_H
#define STACK_IMAGE_CRED_HELPER_H

#include <stdbool.h>
#include <stddef.h>

struct stack_error;

/* Whether name can name a helper (docker-credential-<name> found in PATH):
 * letters, digits, '.', '_', '-', not starting with '.'. */
bool cred_helper_name_ok(const char *name);

/* The server URL helpers know a registry host by: Docker Hub's is
 * "https://index.docker.io/v1/", any other the host itself (caller frees). */
char *cred_helper_server_url(const char *host);

/* Asks helper for server_url's credentials.  Returns 1 with *user and
 * *secret set, 0 when the helper has none, or a negative errno with a
 * message naming the helper (not installed: what to do). */
int cred_helper_get(const char *helper, const char *server_url, char **user, char **secret,
                    struct stack_error **err);
/* Saves credentials through helper. */
int cred_helper_store(const char *helper, const char *server_url, const char *user,
                      const char *secret, struct stack_error **err);
/* Removes server_url's credentials from helper; -ENOENT (with a message)
 * when it had none. */
int cred_helper_erase(const char *helper, const char *server_url, struct stack_error **err);

/* Parses a `get` answer (outside data): Username and Secret, both strings,
 * Secret not empty.  An identity token (Username "<token>") is refused:
 * stack has no OAuth refresh flow.  Caller frees *user and *secret. */
int cred_helper_parse_get(const char *json, size_t len, char **user, char **secret,
                          struct stack_error **err);

#endif
