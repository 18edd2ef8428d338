#include "runtime/image/cred_helper.h"

#include <cjson/cJSON.h>
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <spawn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "runtime/util/cjson_cleanup.h"
#include "runtime/util/cleanup.h"
#include "runtime/util/error.h"
#include "runtime/util/fdio.h"
#include "runtime/util/sbuf.h"
#include "runtime/util/xalloc.h"

extern char **environ;

/* What a helper may print on one stream; more is an error. */
#define HELPER_OUT_MAX (64u << 10)
/* A helper may wait for a keychain to unlock, but not for ever. */
#define HELPER_TIMEOUT_MS (120 * 1000)
#define NOT_FOUND "credentials not found in native keychain"

bool cred_helper_name_ok(const char *name) {
  if (name == NULL || name[0] == '\0' || name[0] == '.' || strlen(name) > 128)
    return false;
  for (const char *p = name; *p; p++)
    if (!((*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z') || (*p >= '0' && *p <= '9') ||
          *p == '.' || *p == '_' || *p == '-'))
      return false;
  return true;
}

char *cred_helper_server_url(const char *host) {
  return xstrdup(strcmp(host, "docker.io") == 0 ? "https://index.docker.io/v1/" : host);
}

static void wipe(struct sbuf *b) {
  if (b->data)
    explicit_bzero(b->data, b->len);
  sbuf_free(b);
}

static int64_t now_ms(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* Runs `docker-credential-<helper> <verb>` with input on its stdin; out
 * and errtext get what it printed, *status its wait status. */
static int run(const char *helper, const char *verb, const char *input, struct sbuf *out,
               struct sbuf *errtext, int *status, struct stack_error **err) {
  _cleanup_free_ char *prog = xasprintf("docker-credential-%s", helper);
  /* stdin is a socket: a helper that exits without reading it gets no
   * SIGPIPE sent back to us (send() with MSG_NOSIGNAL) */
  int in[2], o[2], e[2];
  if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, in) < 0)
    return stack_error_errno(err, -errno, "%s: socketpair", prog);
  if (pipe2(o, O_CLOEXEC) < 0) {
    int r = -errno;
    close(in[0]), close(in[1]);
    return stack_error_errno(err, r, "%s: pipe", prog);
  }
  if (pipe2(e, O_CLOEXEC) < 0) {
    int r = -errno;
    close(in[0]), close(in[1]), close(o[0]), close(o[1]);
    return stack_error_errno(err, r, "%s: pipe", prog);
  }
  posix_spawn_file_actions_t fa;
  posix_spawn_file_actions_init(&fa);
  posix_spawn_file_actions_adddup2(&fa, in[1], 0);
  posix_spawn_file_actions_adddup2(&fa, o[1], 1);
  posix_spawn_file_actions_adddup2(&fa, e[1], 2);
  char *argv[] = {prog, (char *)verb, NULL};
  pid_t pid;
  int sr = posix_spawnp(&pid, prog, &fa, NULL, argv, environ);
  posix_spawn_file_actions_destroy(&fa);
  close(in[1]), close(o[1]), close(e[1]);
  _cleanup_close_ int to = in[0], from = o[0], from_err = e[0];
  if (sr == ENOENT)
    return stack_error_set(err, -ENOENT, "%s is not installed (no such program in PATH)", prog);
  if (sr != 0)
    return stack_error_errno(err, -sr, "%s: cannot run it", prog);

  size_t len = strlen(input);
  int r = 0;
  if (len > 0 && send(to, input, len, MSG_NOSIGNAL) < 0 && errno != EPIPE)
    r = stack_error_errno(err, -errno, "%s %s: writing its input", prog, verb);
  shutdown(to, SHUT_WR);

  struct pollfd pfd[2] = {{.fd = from, .events = POLLIN}, {.fd = from_err, .events = POLLIN}};
  struct sbuf *bufs[2] = {out, errtext};
  int open = 2;
  int64_t deadline = now_ms() + HELPER_TIMEOUT_MS;
  while (r == 0 && open > 0) {
    int64_t left = deadline - now_ms();
    if (left <= 0) {
      r = stack_error_set(err, -ETIMEDOUT, "%s %s did not answer within %d s", prog, verb,
                          HELPER_TIMEOUT_MS / 1000);
      break;
    }
    int n = poll(pfd, 2, (int)left);
    if (n < 0) {
      if (errno == EINTR)
        continue;
      r = stack_error_errno(err, -errno, "%s: poll", prog);
      break;
    }
    for (int i = 0; i < 2 && r == 0; i++) {
      if (pfd[i].fd < 0 || !(pfd[i].revents & (POLLIN | POLLHUP | POLLERR)))
        continue;
      char chunk[4096];
      ssize_t got = read(pfd[i].fd, chunk, sizeof(chunk));
      if (got < 0 && errno == EINTR)
        continue;
      if (got <= 0) {
        pfd[i].fd = -1;
        open--;
        continue;
      }
      if (bufs[i]->len + (size_t)got > HELPER_OUT_MAX)
        r = stack_error_set(err, -EPROTO, "%s %s printed more than %u bytes", prog, verb,
                            HELPER_OUT_MAX);
      else
        sbuf_append(bufs[i], chunk, (size_t)got);
    }
  }
  explicit_bzero(&pfd, sizeof(pfd));
  if (r < 0)
    kill(pid, SIGKILL);
  int st;
  while (waitpid(pid, &st, 0) < 0 && errno == EINTR)
    ;
  *status = st;
  return r;
}

