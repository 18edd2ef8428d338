/* Durations as Docker prints them (go-units' HumanDuration), for `ps`,
 * `images`, `ls` and friends. */
#ifndef STACK_UTIL_HUMANIZE_H
#define STACK_UTIL_HUMANIZE_H

#include <stdint.h>

/* "Less than a second", "1 second", "59 seconds", "About a minute",
 * "3 minutes", "About an hour", "5 hours", "3 days", "2 weeks",
 * "4 months", "2 years" for a duration in ms (caller frees). */
char *human_duration(int64_t ms);

#endif
