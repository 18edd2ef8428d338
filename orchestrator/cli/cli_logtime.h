/* The times `logs --since` / `--until` take, as Docker reads them. */
#ifndef STACK_CLI_LOGTIME_H
#define STACK_CLI_LOGTIME_H

#include <stdint.h>

/* Parses s into ms since the epoch: RFC 3339 ("2024-05-01T10:00:00Z",
 * "...T10:00:00.5+02:00"; without a zone, local time; a date alone is its
 * midnight), a Unix timestamp ("1714557600", "1714557600.25"), or a Go
 * duration before now_ms ("10m", "1h30m", "1.5s", "250ms").  -EINVAL for
 * anything else. */
int cli_log_time_parse(const char *s, int64_t now_ms, int64_t *out_ms);

#endif
