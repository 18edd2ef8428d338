#include "cli_exec_input.h"

#include <cjson/cJSON.h>
#include <errno.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <stdarg.h>
#include <termios.h>
#include <time.h>
#include <unistd.h>

#include "cli_exec_output.h"

#include "orchestrator/supervisor/sup_client.h"
#include "orchestrator/supervisor/sup_proto.h"
#include "runtime/util/base64.h"
#include "runtime/util/cleanup.h"
#include "runtime/util/fdio.h"
#include "runtime/util/xalloc.h"

/* Ctrl-C this many times without the command ending: give up on it (the
 * supervisor may not answer) and end here. */
#define GIVE_UP_SIGINTS 3
/* A signal that asks to end (SIGTERM, SIGHUP, SIGQUIT: what `timeout`, a
 * closed terminal or a supervisor of ours sends) is forwarded once; a
 * second one, or the command still running this long after, and we give
 * up and end here: a guest that cannot act on it (hung) must not hold us.
 * As `stop`'s default grace period. */
#define GIVE_UP_AFTER_MS 10000

struct cli_exec_input {
  int fd; /* the supervisor connection: written here, read by the main thread */
  pthread_mutex_t lock; /* one notification line at a time; paused_why */
  bool tty, raw;
  struct termios saved;
  sigset_t sigs;
  char *paused_why; /* the container's VM is paused: why (the supervisor said so) */
};

static const int forwarded[] = {SIGINT, SIGTERM, SIGHUP, SIGQUIT, SIGUSR1, SIGUSR2};

static bool window_size(unsigned *rows, unsigned *cols) {
  struct winsize ws;
  if (ioctl(STDOUT_FILENO, TIOCGWINSZ, &ws) < 0 && ioctl(STDIN_FILENO, TIOCGWINSZ, &ws) < 0)
    return false;
  *rows = ws.ws_row;
  *cols = ws.ws_col;
  return ws.ws_row > 0 && ws.ws_col > 0;
}

bool cli_exec_want_tty(bool no_tty, unsigned *rows, unsigned *cols) {
  *rows = *cols = 0;
  if (no_tty || !isatty(STDIN_FILENO))
    return false;
  if (!window_size(rows, cols))
    *rows = *cols = 0;
  return true;
}

/* The request id of notifications: they get no reply, so none is awaited. */
static void notify(struct cli_exec_input *in, const char *method, cJSON *params) {
  _cleanup_free_ char *line = sup_format_request(0, method, params);
  pthread_mutex_lock(&in->lock);
  /* a failed write means the connection is gone: the main thread sees it */
  (void)fd_write_all(in->fd, line, strlen(line));
  pthread_mutex_unlock(&in->lock);
}

static void *stdin_thread(void *arg) {
  struct cli_exec_input *in = arg;
  char buf[32768];
  for (;;) {
    ssize_t n = read(STDIN_FILENO, buf, sizeof buf);
    if (n < 0 && errno == EINTR)
      continue;
    cJSON *p = cJSON_CreateObject();
    if (n > 0) {
      _cleanup_free_ char *b64 = b64_encode(buf, (size_t)n);
      cJSON_AddStringToObject(p, "data", b64);
      notify(in, "exec_stdin", p);
      continue;
    }
    cJSON_AddBoolToObject(p, "eof", true);
    notify(in, "exec_stdin", p);
    return NULL;
  }
}

static void restore_terminal(struct cli_exec_input *in) {
  if (in->raw)
    tcsetattr(STDIN_FILENO, TCSADRAIN, &in->saved);
}

static const char *sig_name(int sig) {
  switch (sig) {
  case SIGINT:
    return "SIGINT";
  case SIGTERM:
    return "SIGTERM";
  case SIGHUP:
    return "SIGHUP";
  case SIGQUIT:
    return "SIGQUIT";
  default:
    return "the signal";
  }
}

static bool asks_to_end(int sig) { return sig == SIGTERM || sig == SIGHUP || sig == SIGQUIT; }

/* Ends the process here, saying why; the command may go on in the guest. */
static void give_up(struct cli_exec_input *in, int sig, const char *fmt, ...)
    __attribute__((format(printf, 3, 4), noreturn));
static void give_up(struct cli_exec_input *in, int sig, const char *fmt, ...) {
  restore_terminal(in);
  va_list ap;
  va_start(ap, fmt);
  char why[1024];
  vsnprintf(why, sizeof why, fmt, ap);
  va_end(ap);
  /* one write: this thread must not wait on stdio's lock */
  char line[1200];
  int n = snprintf(line, sizeof line, "%sstack: %s: giving up (the command may still run in the "
                   "container)\n", in->raw ? "\r\n" : "", why);
  (void)fd_write_all(STDERR_FILENO, line, n > 0 && (size_t)n < sizeof line ? (size_t)n : strlen(line));
  _exit(128 + sig);
}

