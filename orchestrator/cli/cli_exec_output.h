/* The "output" events of an exec session (sup_exec.c sends the bytes in
 * base64): shared by `exec` and `top`. */
#ifndef STACK_CLI_EXEC_OUTPUT_H
#define STACK_CLI_EXEC_OUTPUT_H

#include <stddef.h>

typedef struct cJSON cJSON;

/* The bytes of an output event (caller frees; NULL when it has none or
 * they are not base64), their count in *n and the stream (1 or 2) in *fd. */
unsigned char *cli_exec_output_decode(const cJSON *ev, int *fd, size_t *n);

/* An on_event callback (sup_client.h) for `exec` and `run SERVICE`: writes
 * an output event's bytes to our stdout or stderr; always 0. */
int cli_exec_output_write(const cJSON *ev, void *unused);

#endif
