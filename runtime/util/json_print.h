/* Pretty JSON as Docker prints it (Go's json.MarshalIndent): cJSON_Print()
 * indents with tabs, writes "key":<tab>value and keeps an array's objects on
 * one line ("[{"); this prints `indent` per level, "key": value, and every
 * member and element on a line of its own. */
#ifndef STACK_UTIL_JSON_PRINT_H
#define STACK_UTIL_JSON_PRINT_H

#include <cjson/cJSON.h>

/* A new string (caller frees with free()); NULL only if cJSON fails. */
char *json_print_indented(const cJSON *j, const char *indent);

#endif
