/* Internal to the registry client: one authenticated HTTP session with a
 * registry for one repository (scheme choice, TLS setup, WWW-Authenticate
 * challenges, Basic and Bearer tokens with expiry), shared by pull and push.
 * Not for use outside runtime/image/registry*.c. */
#ifndef STACK_IMAGE_REGISTRY_HTTP_H
#define STACK_IMAGE_REGISTRY_HTTP_H

#include <curl/curl.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "runtime/image/blobstore.h"
#include "runtime/util/sbuf.h"

struct stack_error;
struct reg_client;


/* What the last response of a request (after redirects) said. */
struct http_response {
  long status;
  char *content_type;
  char *docker_digest; /* Docker-Content-Digest */
  char *location;
  char *www_authenticate;
  char *range; /* the Range header of a 202 upload answer */
  int64_t content_length; /* -1 when absent */
  struct sbuf body;
  bool too_big; /* the body passed max_body and was cut off */
};
void http_response_clear(struct http_response *r);
static inline void http_response_clearp(struct http_response *r) { http_response_clear(r); }
#define _cleanup_http_response_ __attribute__((cleanup(http_response_clearp)))

/* Header callback for curl: fills a struct http_response (userdata),
 * resetting it at each new status line so that only the final response of a
 * redirect chain counts. */
size_t http_response_header_cb(char *buf, size_t size, size_t n, void *userdata);

/* Opens a session with host (e.g. "127.0.0.1:5000", "registry-1.docker.io")
 * for repo ("library/redis") with actions ("pull" or "pull,push"): pings
 * /v2/, picks the scheme, and authenticates as the registry asks. */
int reg_client_open(const char *host, const char *repo, const char *actions,
                    struct reg_client **out, struct stack_error **err);
/* Like reg_client_open, with explicit credentials (login). */
int reg_client_open_with(const char *host, const char *repo, const char *actions,
                         const char *user, const char *pass, struct reg_client **out,
                         struct stack_error **err);
void reg_client_free(struct reg_client *c);
static inline void reg_client_freep(struct reg_client **c) { reg_client_free(*c); }
#define _cleanup_reg_client_ __attribute__((cleanup(reg_client_freep)))
/* The store, opened for one pull or push. */
static inline void registry_blobstore_closep(struct blobstore **b) {
  if (*b)
    blobstore_close(*b);
}
#define _cleanup_blobstore_ __attribute__((cleanup(registry_blobstore_closep)))

/* "https://host/v2/<repo>" (owned by the client). */
const char *reg_client_repo_url(struct reg_client *c);
const char *reg_client_host(struct reg_client *c);
/* "https://host" (caller frees): for Location headers that are paths. */
char *reg_client_origin(struct reg_client *c);

struct reg_request {
  const char *method; /* "GET", "HEAD", "PUT", "POST", "PATCH" */
  const char *url;    /* absolute */
  const char *const *headers; /* extra "Name: value" lines, NULL-terminated, or NULL */
  const void *body;   /* request body from memory, or NULL */
  size_t body_len;
  int body_fd; /* or a body from this fd (body_fd_size bytes); -1 = none */
  int64_t body_fd_size;
  size_t max_body; /* response bodies beyond this are cut off (too_big) */
};

/* Performs a request, authenticating again once on a 401 (expired token,
 * wider scope needed).  HTTP errors are not errors here: check resp->status.
 * Transport failures are, with a message naming the host. */
int reg_client_do(struct reg_client *c, const struct reg_request *req, struct http_response *resp,
                  struct stack_error **err);

/* Prepares an easy handle for a transfer driven elsewhere (curl multi):
 * TLS, redirects, timeouts, and the current Authorization header in
 * *headers (the caller frees the list after the transfer). */
void reg_client_setup_easy(struct reg_client *c, CURL *e, const char *url,
                           struct curl_slist **headers);
/* Refreshes the Bearer token if it expired (before starting transfers). */
int reg_client_refresh(struct reg_client *c, struct stack_error **err);
/* Answers a 401's WWW-Authenticate challenge (a transfer driven elsewhere
 * was refused: the token expired during a long download). */
int reg_client_reauth(struct reg_client *c, const char *www_authenticate, struct stack_error **err);

/* Message for a curl failure on host: the error text plus, for TLS
 * verification errors, where to put the registry's CA (caller frees). */
char *reg_client_curl_error(struct reg_client *c, CURLcode code, const char *errbuf);

#endif
