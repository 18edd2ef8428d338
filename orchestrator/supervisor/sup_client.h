/* The client side of the supervisor socket, used by the CLI verbs: find a
 * project's supervisor (starting it when asked), send requests, read
 * results and event streams.  Blocking I/O: a CLI does one thing at a time. */
#ifndef STACK_SUPERVISOR_SUP_CLIENT_H
#define STACK_SUPERVISOR_SUP_CLIENT_H

#include <stdbool.h>

typedef struct cJSON cJSON;
struct stack_error;
struct sup_paths;

struct sup_client;

/* Connects to the project's running supervisor; -ENOENT or -ECONNREFUSED
 * (with a message) when none runs. */
int sup_client_connect(const struct sup_paths *p, struct sup_client **out,
                       struct stack_error **err);

/* Connects, starting the supervisor first when none runs (sup_daemon.h);
 * exe as for sup_daemon_start(). */
int sup_client_open(const struct sup_paths *p, const char *exe, struct sup_client **out,
                    struct stack_error **err);

/* Sends a request (params taken over, may be NULL) and waits for its
 * result (caller frees); events before it are passed to on_event (may be
 * NULL: dropped) -- a non-zero return from on_event stops waiting and is
 * returned.  The server's errors come back with their code and message. */
int sup_client_call(struct sup_client *c, const char *method, cJSON *params,
                    int (*on_event)(const cJSON *event, void *ctx), void *ctx, cJSON **result,
                    struct stack_error **err);

/* Sends a request without waiting for its result (read it later with
 * sup_client_resume(), or close: what the request started goes on). */
int sup_client_send(struct sup_client *c, const char *method, cJSON *params,
                    struct stack_error **err);

/* Goes on waiting for the result of the last request after
 * sup_client_call() returned early (on_event's value, or -EINTR), with the
 * same arguments and results as sup_client_call(). */
int sup_client_resume(struct sup_client *c, int (*on_event)(const cJSON *event, void *ctx),
                      void *ctx, cJSON **result, struct stack_error **err);

/* With a flag set, a blocking read that a signal interrupts returns -EINTR
 * if *flag is non-zero (a CLI's Ctrl-C handler sets it). */
void sup_client_set_interrupt(struct sup_client *c, volatile int *flag);

/* Waits for the next event of the last request, after sup_client_call()
 * stopped at an event: 0 with *event (caller frees), or an error -- also
 * when the request's result comes instead (-ENOMSG). */
int sup_client_next_event(struct sup_client *c, cJSON **event, struct stack_error **err);

/* The connection's fd, for callers that wait on it together with others. */
int sup_client_fd(const struct sup_client *c);

void sup_client_free(struct sup_client *c);
void sup_client_freep(struct sup_client **c);
#define _cleanup_sup_client_ __attribute__((cleanup(sup_client_freep)))

#endif
