#include "runtime/image/registry_http.h"

#include <cjson/cJSON.h>
#include <errno.h>
#include <libgen.h>
#include <string.h>
#include <strings.h>
#include <time.h>
#include <unistd.h>

#include "runtime/image/auth.h"
#include "runtime/image/credentials.h"
#include "runtime/image/reference.h"
#include "runtime/util/cleanup.h"
#include "runtime/util/error.h"
#include "runtime/util/fsutil.h"
#include "runtime/util/paths.h"
#include "runtime/util/xalloc.h"

#define SYSTEM_CA_BUNDLE "/etc/ssl/certs/ca-certificates.crt"
#define TOKEN_MAX (1u << 20)
#define CONFIG_MAX (1u << 20)

struct reg_client {
  char *host;
  char *repo;
  char *actions;
  char *scheme; /* "https" or "http" */
  char *repo_url;
  bool insecure;     /* listed in insecure-registries: TLS not verified */
  char *ca_pem;      /* system CAs + certs.d/<host>/ca.crt, or NULL for curl's default */
  size_t ca_pem_len;
  char *ca_file;     /* certs.d path (for messages), or NULL */
  char *user, *pass; /* or NULL */
  char *auth_header; /* "Authorization: ...", or NULL (anonymous) */
  time_t token_expiry; /* 0: does not expire (Basic, anonymous) */
  struct auth_challenge challenge; /* the last Bearer challenge, for refreshes */
  CURLcode last_curl;              /* of the last perform() */
  CURLSH *share;
  CURL *easy; /* reused for sequential requests: keeps the parsed CA store */
};

void http_response_clear(struct http_response *r) {
  free(r->content_type);
  free(r->docker_digest);
  free(r->location);
  free(r->www_authenticate);
  free(r->range);
  sbuf_free(&r->body);
  *r = (struct http_response){.content_length = -1};
}

static char *header_value(const char *buf, size_t len, const char *name) {
  size_t n = strlen(name);
  if (len <= n || strncasecmp(buf, name, n) != 0 || buf[n] != ':')
    return NULL;
  const char *v = buf + n + 1, *end = buf + len;
  while (v < end && (*v == ' ' || *v == '\t'))
    v++;
  while (end > v && (end[-1] == '\r' || end[-1] == '\n' || end[-1] == ' '))
    end--;
  return xstrndup(v, (size_t)(end - v));
}

size_t http_response_header_cb(char *buf, size_t size, size_t n, void *userdata) {
  struct http_response *r = userdata;
  size_t len = size * n;
  if (len >= 5 && strncmp(buf, "HTTP/", 5) == 0) {
    struct sbuf keep = r->body;
    bool too_big = r->too_big;
    r->body = (struct sbuf)SBUF_INIT;
    http_response_clear(r);
    r->body = keep;
    r->too_big = too_big;
    const char *sp = memchr(buf, ' ', len);
    if (sp)
      r->status = strtol(sp + 1, NULL, 10);
    return len;
  }
  char *v;
#define TAKE(field, name)                                                                          \
  if ((v = header_value(buf, len, name)) != NULL) {                                                \
    free(r->field);                                                                                \
    r->field = v;                                                                                  \
    return len;                                                                                    \
  }
  TAKE(content_type, "Content-Type");
  TAKE(docker_digest, "Docker-Content-Digest");
  TAKE(location, "Location");
  TAKE(www_authenticate, "WWW-Authenticate");
  TAKE(range, "Range");
#undef TAKE
  if ((v = header_value(buf, len, "Content-Length")) != NULL) {
    r->content_length = strtoll(v, NULL, 10);
    free(v);
  }
  return len;
}

struct body_sink {
  struct http_response *resp;
  size_t max;
};

static size_t body_cb(char *buf, size_t size, size_t n, void *userdata) {
  struct body_sink *s = userdata;
  size_t len = size * n;
  /* Only the final response's body matters; redirect bodies are small. */
  if (s->resp->body.len + len > s->max) {
    s->resp->too_big = true;
    return 0; /* aborts the transfer */
  }
  sbuf_append(&s->resp->body, buf, len);
  return len;
}

