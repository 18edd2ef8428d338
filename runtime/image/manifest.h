/* OCI / Docker schema2 manifests and indexes (manifest lists): parsing and
 * platform choice.  What a document is comes from the HTTP Content-Type; the
 * mediaType field and the document's shape are only used when the
 * Content-Type is missing or generic (application/json, text/plain, octet-stream). */
#ifndef STACK_IMAGE_MANIFEST_H
#define STACK_IMAGE_MANIFEST_H

#include <stddef.h>
#include <stdint.h>

struct stack_error;

#define MT_OCI_INDEX "application/vnd.oci.image.index.v1+json"
#define MT_OCI_MANIFEST "application/vnd.oci.image.manifest.v1+json"
#define MT_DOCKER_LIST "application/vnd.docker.distribution.manifest.list.v2+json"
#define MT_DOCKER_MANIFEST "application/vnd.docker.distribution.manifest.v2+json"
/* The Accept header for manifest requests: all four kinds. */
#define MANIFEST_ACCEPT                                                                            \
  "Accept: " MT_OCI_INDEX ", " MT_OCI_MANIFEST ", " MT_DOCKER_LIST ", " MT_DOCKER_MANIFEST

/* Manifests larger than this are rejected before they are read in full. */
#define MANIFEST_MAX_SIZE (4u << 20)

struct descriptor {
  char *media_type;
  char *digest; /* validated sha256:<hex> */
  int64_t size; /* validated >= 0 */
  /* In an index: the platform (os and architecture may be NULL when absent). */
  char *os, *architecture, *variant;
};

enum manifest_kind { MANIFEST_INDEX, MANIFEST_IMAGE };

enum layer_compression { LAYER_PLAIN, LAYER_GZIP, LAYER_ZSTD };

struct manifest {
  enum manifest_kind kind;
  char *media_type;         /* the type it was parsed as */
  struct descriptor config; /* MANIFEST_IMAGE only */
  struct descriptor *items; /* layers (image) or manifests (index) */
  size_t n_items;
};

/* Parses a manifest or index.  content_type may be NULL.  Docker schema 1 and
 * unknown types are rejected with a message that says so. */
int manifest_parse(const char *content_type, const char *body, size_t len, struct manifest *out,
                   struct stack_error **err);
void manifest_clear(struct manifest *m);
static inline void manifest_clearp(struct manifest *m) { manifest_clear(m); }
#define _cleanup_manifest_ __attribute__((cleanup(manifest_clearp)))

/* How a layer media type is compressed; -ENOTSUP (with a message) for types
 * that are not layers stack can unpack (foreign layers, encrypted, ...). */
int layer_compression(const char *media_type, enum layer_compression *out,
                      struct stack_error **err);

/* The host's platform, "linux/amd64" style (caller frees). */
char *platform_host(void);
/* Picks the index entry for platform ("os/arch[/variant]", NULL = host); an
 * unspecified variant matches any (preferring none, then v8 for arm64).
 * The error lists the platforms the index has. */
int manifest_choose_platform(const struct manifest *index, const char *platform, size_t *out,
                             struct stack_error **err);

#endif
