/* The typed, immutable project model: what the runtime reads once loading
 * (compose_load.h) is done.  Built from the merged, canonical, finalised and
 * validated tree, which it keeps for `stack config` output.
 *
 * Lists are arrays with a count; string lists are NULL-terminated.  Sizes are
 * bytes, durations nanoseconds; -1 means "not set" where 0 is meaningful. */
#ifndef STACK_COMPOSE_MODEL_H
#define STACK_COMPOSE_MODEL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "node.h"

struct stack_error;

struct compose_kv {
  char *key;
  char *value; /* NULL: declared without a value (unset variable, ...) */
};

struct compose_kvs {
  struct compose_kv *v;
  size_t n;
};

struct compose_port {
  char *name;
  char *host_ip;   /* NULL: all addresses */
  uint16_t target;
  char *published; /* NULL: not published (or ephemeral); may be a range "8000-8010" */
  char *protocol;  /* "tcp" or "udp" */
  char *mode;      /* "ingress" or "host" */
  char *app_protocol;
};

struct compose_mount {
  char *type;   /* "bind", "volume", "tmpfs", "npipe", "cluster", "image" */
  char *source; /* NULL for anonymous volumes and tmpfs */
  char *target;
  bool read_only;
  char *consistency;
  char *bind_propagation;
  bool bind_create_host_path;
  bool volume_nocopy;
  char *volume_subpath;
  int64_t tmpfs_size; /* -1 unset */
  uint32_t tmpfs_mode; /* 0 unset */
};

struct compose_service_network {
  char *name; /* the key in the top-level networks */
  char **aliases;
  char *ipv4_address;
  char *ipv6_address;
  char *mac_address;
  int priority;
};

enum compose_dep_condition {
  COMPOSE_DEP_STARTED,
  COMPOSE_DEP_HEALTHY,
  COMPOSE_DEP_COMPLETED_SUCCESSFULLY,
};

struct compose_dependency {
  char *service;
  enum compose_dep_condition condition;
  bool required;
  bool restart;
};

struct compose_healthcheck {
  bool set;     /* the service (or image default override) has one */
  bool disable; /* test: ["NONE"] or disable: true */
  char **test;  /* ["CMD", ...] or ["CMD-SHELL", "..."]; NULL: image default */
  int64_t interval_ns, timeout_ns, start_period_ns, start_interval_ns; /* -1 unset */
  int retries;                                                         /* -1 unset */
};

struct compose_ulimit {
  char *name;
  int64_t soft, hard;
};

/* A secret or config given to a service. */
struct compose_file_ref {
  char *source;
  char *target; /* NULL: default (/run/secrets/<source> or /<source>) */
  char *uid, *gid;
  int64_t mode; /* -1 unset */
};

struct compose_build {
  char *context;
  char *dockerfile;
  char *dockerfile_inline;
  char *target;
  char *network;
  struct compose_kvs args;
  struct compose_kvs labels;
  char **tags;
  char **platforms;
  char **cache_from;
};

struct compose_restart_policy {
  char *condition; /* "none", "on-failure", "any"; NULL unset */
  int64_t delay_ns, window_ns; /* -1 unset */
  int max_attempts;            /* -1 unset */
};

struct compose_deploy {
  char *mode;   /* "replicated" (default) or "global" */
  int replicas; /* -1 unset */
  double cpus_limit, cpus_reservation;       /* 0 unset */
  int64_t memory_limit, memory_reservation;  /* -1 unset */
  int64_t pids_limit;                        /* -1 unset */
  struct compose_restart_policy restart_policy;
};

