/* The hash of a service's effective configuration, stored with each
 * container so that `up` recreates exactly the containers whose
 * configuration changed, as Compose's com.docker.compose.config-hash. */
#ifndef STACK_SUPERVISOR_CONFIG_HASH_H
#define STACK_SUPERVISOR_CONFIG_HASH_H

typedef struct cJSON cJSON;
struct stack_error;

/* sha256 (64 hex digits and a NUL into out) of the service's canonical JSON
 * (`stack config --format json`'s services.<name>: keys sorted at every
 * level), leaving out what does not change a container: build, pull_policy,
 * scale, deploy.replicas, depends_on, profiles.  image_id (the image config
 * digest, may be NULL) is included so that a new image recreates too. */
int config_hash(const cJSON *service, const char *image_id, char out[65],
                struct stack_error **err);

struct compose_service;

/* config_hash() of a service of the model: its normalised node as JSON
 * values in memory (compose_emit_json_tree()), the same bytes as
 * `stack config --format json` would give for it. */
int config_hash_service(const struct compose_service *svc, const char *image_id, char out[65],
                        struct stack_error **err);

#endif
