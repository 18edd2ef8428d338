/* Container output as `docker compose up` / `logs` print it: a prefix
 * "<service>-<n> | " padded to the longest name, coloured per container on
 * a terminal, and "<name> exited with code N" lines. */
#ifndef STACK_CLI_LOGFMT_H
#define STACK_CLI_LOGFMT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>

typedef struct cJSON cJSON;

struct cli_logfmt {
  const char *project; /* stripped from container names with its '-' */
  char **names;        /* known containers, in colour order */
  size_t n_names;
  size_t width;
  bool color;
  bool prefix;     /* false: --no-log-prefix */
  bool timestamps; /* -t */
  FILE *out;
};

/* color: whether to colour (a terminal and no --no-color). */
void cli_logfmt_init(struct cli_logfmt *f, const char *project, bool color, bool prefix,
                     bool timestamps);
/* Makes a container known (for padding and colours). */
void cli_logfmt_add(struct cli_logfmt *f, const char *name);
/* Prints one "log" or "exit" event from the supervisor; others are ignored.
 * Returns whether it was printed. */
bool cli_logfmt_event(struct cli_logfmt *f, const cJSON *ev);
void cli_logfmt_free(struct cli_logfmt *f);

#endif
