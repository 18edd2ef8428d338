/* Per-layer progress of a pull, as `docker compose pull` shows it: on a
 * terminal one redrawn bar per layer, otherwise one plain line per status
 * change.  Written to stderr. */
#ifndef STACK_IMAGE_PULL_PROGRESS_H
#define STACK_IMAGE_PULL_PROGRESS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct pull_progress;

/* quiet: prints nothing at all. */
struct pull_progress *pull_progress_new(bool quiet);
void pull_progress_free(struct pull_progress *p);
/* Adds a row for a blob; returns its index. */
size_t pull_progress_add(struct pull_progress *p, const char *digest, int64_t total);
/* Updates a row (status is a constant string such as "Downloading"). */
void pull_progress_update(struct pull_progress *p, size_t row, int64_t done, const char *status);
/* Redraws (at most every 100 ms unless force). */
void pull_progress_draw(struct pull_progress *p, bool force);

#endif
