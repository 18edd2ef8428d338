/* The registry client (OCI distribution spec / Docker Registry HTTP API v2)
 * over libcurl: pull into the content store, push from it, and login.
 *
 * Transport: HTTPS with the system CAs plus <config dir>/certs.d/<host>/ca.crt
 * when it exists (as Docker does).  Plain HTTP only for loopback hosts (tried
 * first there; HTTPS when the registry speaks only TLS) and for hosts listed
 * in the config file (paths.h) under "insecure-registries", for which TLS is
 * not verified either.  Auth: anonymous, Basic, Bearer from the WWW-Authenticate challenge
 * with credentials from credentials.h; tokens are reused until they expire. */
#ifndef STACK_IMAGE_REGISTRY_H
#define STACK_IMAGE_REGISTRY_H

#include <stdbool.h>

struct stack_error;
struct image_record;

/* Pulls ref (manifest or index -> platform -> manifest, config, layers in
 * parallel, resuming partial downloads) into the store at store_root and
 * records it with image_index_put().  platform "os/arch[/variant]" or NULL for
 * the host's.  quiet: no progress output (else bars per layer on a terminal,
 * plain lines otherwise, on stderr).  out (may be NULL) receives the record;
 * free its fields with image_record_free() semantics (caller owns them). */
int registry_pull(const char *store_root, const char *ref, const char *platform, bool quiet,
                  struct image_record *out, struct stack_error **err);

/* Pushes the local image local_ref to remote_ref (NULL = local_ref): blobs the
 * registry lacks (HEAD, then a cross-repository mount when the image came from
 * another repository of the same registry, else POST + PUT), then the
 * manifest. */
int registry_push(const char *store_root, const char *local_ref, const char *remote_ref, bool quiet,
                  struct stack_error **err);

/* Checks user/pass against the registry at host (the /v2/ endpoint, through
 * the token server for Bearer registries), then saves them (credentials.h). */
int registry_login(const char *host, const char *user, const char *pass, struct stack_error **err);

#endif
