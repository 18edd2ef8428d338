/* A QMP (QEMU Machine Protocol) client on libuv.
 *
 * qmp_connect() connects to a VM's QMP socket (vm_qmp_path()), reads the
 * greeting and negotiates capabilities; the ready callback then fires and
 * commands may be sent.  Commands are queued and answered in order; each
 * gets its reply callback exactly once (with an error if the connection
 * drops first).  Asynchronous events (SHUTDOWN, STOP, RESUME, ...) go to the
 * event callback.
 *
 * Note: microvm with acpi=off has no ACPI power button, so
 * system_powerdown is a no-op there: shut a guest down through the control
 * channel (PROTO_SHUTDOWN), and use qmp_quit() as the hard stop.
 */
#ifndef STACK_VM_QMP_H
#define STACK_VM_QMP_H

#include <cjson/cJSON.h>
#include <stdbool.h>
#include <uv.h>

struct stack_error;
struct qmp;

/* status is 0 or -errno (-EIO for a QMP error reply, whose "desc" is in
 * error_desc; -ECONNRESET if the connection went away).  ret is the
 * "return" member on success (owned by the client, valid during the call). */
typedef void (*qmp_reply_cb)(struct qmp *q, int status, const cJSON *ret, const char *error_desc,
                             void *data);
/* Connection ready (status 0) or failed/closed (status < 0, then no more
 * callbacks except pending replies' failures). */
typedef void (*qmp_state_cb)(struct qmp *q, int status, void *data);
/* An event: name ("SHUTDOWN", ...) and its "data" member (may be NULL). */
typedef void (*qmp_event_cb)(struct qmp *q, const char *event, const cJSON *event_data,
                             void *data);

/* Starts connecting to the unix socket at path.  on_state is called once
 * with 0 when commands can be sent, and later with <0 when the connection
 * closes or fails.  on_event may be NULL. */
int qmp_connect(uv_loop_t *loop, const char *path, qmp_state_cb on_state, qmp_event_cb on_event,
                void *data, struct qmp **out, struct stack_error **err);

/* Sends {"execute": command, "arguments": args}.  Takes ownership of args
 * (may be NULL).  cb may be NULL.  Commands sent before the ready callback
 * are queued. */
int qmp_execute(struct qmp *q, const char *command, cJSON *args, qmp_reply_cb cb, void *data,
                struct stack_error **err);

/* Shorthands. */
int qmp_stop(struct qmp *q, qmp_reply_cb cb, void *data, struct stack_error **err);
int qmp_cont(struct qmp *q, qmp_reply_cb cb, void *data, struct stack_error **err);
int qmp_quit(struct qmp *q, qmp_reply_cb cb, void *data, struct stack_error **err);
int qmp_system_powerdown(struct qmp *q, qmp_reply_cb cb, void *data, struct stack_error **err);
/* The arguments of migrate-set-capabilities turning x-ignore-shared on:
 * a RAM block backed by a named file is not put into (or expected in) the
 * migration stream (a template's shared RAM, template.h).  Newly made. */
cJSON *qmp_ignore_shared_args(void);
/* query-status: ret has "status" ("running", "paused", ...) and "running". */
int qmp_query_status(struct qmp *q, qmp_reply_cb cb, void *data, struct stack_error **err);

/* A BLOCK_IO_ERROR event's data (QEMU's words; strings borrowed from the
 * event, valid as long as it).  QEMU pauses the VM on a write that failed
 * with ENOSPC (a drive's werror=enospc, the default) and says so here with
 * action "stop" and nospace true, then sends STOP. */
struct qmp_io_error {
  const char *device;    /* the drive's id ("data"), or "" */
  const char *operation; /* "read" or "write", or "" */
  const char *action;    /* "stop", "report" or "ignore", or "" */
  const char *reason;    /* "No space left on device", ..., or "" */
  bool nospace;
};

/* Reads a BLOCK_IO_ERROR event's data into *out; -EPROTO when it is not
 * an object with an action (QEMU is not trusted: the fields
 * are checked, never assumed). */
int qmp_io_error_parse(const cJSON *event_data, struct qmp_io_error *out);

/* Closes the connection; pending replies get -ECONNRESET; on_state is not
 * called.  The memory goes when libuv has closed the handle. */
void qmp_close(struct qmp *q);

/* Pure parsing, exposed for tests and the fuzz target: feeds bytes as read
 * from the socket; complete lines are parsed and dispatched (greeting,
 * replies, events).  Returns 0, or -EPROTO for a line that is not a JSON
 * object or is longer than 1 MiB (qmp_connect()'s reader then closes). */
int qmp_feed(struct qmp *q, const char *buf, size_t len, struct stack_error **err);

/* A client with no connection, for feeding bytes with qmp_feed() (tests and
 * the fuzz target); commands are queued but never written.  Free it with
 * qmp_free_unconnected(). */
struct qmp *qmp_new_unconnected(qmp_state_cb on_state, qmp_event_cb on_event, void *data);
void qmp_free_unconnected(struct qmp *q);

#endif