static size_t fd_read_cb(char *buf, size_t size, size_t n, void *userdata) {
  int fd = *(int *)userdata;
  ssize_t r;
  do
    r = read(fd, buf, size * n);
  while (r < 0 && errno == EINTR);
  return r < 0 ? CURL_READFUNC_ABORT : (size_t)r;
}

void reg_client_free(struct reg_client *c) {
  if (c == NULL)
    return;
  free(c->host);
  free(c->repo);
  free(c->actions);
  free(c->scheme);
  free(c->repo_url);
  free(c->ca_pem);
  free(c->ca_file);
  free(c->user);
  if (c->pass)
    explicit_bzero(c->pass, strlen(c->pass));
  free(c->pass);
  free(c->auth_header);
  auth_challenge_clear(&c->challenge);
  if (c->easy)
    curl_easy_cleanup(c->easy);
  if (c->share)
    curl_share_cleanup(c->share);
  free(c);
}


const char *reg_client_repo_url(struct reg_client *c) { return c->repo_url; }
const char *reg_client_host(struct reg_client *c) { return c->host; }
char *reg_client_origin(struct reg_client *c) { return xasprintf("%s://%s", c->scheme, c->host); }

void reg_client_setup_easy(struct reg_client *c, CURL *e, const char *url,
                           struct curl_slist **headers) {
  curl_easy_setopt(e, CURLOPT_URL, url);
  curl_easy_setopt(e, CURLOPT_NOSIGNAL, 1L);
  curl_easy_setopt(e, CURLOPT_FOLLOWLOCATION, 1L);
  curl_easy_setopt(e, CURLOPT_MAXREDIRS, 5L);
  curl_easy_setopt(e, CURLOPT_PROTOCOLS_STR, "http,https");
  curl_easy_setopt(e, CURLOPT_REDIR_PROTOCOLS_STR, "http,https");
  curl_easy_setopt(e, CURLOPT_CONNECTTIMEOUT, 20L);
  /* A stalled transfer fails (and resumes on retry) instead of hanging. */
  curl_easy_setopt(e, CURLOPT_LOW_SPEED_LIMIT, 1L);
  curl_easy_setopt(e, CURLOPT_LOW_SPEED_TIME, 60L);
  curl_easy_setopt(e, CURLOPT_HTTP_VERSION, (long)CURL_HTTP_VERSION_2TLS);
  curl_easy_setopt(e, CURLOPT_USERAGENT, "stack/0.1");
  curl_easy_setopt(e, CURLOPT_SHARE, c->share);
  if (c->insecure) {
    curl_easy_setopt(e, CURLOPT_SSL_VERIFYPEER, 0L);
    curl_easy_setopt(e, CURLOPT_SSL_VERIFYHOST, 0L);
  } else if (c->ca_pem) {
    struct curl_blob blob = {.data = c->ca_pem, .len = c->ca_pem_len, .flags = CURL_BLOB_COPY};
    curl_easy_setopt(e, CURLOPT_CAINFO_BLOB, &blob);
  }
  /* Uploads must not wait a second for "100 Continue". */
  *headers = curl_slist_append(*headers, "Expect:");
  if (c->auth_header)
    *headers = curl_slist_append(*headers, c->auth_header);
  curl_easy_setopt(e, CURLOPT_HTTPHEADER, *headers);
}

char *reg_client_curl_error(struct reg_client *c, CURLcode code, const char *errbuf) {
  const char *what = errbuf && *errbuf ? errbuf : curl_easy_strerror(code);
  if (code == CURLE_PEER_FAILED_VERIFICATION || code == CURLE_SSL_CACERT_BADFILE) {
    _cleanup_free_ char *cfg = stack_config_path();
    return xasprintf("TLS verification of %s failed (%s); if the registry uses a private CA, "
                     "put its certificate in %s/certs.d/%s/ca.crt",
                     c->host, what, dirname(cfg), c->host);
  }
  if (code == CURLE_TOO_MANY_REDIRECTS)
    return xasprintf("%s: too many redirects (%s)", c->host, what);
  return xasprintf("cannot talk to registry %s: %s", c->host, what);
}

