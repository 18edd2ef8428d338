#include "cli_exec_input.h"

#include <cjson/cJSON.h>
#include <errno.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <termios.h>
#include <unistd.h>

#include "orchestrator/supervisor/sup_client.h"
#include "orchestrator/supervisor/sup_proto.h"
#include "runtime/util/base64.h"
#include "runtime/util/cleanup.h"
#include "runtime/util/fdio.h"
#include "runtime/util/xalloc.h"

/* Ctrl-C this many times without the command ending: give up on it (the
 * supervisor may not answer) and end here. */
#define GIVE_UP_SIGINTS 3

struct cli_exec_input {
  int fd; /* the supervisor connection: written here, read by the main thread */
  pthread_mutex_t lock; /* one notification line at a time */
  bool tty, raw;
  struct termios saved;
  sigset_t sigs;
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

static void *signal_thread(void *arg) {
  struct cli_exec_input *in = arg;
  int sigints = 0;
  for (;;) {
    int sig;
    if (sigwait(&in->sigs, &sig) != 0)
      continue;
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
    if (sig == SIGINT && ++sigints >= GIVE_UP_SIGINTS) {
      restore_terminal(in);
      _exit(128 + SIGINT);
    }
  }
  return NULL;
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