struct compose_service {
  char *name;
  char *image;
  struct compose_build *build; /* NULL: no build section */
  char **command;              /* NULL: image default; [] explicit empty */
  char **entrypoint;
  struct compose_kvs environment; /* resolved, sorted by key */
  char *working_dir;
  char *user;
  char *hostname;
  char *domainname;
  char *container_name;
  char *platform;
  char *pull_policy;
  char *restart; /* "no", "always", "on-failure[:N]", "unless-stopped"; NULL unset */
  char *stop_signal;
  int64_t stop_grace_period_ns; /* -1 unset */
  char *network_mode;
  bool init, tty, stdin_open, privileged, read_only;
  bool attach; /* `attach: false`: attached `up` leaves its output out */
  int scale;            /* -1 unset */
  int64_t mem_limit;    /* -1 unset */
  int64_t memswap_limit; /* -1 unset */
  int64_t shm_size;     /* -1 unset */
  double cpus;          /* 0 unset */
  int64_t pids_limit;   /* -1 unset */
  struct compose_port *ports;
  size_t n_ports;
  char **expose;
  struct compose_mount *volumes;
  size_t n_volumes;
  char **tmpfs;
  struct compose_service_network *networks;
  size_t n_networks;
  struct compose_dependency *depends_on;
  size_t n_depends_on;
  struct compose_healthcheck healthcheck;
  struct compose_deploy deploy;
  char **dns;
  char **dns_search;
  char **dns_opt;
  char **extra_hosts; /* "host=ip" as compose prints them */
  char **links;
  char **external_links;
  char **profiles;
  char **cap_add;
  char **cap_drop;
  char **security_opt;
  struct compose_kvs labels;
  struct compose_kvs annotations;
  struct compose_kvs sysctls;
  struct compose_ulimit *ulimits;
  size_t n_ulimits;
  struct compose_file_ref *secrets;
  size_t n_secrets;
  struct compose_file_ref *configs;
  size_t n_configs;
  const struct cnode *node; /* the service's subtree in project->tree */
};

struct compose_network {
  char *key;  /* the name in the file */
  char *name; /* the actual name (normalised: "<project>_<key>") */
  char *driver;
  bool external, internal, attachable, enable_ipv6;
  char **subnets; /* ipam.config[].subnet */
  char **gateways; /* ipam.config[].gateway, same length as subnets ("" where unset) */
  struct compose_kvs driver_opts;
  struct compose_kvs labels;
};

struct compose_volume {
  char *key;
  char *name;
  char *driver;
  bool external;
  struct compose_kvs driver_opts;
  struct compose_kvs labels;
};

/* A top-level secret or config. */
struct compose_file_obj {
  char *key;
  char *name;
  char *file;        /* absolute path, or NULL */
  char *environment; /* variable name, or NULL */
  char *content;     /* inline content (configs), or NULL */
  bool external;
};

struct compose_project {
  char *name;
  char *working_dir;
  struct compose_service *services; /* in the tree's order */
  size_t n_services;
  struct compose_network *networks;
  size_t n_networks;
  struct compose_volume *volumes;
  size_t n_volumes;
  struct compose_file_obj *secrets;
  size_t n_secrets;
  struct compose_file_obj *configs;
  size_t n_configs;
  struct cnode *tree; /* the normalised tree, for `stack config` */
  /* Set by compose_load() only (NULL otherwise): the files it read
   * (absolute; none for stdin) and the project's environment (the
   * process's, then --env-file/.env's), "K=V" each. */
  char **config_files;
  char **environment;
};

/* Builds the model from a finalised, validated tree (ownership of `tree` is
 * taken, also on failure).  The project name is the tree's `name`.
 * Returns 0 or -EINVAL with file:line:col for a value it cannot read. */
int compose_model_build(struct cnode *tree, const char *working_dir, struct compose_project **out,
                        struct stack_error **err);

void compose_project_free(struct compose_project *p);
void compose_project_freep(struct compose_project **p);
#define _cleanup_compose_project_ __attribute__((cleanup(compose_project_freep)))

/* Lookups by name; NULL if absent. */
const struct compose_service *compose_project_service(const struct compose_project *p,
                                                      const char *name);
/* Index of a service in p->services, or -1. */
long compose_project_service_index(const struct compose_project *p, const char *name);
const struct compose_network *compose_project_network(const struct compose_project *p,
                                                      const char *key);
const struct compose_volume *compose_project_volume(const struct compose_project *p,
                                                    const char *key);
/* The value of a key in a kvs, or NULL (also when declared without value). */
const char *compose_kvs_get(const struct compose_kvs *kvs, const char *key);

/* Parses a Compose duration ("1m30s", "10ms", "1h", "2.5s", a bare number
 * of seconds) into nanoseconds; returns 0 or -EINVAL. */
int compose_parse_duration(const char *s, int64_t *ns);
/* Parses a byte size ("512", "50M", "1.5g", "10kb") into bytes; 0 or -EINVAL. */
int compose_parse_bytes(const char *s, int64_t *bytes);

#endif
