/* The input side of `stack exec`: while the supervisor runs the session
 * and its output comes back on the main thread, stdin, window size changes
 * and signals go to the session as notifications on the same connection
 * (sup_proto.h: exec_stdin, exec_resize, exec_signal). */
#ifndef STACK_CLI_EXEC_INPUT_H
#define STACK_CLI_EXEC_INPUT_H

#include <stdbool.h>

typedef struct cJSON cJSON;
struct sup_client;
struct cli_exec_input;

/* Whether `exec` gets a pty: Compose's rule, unless -T, when stdin is a
 * terminal; with one, the terminal's size in *rows and *cols (0 if unknown). */
bool cli_exec_want_tty(bool no_tty, unsigned *rows, unsigned *cols);

/* Starts forwarding, after the exec request was sent: stdin (when
 * interactive; in raw mode with tty), SIGWINCH (with tty) and the signals
 * a user sends to stop a command (Ctrl-C without tty: with one it is a
 * byte of input).  When threads cannot start (message printed), the exec
 * still runs, without that input.  The process gives up on the command and
 * exits (128 + the signal, saying why) on a second SIGTERM, SIGHUP or
 * SIGQUIT, 10 s after the first one, on the third Ctrl-C, and at once on
 * any of them while the container's VM is paused. */
struct cli_exec_input *cli_exec_input_start(struct sup_client *client, bool interactive,
                                            bool tty);

/* The event handler for the session's events (sup_client_resume()):
 * output goes to stdout and stderr, and a "vm" event (the container's VM
 * was paused or resumed, params.paused, params.message) is said on stderr
 * and remembered for the signals.  in may be NULL. */
int cli_exec_input_event(const cJSON *ev, void *in);

/* Restores the terminal.  The forwarding threads may still block in
 * read(2) or sigwait(2): the process exits next, ending them. */
void cli_exec_input_stop(struct cli_exec_input *in);

#endif
