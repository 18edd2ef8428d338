/* Image references as Docker writes them: `redis` means
 * docker.io/library/redis:latest; `host:port/ns/name:tag`, `name@sha256:...`
 * and `name:tag@sha256:...` are accepted.  A first component is a registry
 * host when it contains '.' or ':' or is `localhost`. */
#ifndef STACK_IMAGE_REFERENCE_H
#define STACK_IMAGE_REFERENCE_H

#include <stdbool.h>

struct stack_error;

struct image_ref {
  char *domain; /* "docker.io", "127.0.0.1:5000", "localhost" */
  char *path;   /* "library/redis" */
  char *tag;    /* "latest" when neither tag nor digest was given; NULL with a bare digest */
  char *digest; /* "sha256:<64 hex>", or NULL */
};

/* Parses and normalises s; the error names the reference and says what is
 * wrong with it. */
int image_ref_parse(const char *s, struct image_ref *out, struct stack_error **err);
void image_ref_clear(struct image_ref *r);
static inline void image_ref_clearp(struct image_ref *r) { image_ref_clear(r); }
#define _cleanup_image_ref_ __attribute__((cleanup(image_ref_clearp)))

/* "domain/path:tag", "domain/path@digest" or "domain/path:tag@digest"
 * (caller frees). */
char *image_ref_string(const struct image_ref *r);
/* "domain/path" (caller frees). */
char *image_ref_name(const struct image_ref *r);
/* What to ask the registry's manifests endpoint for: the digest if there is
 * one, else the tag. */
const char *image_ref_reference(const struct image_ref *r);
/* The host to talk to: docker.io is served by registry-1.docker.io. */
const char *image_ref_api_host(const struct image_ref *r);
/* Whether the registry host is a loopback address (127.0.0.0/8, ::1,
 * localhost), where plain HTTP is allowed. */
bool image_ref_host_is_loopback(const char *host);

#endif
