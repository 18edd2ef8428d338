/* The on-disk record of everything a project's networking created (bridges,
 * taps, the nftables table), written before each thing is created, so that
 * `down` can remove it all even after the supervisor crashed mid-way.
 * JSON (cJSON), written atomically. */
#ifndef STACK_NET_NET_STATE_H
#define STACK_NET_NET_STATE_H

#include <stdbool.h>
#include <stddef.h>

struct stack_error;

struct net_state {
  char *project;
  char *table;   /* nftables table, or NULL */
  char **bridges; /* NULL-terminated, owned by us (never external ones) */
  char **taps;    /* NULL-terminated */
  /* For a restarted supervisor to adopt what runs: "key=value" entries,
   * subnets "network" -> "a.b.c.d/n a.b.c.d" (subnet, gateway) and
   * addresses "container/network" -> "a.b.c.d". */
  char **subnets;
  char **addresses;
};

/* The default location, <data root>/projects/<project>/network.json, into
 * *out (caller frees); an error if project is not a plain name. */
int net_state_default_path(const char *project, char **out, struct stack_error **err);

/* Loads a state file; a missing file gives an empty state (*exists false). */
int net_state_load(const char *path, struct net_state *st, bool *exists,
                   struct stack_error **err);

/* Writes the state atomically (creating the directory). */
int net_state_save(const char *path, const struct net_state *st, struct stack_error **err);

/* Adds / removes a name in a list (no duplicates). */
void net_state_add(char ***list, const char *name);
void net_state_remove(char ***list, const char *name);

/* Sets, reads (NULL if absent) and removes a key of a "key=value" list. */
void net_state_set(char ***map, const char *key, const char *value);
const char *net_state_get(char **map, const char *key);
void net_state_unset(char ***map, const char *key);

void net_state_free(struct net_state *st);

#endif
