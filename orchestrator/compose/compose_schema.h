/* The Compose specification's JSON schema, embedded so that validation needs
 * no file at run time (origin and licence: schema/README.md). */
#ifndef STACK_COMPOSE_SCHEMA_H
#define STACK_COMPOSE_SCHEMA_H

extern const char compose_schema_json[];

#endif
