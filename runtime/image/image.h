/* Images as the rest of stack sees them: a reference in, a bootable read-only
 * ext4 root disk and the image's config out.  Pulls (registry.h) when the
 * image is missing, builds the root disk (rootfs.h) when it is missing, and
 * caches both in the store. */
#ifndef STACK_IMAGE_IMAGE_H
#define STACK_IMAGE_IMAGE_H

#include <stdbool.h>
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

/* Parses an OCI/Docker image config JSON document. */
int image_config_parse(const char *json, size_t len, struct image_config *out,
                       struct stack_error **err);
void image_config_clear(struct image_config *c);

#endif