static int64_t now_ms(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static void *signal_thread(void *arg) {
  struct cli_exec_input *in = arg;
  int sigints = 0, ends = 0, first_end = 0;
  int64_t deadline = 0;
  for (;;) {
    int sig;
    if (first_end) {
      int64_t left = deadline - now_ms();
      if (left <= 0)
        give_up(in, first_end, "the command did not end within %d s of %s",
                GIVE_UP_AFTER_MS / 1000, sig_name(first_end));
      struct timespec ts = {left / 1000, (left % 1000) * 1000000};
      if ((sig = sigtimedwait(&in->sigs, NULL, &ts)) < 0)
        continue;
    } else if (sigwait(&in->sigs, &sig) != 0) {
      continue;
    }
    cJSON *p = cJSON_CreateObject();
    unsigned rows, cols;
    if (sig == SIGWINCH) {
      if (window_size(&rows, &cols)) {
        cJSON_AddNumberToObject(p, "rows", rows);
        cJSON_AddNumberToObject(p, "cols", cols);
        notify(in, "exec_resize", p);
      } else {
        cJSON_Delete(p);
      }
      continue;
    }
    cJSON_AddNumberToObject(p, "signal", sig);
    notify(in, "exec_signal", p);
    bool ending = asks_to_end(sig) || sig == SIGINT;
    pthread_mutex_lock(&in->lock);
    char *paused = ending && in->paused_why ? strdup(in->paused_why) : NULL;
    pthread_mutex_unlock(&in->lock);
    if (paused) /* it gets the signal only once the VM resumes */
      give_up(in, sig, "%s, and %s", sig_name(sig), paused);
    if (asks_to_end(sig)) {
      if (++ends >= 2)
        give_up(in, sig, "%s again", sig_name(sig));
      first_end = sig;
      deadline = now_ms() + GIVE_UP_AFTER_MS;
    }
    if (sig == SIGINT && ++sigints >= GIVE_UP_SIGINTS)
      give_up(in, sig, "%s %d times", sig_name(sig), GIVE_UP_SIGINTS);
  }
  return NULL;
}

int cli_exec_input_event(const cJSON *ev, void *ctx) {
  struct cli_exec_input *in = ctx;
  const char *type = cJSON_GetStringValue(cJSON_GetObjectItem(ev, "type"));
  if (type == NULL || strcmp(type, "vm") != 0)
    return cli_exec_output_write(ev, NULL);
  const char *msg = cJSON_GetStringValue(cJSON_GetObjectItem(ev, "message"));
  bool paused = cJSON_IsTrue(cJSON_GetObjectItem(ev, "paused"));
  if (msg) {
    char line[2048];
    int n = snprintf(line, sizeof line, "%sstack: %s\n", in && in->raw ? "\r\n" : "", msg);
    (void)fd_write_all(STDERR_FILENO, line,
                       n > 0 && (size_t)n < sizeof line ? (size_t)n : strlen(line));
  }
  if (in) {
    pthread_mutex_lock(&in->lock);
    free(in->paused_why);
    in->paused_why = paused ? strdup(msg ? msg : "the container's VM is paused") : NULL;
    pthread_mutex_unlock(&in->lock);
  }
  return 0;
}

struct cli_exec_input *cli_exec_input_start(struct sup_client *client, bool interactive,
                                            bool tty) {
  struct cli_exec_input *in = xcalloc(1, sizeof *in);
  in->fd = sup_client_fd(client);
  in->tty = tty;
  pthread_mutex_init(&in->lock, NULL);
  /* blocked here, and so in the threads started below, for sigwait() */
  sigemptyset(&in->sigs);
  for (size_t i = 0; i < sizeof forwarded / sizeof forwarded[0]; i++)
    sigaddset(&in->sigs, forwarded[i]);
  if (tty)
    sigaddset(&in->sigs, SIGWINCH);
  pthread_sigmask(SIG_BLOCK, &in->sigs, NULL);
  /* output goes out while we block in a socket read: a closed pipe must
   * not kill us before the exit code comes */
  signal(SIGPIPE, SIG_IGN);
  if (tty && tcgetattr(STDIN_FILENO, &in->saved) == 0) {
    struct termios raw = in->saved;
    cfmakeraw(&raw);
    in->raw = tcsetattr(STDIN_FILENO, TCSADRAIN, &raw) == 0;
  }
  pthread_attr_t attr;
  pthread_attr_init(&attr);
  pthread_attr_setdetachstate(&attr, PTHREAD_CREATE_DETACHED);
  pthread_t t;
  int r = pthread_create(&t, &attr, signal_thread, in);
  if (r != 0) /* nobody would take them */
    pthread_sigmask(SIG_UNBLOCK, &in->sigs, NULL);
  if (r == 0 && interactive)
    r = pthread_create(&t, &attr, stdin_thread, in);
  pthread_attr_destroy(&attr);
  if (r != 0)
    fprintf(stderr, "stack exec: cannot forward input: %s\n", strerror(r));
  return in;
}

void cli_exec_input_stop(struct cli_exec_input *in) {
  if (in)
    restore_terminal(in);
  /* not freed: the threads may still use it until the process exits */
}
