/* Profiles: a service that lists profiles runs only when one of them is
 * active (--profile, COMPOSE_PROFILES; "*" activates all) or when it is
 * named on the command line, which activates its profiles.  What an
 * enabled service requires is enabled with it; an optional dependency
 * (`required: false`) on a disabled service is dropped, as Compose does. */
#ifndef STACK_COMPOSE_PROFILES_H
#define STACK_COMPOSE_PROFILES_H

#include <stdbool.h>

#include "node.h"

struct stack_error;

/* Removes the disabled services from a merged, canonical tree.  profiles
 * and services are NULL-terminated (either may be NULL).  A named service
 * that does not exist is an error, unless services_optional (services
 * that may be gone from the files: those of existing containers). */
int compose_profiles_apply(struct cnode *tree, char *const *profiles, char *const *services,
                           bool services_optional, struct stack_error **err);

#endif