/* One request without auth retries. */
static int perform(struct reg_client *c, const struct reg_request *req, struct http_response *resp,
                   struct stack_error **err) {
  http_response_clear(resp);
  if (c->easy == NULL && (c->easy = curl_easy_init()) == NULL)
    return stack_error_set(err, -ENOMEM, "curl_easy_init failed");
  CURL *e = c->easy;
  curl_easy_reset(e);
  struct curl_slist *headers = NULL;
  for (const char *const *h = req->headers; h && *h; h++)
    headers = curl_slist_append(headers, *h);
  reg_client_setup_easy(c, e, req->url, &headers);
  char errbuf[CURL_ERROR_SIZE] = "";
  curl_easy_setopt(e, CURLOPT_ERRORBUFFER, errbuf);
  curl_easy_setopt(e, CURLOPT_HEADERFUNCTION, http_response_header_cb);
  curl_easy_setopt(e, CURLOPT_HEADERDATA, resp);
  struct body_sink sink = {resp, req->max_body ? req->max_body : (1u << 20)};
  curl_easy_setopt(e, CURLOPT_WRITEFUNCTION, body_cb);
  curl_easy_setopt(e, CURLOPT_WRITEDATA, &sink);
  curl_easy_setopt(e, CURLOPT_MAXFILESIZE_LARGE, (curl_off_t)sink.max);
  int fd = req->body_fd;
  if (strcmp(req->method, "HEAD") == 0) {
    curl_easy_setopt(e, CURLOPT_NOBODY, 1L);
  } else if (fd >= 0) {
    curl_easy_setopt(e, CURLOPT_UPLOAD, 1L);
    curl_easy_setopt(e, CURLOPT_READFUNCTION, fd_read_cb);
    curl_easy_setopt(e, CURLOPT_READDATA, &fd);
    curl_easy_setopt(e, CURLOPT_INFILESIZE_LARGE, (curl_off_t)req->body_fd_size);
    curl_easy_setopt(e, CURLOPT_CUSTOMREQUEST, req->method);
  } else if (strcmp(req->method, "GET") != 0) {
    curl_easy_setopt(e, CURLOPT_POSTFIELDS, req->body ? req->body : "");
    curl_easy_setopt(e, CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t)req->body_len);
    curl_easy_setopt(e, CURLOPT_CUSTOMREQUEST, req->method);
  }
  CURLcode rc = curl_easy_perform(e);
  c->last_curl = rc;
  /* Nothing of this request may outlive it in the reused handle. */
  curl_easy_setopt(e, CURLOPT_HTTPHEADER, NULL);
  curl_easy_setopt(e, CURLOPT_ERRORBUFFER, NULL);
  curl_slist_free_all(headers);
  if (rc == CURLE_WRITE_ERROR && resp->too_big)
    return 0; /* the caller reports it with context */
  if (rc == CURLE_FILESIZE_EXCEEDED) {
    resp->too_big = true;
    return 0;
  }
  if (rc != CURLE_OK) {
    _cleanup_free_ char *m = reg_client_curl_error(c, rc, errbuf);
    return stack_error_set(err, rc == CURLE_OPERATION_TIMEDOUT ? -ETIMEDOUT : -EIO, "%s", m);
  }
  return 0;
}

/* Fetches a Bearer token for the challenge (with the scope this client
 * needs) and installs it. */
