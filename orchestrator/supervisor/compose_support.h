/* What stack's VM runtime does with each key of the Compose specification:
 * the one table that `up` warns from (a key it does not honour is named,
 * never dropped silently) and that docs/compose-compat.md's key tables are
 * generated from (tools/gen_compose_compat.c, ctest
 * unit.docs_compose_compat), so that the two cannot disagree.  A unit test
 * checks that every key of the embedded Compose schema is in the table. */
#ifndef STACK_SUPERVISOR_COMPOSE_SUPPORT_H
#define STACK_SUPERVISOR_COMPOSE_SUPPORT_H

#include <stddef.h>

struct cnode;
struct sbuf;

/* The objects the Compose schema gives keys to.  Each has its own table. */
enum cs_scope {
  CS_TOP,             /* the file's top level */
  CS_SERVICE,         /* services.NAME */
  CS_SERVICE_NETWORK, /* services.NAME.networks.NET (long syntax) */
  CS_DEPLOY,          /* services.NAME.deploy */
  CS_RESOURCES,       /* services.NAME.deploy.resources */
  CS_LIMITS,          /* services.NAME.deploy.resources.limits */
  CS_DEVELOP,         /* services.NAME.develop */
  CS_NETWORK,         /* networks.NAME */
  CS_IPAM,            /* networks.NAME.ipam */
  CS_VOLUME,          /* volumes.NAME */
  CS_SECRET,          /* secrets.NAME */
  CS_CONFIG,          /* configs.NAME */
  CS_N_SCOPES,
};

enum cs_level {
  CS_YES,     /* honoured */
  CS_PARTIAL, /* honoured in part: what is not is warned, value by value */
  CS_NO,      /* not honoured: `up` names it in a warning whenever it is set */
  CS_REFUSED, /* an error: the file is refused (at load, or by `up` where noted) */
};

struct cs_key {
  enum cs_scope scope;
  const char *key;
  enum cs_level level;
  /* CS_NO, CS_PARTIAL: why, as the warning shows it after the key (short);
   * CS_YES, CS_REFUSED: the first words of the docs' notes. */
  const char *reason;
  /* more for the docs (may be NULL) */
  const char *doc;
  /* CS_PARTIAL: the sub-table its value's keys are judged by (CS_N_SCOPES:
   * none), and whether that applies to each value of a map (networks). */
  enum cs_scope sub;
  int each;
  /* CS_PARTIAL without a sub-table: appends to out what of the value is not
   * honoured, as "<prefix>what (why)" items separated by ", ". */
  void (*check)(const struct cnode *value, const char *prefix, struct sbuf *out);
};

/* The table of one scope, in the order the docs show it; *n is set to its length. */
const struct cs_key *cs_table(enum cs_scope scope, size_t *n);
/* The entry for key in scope, or NULL. */
const struct cs_key *cs_lookup(enum cs_scope scope, const char *key);
/* "yes", "partial", "no" or "refused". */
const char *cs_level_name(enum cs_level level);
/* A scope's name as the docs and the tests use it ("service", "deploy", ...). */
const char *cs_scope_name(enum cs_scope scope);

/* The keys set in obj (an object of scope, from the normalised tree) that
 * stack does not honour, each with its reason: "logging (why), devices
 * (why)", or NULL when everything is honoured.  x- extensions are kept
 * as written and never named.  Caller frees. */
char *cs_unhonoured(enum cs_scope scope, const struct cnode *obj);

/* The Markdown table of a scope for docs/compose-compat.md (caller frees). */
char *cs_doc_table(enum cs_scope scope);

#endif
