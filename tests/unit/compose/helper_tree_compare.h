/* Comparing Compose documents in tests: by YAML type and value, mappings up
 * to key order. */
#ifndef STACK_TEST_HELPER_TREE_COMPARE_H
#define STACK_TEST_HELPER_TREE_COMPARE_H

#include "orchestrator/compose/node.h"

/* Prints each difference (prefixed by `path`) to stderr unless quiet;
 * returns how many. */
int tree_compare(const struct cnode *ours, const struct cnode *expected, const char *path,
                 int quiet);

/* s with every `from` replaced by `to` (caller frees). */
char *tree_replace_all(const char *s, const char *from, const char *to);

#endif