static int fetch_token(struct reg_client *c, struct stack_error **err) {
  if (c->challenge.realm == NULL)
    return stack_error_set(err, -EPROTO, "registry %s asked for a token but named no realm",
                           c->host);
  if (strncmp(c->challenge.realm, "https://", 8) != 0 &&
      strncmp(c->challenge.realm, "http://", 7) != 0)
    return stack_error_set(err, -EPROTO, "registry %s names an invalid token realm \"%.200s\"",
                           c->host, c->challenge.realm);
  CURL *esc = curl_easy_init();
  if (esc == NULL)
    return stack_error_set(err, -ENOMEM, "curl_easy_init failed");
  _cleanup_free_ char *scope = xasprintf("repository:%s:%s", c->repo, c->actions);
  char *s_service = c->challenge.service ? curl_easy_escape(esc, c->challenge.service, 0) : NULL;
  char *s_scope = c->repo[0] ? curl_easy_escape(esc, scope, 0) : NULL;
  _cleanup_free_ char *url =
      xasprintf("%s%sservice=%s%s%s", c->challenge.realm, strchr(c->challenge.realm, '?') ? "&" : "?",
                s_service ? s_service : "", s_scope ? "&scope=" : "", s_scope ? s_scope : "");
  curl_free(s_service);
  curl_free(s_scope);
  curl_easy_cleanup(esc);

  /* The token endpoint gets the user's credentials, never an old token. */
  free(c->auth_header);
  c->auth_header = NULL;
  if (c->user)
    c->auth_header = auth_basic_header(c->user, c->pass);
  struct http_response resp = {.content_length = -1};
  struct reg_request req = {.method = "GET", .url = url, .body_fd = -1, .max_body = TOKEN_MAX};
  int r = perform(c, &req, &resp, err);
  free(c->auth_header);
  c->auth_header = NULL;
  if (r < 0) {
    http_response_clear(&resp);
    return stack_error_prefix(err, "token server of %s", c->host);
  }
  if (resp.status == 401 || resp.status == 403) {
    http_response_clear(&resp);
    return stack_error_set(err, -EACCES,
                           c->user ? "registry %s rejected the credentials for %s: run `stack login "
                                     "%s` with the right ones"
                                   : "registry %s requires authentication for %s: run `stack "
                                     "login %s` first",
                           c->host, c->repo, c->host);
  }
  if (resp.status != 200 || resp.too_big) {
    r = stack_error_set(err, -EPROTO, "token server of %s answered HTTP %ld", c->host, resp.status);
    http_response_clear(&resp);
    return r;
  }
  _cleanup_free_ char *token = NULL;
  int64_t expires_in;
  r = auth_token_parse(resp.body.data ? resp.body.data : "", resp.body.len, &token, &expires_in, err);
  http_response_clear(&resp);
  if (r < 0)
    return stack_error_prefix(err, "token server of %s", c->host);
  c->auth_header = xasprintf("Authorization: Bearer %s", token);
  /* Renew a little early so that a token never expires mid-request. */
  c->token_expiry = time(NULL) + (expires_in > 20 ? expires_in - 10 : expires_in);
  return 0;
}

/* Answers a 401's challenge. */
static int authenticate(struct reg_client *c, const char *www_authenticate,
                        struct stack_error **err) {
  struct auth_challenge ch;
  int r = auth_challenge_parse(www_authenticate ? www_authenticate : "", &ch, err);
  if (r < 0)
    return stack_error_prefix(err, "registry %s", c->host);
  auth_challenge_clear(&c->challenge);
  c->challenge = ch;
  if (strcasecmp(ch.scheme, "Basic") == 0) {
    if (c->user == NULL)
      return stack_error_set(err, -EACCES,
                             "registry %s requires authentication: run `stack login %s` first",
                             c->host, c->host);
    free(c->auth_header);
    c->auth_header = auth_basic_header(c->user, c->pass);
    c->token_expiry = 0;
    return 0;
  }
  if (strcasecmp(ch.scheme, "Bearer") == 0)
    return fetch_token(c, err);
  return stack_error_set(err, -ENOTSUP, "registry %s asks for unsupported authentication \"%s\"",
                         c->host, ch.scheme);
}

