/* Images as the rest of stack sees them: a reference in, a bootable read-only
 * ext4 root disk and the image's config out.  Pulls (registry.h) when the
 * image is missing, builds the root disk (rootfs.h) when it is missing, and
 * caches both in the store. */
#ifndef STACK_IMAGE_IMAGE_H
#define STACK_IMAGE_IMAGE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct stack_error;

/* The parts of an OCI image config that running a container needs. */
struct image_config {
  char **env;        /* NULL-terminated "K=V" list */
  char **entrypoint; /* NULL-terminated, or NULL */
  char **cmd;        /* NULL-terminated, or NULL */
  char *working_dir; /* or NULL */
  char *user;        /* or NULL */
  char *stop_signal; /* or NULL */
  char **exposed_ports; /* "80/tcp" ..., or NULL */
  char **volumes;       /* or NULL */
  char **labels;        /* "K=V" list, or NULL */
  /* HEALTHCHECK: test is NULL when the image has none. */
  char **health_test;
  int64_t health_interval_ns, health_timeout_ns, health_start_period_ns, health_start_interval_ns;
  int health_retries;
  char *os, *architecture, *variant;
};

enum image_pull_policy {
  IMAGE_PULL_MISSING, /* default: pull when not in the store */
  IMAGE_PULL_ALWAYS,
  IMAGE_PULL_NEVER,
};

struct image_get_opts {
  const char *platform; /* "os/arch[/variant]"; NULL = the host's */
  enum image_pull_policy pull;
  bool quiet; /* no progress output */
};

struct image_handle {
  char *ref;             /* normalised reference, e.g. docker.io/library/redis:latest */
  char *manifest_digest; /* sha256:... */
  char *config_digest;   /* sha256:... */
  char *rootfs_path;     /* the read-only ext4 root disk */
  struct image_config config;
};

/* Resolves ref to a local image (pulling per opts) and makes sure its root
 * disk exists.  store_root is the data root (paths.h). */
int image_get(const char *store_root, const char *ref, const struct image_get_opts *opts,
              struct image_handle **out, struct stack_error **err);
void image_handle_free(struct image_handle *h);

struct blobstore;
struct image_record;
struct manifest;

/* "redis" -> "docker.io/library/redis:latest" (caller frees *out). */
int image_ref_normalize(const char *ref, char **out, struct stack_error **err);
/* How Docker shows a normalised reference: docker.io/library/ and docker.io/
 * dropped; *repo and *tag (or "<none>") are new strings. */
void image_ref_display(const char *norm, char **repo, char **tag);

/* The record of an image given by reference or by ID prefix (config digest,
 * "sha256:" optional, at least 4 hex digits).  -ENOENT "No such image". */
int image_find(const char *store_root, const char *ref_or_id, struct image_record **out,
               struct stack_error **err);

/* Reads and parses the (image) manifest of a record from the store. */
int image_load_manifest(struct blobstore *bs, const struct image_record *rec, struct manifest *m,
                        struct stack_error **err);

/* Like `docker import`: makes a one-layer image named ref from a root file
 * system in a directory or a tarball (plain, gzip, zstd or xz), records it
 * and builds its root disk.  *out (may be NULL) receives the record. */
int image_import(const char *store_root, const char *src, const char *ref,
                 struct image_record **out, struct stack_error **err);
/* The same with changes (NULL-terminated, may be NULL): Dockerfile
 * instructions for the config, as `docker import -c` (image_change.h). */
int image_import_changes(const char *store_root, const char *src, const char *ref,
                         char *const *changes, struct image_record **out,
                         struct stack_error **err);

/* Removes the image named ref, or every image whose ID (config digest,
 * "sha256:" optional) starts with ref (at least 4 hex digits), then frees
 * what no remaining image uses.  *removed (may be NULL) lists the references
 * removed.  -ENOENT with a message when nothing matches. */
int image_remove(const char *store_root, const char *ref, char ***removed,
                 struct stack_error **err);

/* Garbage collection: removes blobs, root disks and partial downloads that
 * no image references; *freed (may be NULL) receives the bytes freed. */
int image_prune(const char *store_root, uint64_t *freed, struct stack_error **err);

/* Loads an OCI image layout archive (tar, optionally compressed): every blob
 * is verified on the way in; each manifest in index.json (for an index, the
 * host platform's) gets its root disk built and becomes an image named by its
 * org.opencontainers.image.ref.name annotation (a bare tag gets the archive's
 * base name as repository, "image" for stdin).  archive "-" is stdin.
 * *loaded (may be NULL) lists the references. */
int image_load(const char *store_root, const char *archive, char ***loaded,
               struct stack_error **err);

/* Writes the images refs (NULL-terminated) as an OCI image layout tar to
 * path ("-" = stdout), each annotated with its full reference. */
int image_save(const char *store_root, char *const *refs, const char *path,
               struct stack_error **err);

/* Parses an OCI/Docker image config JSON document. */
int image_config_parse(const char *json, size_t len, struct image_config *out,
                       struct stack_error **err);
void image_config_clear(struct image_config *c);

#endif