/* What a failed helper said: stdout (where helpers print their errors),
 * else stderr, trimmed, with its exit status. */
static char *failure(const struct sbuf *out, const struct sbuf *errtext, int status) {
  const struct sbuf *b = out->len ? out : errtext;
  size_t n = b->len;
  const char *s = b->data ? b->data : "";
  while (n > 0 && (s[n - 1] == '\n' || s[n - 1] == '\r' || s[n - 1] == ' '))
    n--;
  if (n > 400)
    n = 400;
  _cleanup_free_ char *how = WIFEXITED(status) ? xasprintf("exit status %d", WEXITSTATUS(status))
                                               : xasprintf("killed by signal %d", WTERMSIG(status));
  return n ? xasprintf("%.*s (%s)", (int)n, s, how) : xstrdup(how);
}

static bool said_not_found(const struct sbuf *out) {
  size_t n = out->len;
  while (n > 0 && (out->data[n - 1] == '\n' || out->data[n - 1] == '\r'))
    n--;
  return n == strlen(NOT_FOUND) && memcmp(out->data, NOT_FOUND, n) == 0;
}

int cred_helper_parse_get(const char *json, size_t len, char **user, char **secret,
                          struct stack_error **err) {
  *user = *secret = NULL;
  _cleanup_cjson_ cJSON *j = cJSON_ParseWithLength(json, len);
  const cJSON *u = cJSON_GetObjectItemCaseSensitive(j, "Username");
  const cJSON *s = cJSON_GetObjectItemCaseSensitive(j, "Secret");
  int r = 0;
  if (!cJSON_IsObject(j))
    r = stack_error_set(err, -EPROTO, "its answer is not a JSON object");
  else if (!cJSON_IsString(u) || !cJSON_IsString(s) || s->valuestring[0] == '\0')
    r = stack_error_set(err, -EPROTO, "its answer has no Username and Secret strings");
  else if (strcmp(u->valuestring, "<token>") == 0)
    r = stack_error_set(err, -ENOTSUP,
                        "it gave an identity token, which stack cannot use yet: store a "
                        "username and password (or access token) for this registry instead");
  if (r == 0) {
    *user = xstrdup(u->valuestring);
    *secret = xstrdup(s->valuestring);
  }
  if (cJSON_IsString(s))
    explicit_bzero(s->valuestring, strlen(s->valuestring));
  return r;
}

int cred_helper_get(const char *helper, const char *server_url, char **user, char **secret,
                    struct stack_error **err) {
  *user = *secret = NULL;
  struct sbuf out = SBUF_INIT, errtext = SBUF_INIT;
  int status = 0;
  int r = run(helper, "get", server_url, &out, &errtext, &status, err);
  if (r == 0 && !(WIFEXITED(status) && WEXITSTATUS(status) == 0)) {
    if (said_not_found(&out)) {
      r = 0;
    } else {
      _cleanup_free_ char *why = failure(&out, &errtext, status);
      r = stack_error_set(err, -EIO, "docker-credential-%s get %s failed: %s", helper, server_url,
                          why);
    }
  } else if (r == 0) {
    r = cred_helper_parse_get(out.data ? out.data : "", out.len, user, secret, err);
    if (r < 0)
      stack_error_prefix(err, "docker-credential-%s get %s", helper, server_url);
    else
      r = 1;
  }
  wipe(&out);
  wipe(&errtext);
  return r;
}

int cred_helper_store(const char *helper, const char *server_url, const char *user,
                      const char *secret, struct stack_error **err) {
  _cleanup_cjson_ cJSON *req = cJSON_CreateObject();
  cJSON_AddStringToObject(req, "ServerURL", server_url);
  cJSON_AddStringToObject(req, "Username", user);
  cJSON_AddStringToObject(req, "Secret", secret);
  char *input = cJSON_PrintUnformatted(req);
  if (input == NULL)
    abort();
  cJSON *s = cJSON_GetObjectItemCaseSensitive(req, "Secret");
  explicit_bzero(s->valuestring, strlen(s->valuestring));
  struct sbuf out = SBUF_INIT, errtext = SBUF_INIT;
  int status = 0;
  int r = run(helper, "store", input, &out, &errtext, &status, err);
  explicit_bzero(input, strlen(input));
  free(input);
  if (r == 0 && !(WIFEXITED(status) && WEXITSTATUS(status) == 0)) {
    _cleanup_free_ char *why = failure(&out, &errtext, status);
    r = stack_error_set(err, -EIO, "docker-credential-%s store %s failed: %s", helper, server_url,
                        why);
  }
  wipe(&out);
  wipe(&errtext);
  return r;
}

int cred_helper_erase(const char *helper, const char *server_url, struct stack_error **err) {
  struct sbuf out = SBUF_INIT, errtext = SBUF_INIT;
  int status = 0;
  int r = run(helper, "erase", server_url, &out, &errtext, &status, err);
  if (r == 0 && !(WIFEXITED(status) && WEXITSTATUS(status) == 0)) {
    if (said_not_found(&out)) {
      r = stack_error_set(err, -ENOENT, "not logged in to %s (docker-credential-%s has nothing "
                                        "for it)",
                          server_url, helper);
    } else {
      _cleanup_free_ char *why = failure(&out, &errtext, status);
      r = stack_error_set(err, -EIO, "docker-credential-%s erase %s failed: %s", helper,
                          server_url, why);
    }
  }
  wipe(&out);
  wipe(&errtext);
  return r;
}