int reg_client_reauth(struct reg_client *c, const char *www_authenticate, struct stack_error **err) {
  return authenticate(c, www_authenticate, err);
}

int reg_client_refresh(struct reg_client *c, struct stack_error **err) {
  if (c->token_expiry != 0 && time(NULL) >= c->token_expiry)
    return fetch_token(c, err);
  return 0;
}

int reg_client_do(struct reg_client *c, const struct reg_request *req, struct http_response *resp,
                  struct stack_error **err) {
  int r = reg_client_refresh(c, err);
  if (r < 0)
    return r;
  for (int attempt = 0;; attempt++) {
    r = perform(c, req, resp, err);
    if (r < 0 || resp->status != 401 || attempt > 0)
      return r;
    /* A body from an fd has been consumed: rewind it for the retry. */
    if (req->body_fd >= 0 && lseek(req->body_fd, 0, SEEK_SET) < 0)
      return stack_error_errno(err, -errno, "cannot rewind upload");
    r = authenticate(c, resp->www_authenticate, err);
    if (r < 0)
      return r;
  }
}

static bool listed_insecure(const char *host, struct stack_error **err) {
  _cleanup_free_ char *path = stack_config_path();
  _cleanup_free_ char *data = NULL;
  size_t len;
  if (!fs_exists(path) || fs_read_file(path, CONFIG_MAX, &data, &len, NULL) < 0)
    return false;
  cJSON *root = cJSON_ParseWithLength(data, len);
  bool found = false;
  const cJSON *it;
  cJSON_ArrayForEach(it, cJSON_GetObjectItemCaseSensitive(root, "insecure-registries")) {
    if (cJSON_IsString(it) && strcasecmp(it->valuestring, host) == 0)
      found = true;
  }
  cJSON_Delete(root);
  return found;
}

static void load_ca(struct reg_client *c) {
  _cleanup_free_ char *cfg = stack_config_path();
  _cleanup_free_ char *path = xasprintf("%s/certs.d/%s/ca.crt", dirname(cfg), c->host);
  _cleanup_free_ char *extra = NULL, *sys = NULL;
  size_t extra_len = 0, sys_len = 0;
  if (!fs_exists(path) || fs_read_file(path, 1u << 20, &extra, &extra_len, NULL) < 0)
    return;
  if (fs_read_file(SYSTEM_CA_BUNDLE, 16u << 20, &sys, &sys_len, NULL) < 0)
    sys_len = 0;
  c->ca_pem = xmalloc(sys_len + extra_len + 2);
  if (sys_len)
    memcpy(c->ca_pem, sys, sys_len);
  c->ca_pem[sys_len] = '\n';
  memcpy(c->ca_pem + sys_len + 1, extra, extra_len);
  c->ca_pem_len = sys_len + 1 + extra_len;
  c->ca_pem[c->ca_pem_len] = '\0';
  c->ca_file = steal_pointer(&path);
}

static void set_scheme(struct reg_client *c, const char *scheme) {
  free(c->scheme);
  free(c->repo_url);
  c->scheme = xstrdup(scheme);
  c->repo_url = xasprintf("%s://%s/v2/%s", scheme, c->host, c->repo);
}

/* Pings /v2/ and settles the scheme.  Loopback registries are tried over
 * plain HTTP first (allowed there, and it spares a TLS handshake per pull);
 * a TLS-only one answers 400 or drops the request, and gets HTTPS.  Other
 * hosts get HTTPS, falling back to HTTP only when listed as insecure and
 * only when the TLS handshake itself failed (not the certificate check). */
