/* Scope-bound cJSON trees: `_cleanup_cjson_ cJSON *root = cJSON_Parse(...)`
 * is deleted when it goes out of scope. */
#ifndef STACK_UTIL_CJSON_CLEANUP_H
#define STACK_UTIL_CJSON_CLEANUP_H

#include <cjson/cJSON.h>

static inline void cjson_deletep(cJSON **j) {
  if (*j)
    cJSON_Delete(*j);
}
#define _cleanup_cjson_ __attribute__((cleanup(cjson_deletep)))

#endif
