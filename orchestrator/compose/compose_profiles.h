/* Profiles: a service that lists profiles runs only when one of them is
 * active (--profile, COMPOSE_PROFILES; "*" activates all) or when it is
 * named on the command line.  Named services pull in what they depend on. */
#ifndef STACK_COMPOSE_PROFILES_H
#define STACK_COMPOSE_PROFILES_H

#include "node.h"

struct stack_error;

/* Removes the disabled services from a merged, canonical tree.  profiles
 * and services are NULL-terminated (either may be NULL).  A named service
 * that does not exist is an error; dependencies of enabled services on
 * disabled ones are dropped when `required: false`, kept otherwise (the
 * project validation then reports them). */
int compose_profiles_apply(struct cnode *tree, char *const *profiles, char *const *services,
                           struct stack_error **err);

#endif