static int ping_scheme(struct reg_client *c, bool loopback, struct http_response *resp,
                       struct stack_error **err) {
  _cleanup_free_ char *http_ping = xasprintf("http://%s/v2/", c->host);
  _cleanup_free_ char *https_ping = xasprintf("https://%s/v2/", c->host);
  struct reg_request req = {.method = "GET", .body_fd = -1, .max_body = 64 << 10};
  if (loopback && !c->insecure) {
    set_scheme(c, "http");
    req.url = http_ping;
    _cleanup_error_ struct stack_error *http_err = NULL;
    int r = perform(c, &req, resp, &http_err);
    if (r == 0 && resp->status != 400)
      return 0;
    if (r < 0 && (c->last_curl == CURLE_COULDNT_CONNECT || c->last_curl == CURLE_OPERATION_TIMEDOUT)) {
      if (err) {
        stack_error_free(*err);
        *err = steal_pointer(&http_err);
      }
      return r;
    }
    set_scheme(c, "https");
    req.url = https_ping;
    return perform(c, &req, resp, err);
  }
  set_scheme(c, "https");
  req.url = https_ping;
  _cleanup_error_ struct stack_error *tls_err = NULL;
  int r = perform(c, &req, resp, &tls_err);
  bool tls_verify_failed =
      c->last_curl == CURLE_PEER_FAILED_VERIFICATION || c->last_curl == CURLE_SSL_CACERT_BADFILE;
  if (r < 0 && c->insecure && !tls_verify_failed) {
    set_scheme(c, "http");
    req.url = http_ping;
    r = perform(c, &req, resp, NULL);
    if (r == 0)
      return 0;
  }
  if (r < 0 && err) {
    /* The HTTPS failure is the one a user can act on. */
    stack_error_free(*err);
    *err = steal_pointer(&tls_err);
  }
  return r;
}

int reg_client_open_with(const char *host, const char *repo, const char *actions,
                         const char *user, const char *pass, struct reg_client **out,
                         struct stack_error **err) {
  _cleanup_reg_client_ struct reg_client *c = xcalloc(1, sizeof(*c));
  c->host = xstrdup(host);
  c->repo = xstrdup(repo);
  c->actions = xstrdup(actions);
  c->share = curl_share_init();
  if (c->share == NULL)
    return stack_error_set(err, -ENOMEM, "curl_share_init failed");
  curl_share_setopt(c->share, CURLSHOPT_SHARE, CURL_LOCK_DATA_DNS);
  curl_share_setopt(c->share, CURLSHOPT_SHARE, CURL_LOCK_DATA_SSL_SESSION);
  curl_share_setopt(c->share, CURLSHOPT_SHARE, CURL_LOCK_DATA_CONNECT);
  c->insecure = listed_insecure(host, err);
  load_ca(c);
  if (user) {
    c->user = xstrdup(user);
    c->pass = xstrdup(pass ? pass : "");
  }
  bool loopback = image_ref_host_is_loopback(host);

  struct http_response resp = {.content_length = -1};
  int r = ping_scheme(c, loopback, &resp, err);
  if (r < 0) {
    http_response_clear(&resp);
    return r;
  }
  if (resp.status == 401) {
    r = authenticate(c, resp.www_authenticate, err);
    http_response_clear(&resp);
    if (r < 0)
      return r;
  } else if (resp.status != 200) {
    r = stack_error_set(err, -EPROTO,
                        "%s does not look like a registry: GET /v2/ answered HTTP %ld", host,
                        resp.status);
    http_response_clear(&resp);
    return r;
  } else {
    http_response_clear(&resp);
    /* Anonymous registries may still accept credentials later (401 on
     * push): authenticate() handles that on demand. */
  }
  *out = steal_pointer(&c);
  return 0;
}

int reg_client_open(const char *host, const char *repo, const char *actions,
                    struct reg_client **out, struct stack_error **err) {
  _cleanup_free_ char *user = NULL, *pass = NULL;
  int r = credentials_lookup(host, &user, &pass, err);
  if (r < 0)
    return r;
  r = reg_client_open_with(host, repo, actions, user, pass, out, err);
  if (pass)
    explicit_bzero(pass, strlen(pass));
  return r;
}
