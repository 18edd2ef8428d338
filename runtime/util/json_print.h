/* Pretty JSON as Docker prints it: cJSON_Print() indents with tabs and writes
 * "key":<tab>value; these print `indent` per level and "key": value. */
#ifndef STACK_UTIL_JSON_PRINT_H
#define STACK_UTIL_JSON_PRINT_H

#include <cjson/cJSON.h>

/* A new string (caller frees with free()); NULL only if cJSON fails. */
char *json_print_indented(const cJSON *j, const char *indent);

#endif
