/* The supervisor's wire protocol: newline-delimited JSON over a unix socket.
 *
 *   request   {"id": 7, "method": "ps", "params": {...}}
 *   response  {"id": 7, "result": {...}}
 *          or {"id": 7, "error": {"code": -2, "message": "..."}}
 *   event     {"id": 7, "event": {...}}   zero or more before the response
 *                                         of a streaming method (logs -f,
 *                                         events)
 *
 * A few methods are notifications that never get a reply (exec_stdin,
 * exec_resize, exec_signal: input to the exec session that this connection
 * started, sent while it runs).
 *
 * id is any JSON number or string chosen by the client and echoed back;
 * code is a negative errno value.  A line longer than SUP_MAX_LINE closes the
 * connection. */
#ifndef STACK_SUPERVISOR_SUP_PROTO_H
#define STACK_SUPERVISOR_SUP_PROTO_H

#include <stdbool.h>
#include <stddef.h>

typedef struct cJSON cJSON;
struct stack_error;

#define SUP_PROTO_VERSION 1
#define SUP_MAX_LINE (1u << 20)

/* Splits a byte stream into lines. */
struct sup_linebuf {
  char *data;
  size_t len, cap;
  size_t scanned; /* bytes of data already known to hold no newline */
};

/* Appends received bytes; -EMSGSIZE once a line grows past SUP_MAX_LINE. */
int sup_linebuf_feed(struct sup_linebuf *b, const char *data, size_t n);
/* Takes the next complete line (without its newline, NUL-terminated) into
 * *line (caller frees) and returns 1, or returns 0 if none is complete. */
int sup_linebuf_next(struct sup_linebuf *b, char **line, size_t *len);
void sup_linebuf_free(struct sup_linebuf *b);

struct sup_request {
  cJSON *root;        /* owned */
  const cJSON *id;    /* in root; NULL if absent */
  const char *method; /* in root */
  const cJSON *params; /* in root; an object, NULL if absent */
};

/* Parses one request line; a malformed request is an error whose message
 * can go back to the client (with the id, if one could be read, in *req). */
int sup_request_parse(const char *line, size_t len, struct sup_request *req,
                      struct stack_error **err);
void sup_request_clear(struct sup_request *req);

/* Request parameters.  The string at key, or NULL. */
const char *sup_param_str(const cJSON *params, const char *key);
/* Whether key is JSON true. */
bool sup_param_true(const cJSON *params, const char *key);
/* The list of strings at key as a NULL-terminated vector: *out is NULL
 * when key is absent or null, and for [] unless keep_empty (an empty
 * --entrypoint means none; no services named means all).  Anything but a
 * list of strings is an error. */
int sup_param_strv(const cJSON *params, const char *key, bool keep_empty, char ***out,
                   struct stack_error **err);

/* Lines to send, each ending in '\n' (caller frees).  id may be NULL
 * (JSON null); result and event are taken over (NULL means {}). */
char *sup_format_result(const cJSON *id, cJSON *result);
char *sup_format_error(const cJSON *id, int code, const char *message);
char *sup_format_event(const cJSON *id, cJSON *event);
/* A request line (params taken over, NULL means none). */
char *sup_format_request(long id, const char *method, cJSON *params);

/* Reads a reply line as a client: 0 with *result (a result), 1 with *event
 * (an event), or the server's error (its code and message) -- in each case
 * after checking that the id is `id`. */
int sup_parse_reply(const char *line, size_t len, long id, cJSON **result, cJSON **event,
                    struct stack_error **err);

#endif
