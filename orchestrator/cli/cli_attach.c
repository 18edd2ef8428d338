/* `stack attach SERVICE`: as `docker compose attach`, this terminal is
 * attached to a running container's main process: its output from now on
 * (a `logs` follow of the container), what is typed goes to its stdin
 * (when the service has `stdin_open: true`; the "attach" request on a
 * second connection), and with --sig-proxy (the default) the signals a
 * user sends end up at the process (a `kill` of the container).  It ends
 * with the container, with its exit code. */
#include <cjson/cJSON.h>
#include <errno.h>
#include <getopt.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cli.h"
#include "cli_project.h"
#include "orchestrator/supervisor/sup_client.h"
#include "orchestrator/supervisor/sup_paths.h"
#include "runtime/util/base64.h"
#include "runtime/util/cleanup.h"
#include "runtime/util/error.h"
#include "runtime/util/xalloc.h"

struct attach {
  struct sup_client *input; /* the second connection: attach, kill */
  pthread_mutex_t lock;
  const char *service, *name;
  unsigned index;
  sigset_t sigs;
  int exit_code;
  bool exited;
};

static const int proxied[] = {SIGINT, SIGTERM, SIGHUP, SIGQUIT, SIGUSR1, SIGUSR2};

static void call(struct attach *a, const char *method, cJSON *params) {
  cJSON *res = NULL;
  pthread_mutex_lock(&a->lock);
  /* a failure means the container ended: the output side sees it */
  if (sup_client_call(a->input, method, params, NULL, NULL, &res, NULL) == 0)
    cJSON_Delete(res);
  pthread_mutex_unlock(&a->lock);
}

static void *stdin_thread(void *arg) {
  struct attach *a = arg;
  char buf[16384];
  for (;;) {
    ssize_t n = read(STDIN_FILENO, buf, sizeof buf);
    if (n < 0 && errno == EINTR)
      continue;
    if (n <= 0)
      return NULL; /* as Docker: the end of our input leaves the container's open */
    cJSON *p = cJSON_CreateObject();
    cJSON_AddStringToObject(p, "service", a->service);
    cJSON_AddNumberToObject(p, "index", a->index);
    _cleanup_free_ char *b64 = b64_encode(buf, (size_t)n);
    cJSON_AddStringToObject(p, "data", b64);
    call(a, "attach", p);
  }
}

static void *signal_thread(void *arg) {
  struct attach *a = arg;
  for (;;) {
    int sig;
    if (sigwait(&a->sigs, &sig) != 0)
      continue;
    cJSON *p = cJSON_CreateObject();
    cJSON *names = cJSON_AddArrayToObject(p, "containers");
    cJSON_AddItemToArray(names, cJSON_CreateString(a->name));
    cJSON_AddNumberToObject(p, "signal", sig);
    call(a, "kill", p);
  }
  return NULL;
}

/* Prints the container's lines; 1 (stop waiting) once it exited. */
static int on_event(const cJSON *ev, void *ctx) {
  struct attach *a = ctx;
  const char *type = cJSON_GetStringValue(cJSON_GetObjectItem(ev, "type"));
  const char *name = cJSON_GetStringValue(cJSON_GetObjectItem(ev, "name"));
  if (type == NULL || name == NULL || strcmp(name, a->name) != 0)
    return 0;
  if (strcmp(type, "log") == 0) {
    const char *stream = cJSON_GetStringValue(cJSON_GetObjectItem(ev, "stream"));
    const char *line = cJSON_GetStringValue(cJSON_GetObjectItem(ev, "line"));
    FILE *f = stream && strcmp(stream, "stderr") == 0 ? stderr : stdout;
    fprintf(f, "%s\n", line ? line : "");
    fflush(f);
  } else if (strcmp(type, "exit") == 0) {
    a->exit_code = (int)cJSON_GetNumberValue(cJSON_GetObjectItem(ev, "exit_code"));
    a->exited = true;
    return 1;
  }
  return 0;
}

static void usage(FILE *f, const char *prog) {
  fprintf(f,
          "Usage:  %s attach [OPTIONS] SERVICE\n\n"
          "Attach local standard input, output, and error streams to a service's running "
          "container\n\n"
          "Options:\n"
          "      --detach-keys string   Override the key sequence for detaching from a "
          "container (accepted; no pty here)\n"
          "      --index int            index of the container if service has multiple "
          "replicas\n"
          "      --no-stdin             Do not attach STDIN\n"
          "      --sig-proxy            Proxy all received signals to the process (default "
          "true)\n",
          prog);
}

int cli_attach(struct cli_globals *g, int argc, char **argv) {
  static const struct option opts[] = {
      {"detach-keys", required_argument, NULL, 'k'}, {"index", required_argument, NULL, 'I'},
      {"no-stdin", no_argument, NULL, 'n'},          {"sig-proxy", optional_argument, NULL, 's'},
      {"help", no_argument, NULL, 'h'},              {NULL, 0, NULL, 0},
  };
  struct attach a = {.index = 1};
  bool stdin_on = true, sig_proxy = true;
  int c;
  while ((c = getopt_long(argc, argv, "h", opts, NULL)) != -1) {
    if (c == 'k') {
      continue;
    } else if (c == 'I') {
      char *end;
      long v = strtol(optarg, &end, 10);
      if (*end || v < 1 || v > 65535) {
        fprintf(stderr, "%s attach: --index: \"%s\" is not a replica number\n", g->progname,
                optarg);
        return 1;
      }
      a.index = (unsigned)v;
    } else if (c == 'n') {
      stdin_on = false;
    } else if (c == 's' && (optarg == NULL || strcmp(optarg, "true") == 0 ||
                            strcmp(optarg, "false") == 0)) {
      sig_proxy = optarg == NULL || strcmp(optarg, "true") == 0;
    } else {
      usage(c == 'h' ? stdout : stderr, g->progname);
      return c == 'h' ? 0 : 1;
    }
  }
  if (argc - optind != 1) {
    fprintf(stderr, "%s attach: requires exactly 1 argument: SERVICE\n", g->progname);
    return 1;
  }
  a.service = argv[optind];
  __attribute__((cleanup(sup_paths_clear))) struct sup_paths paths = {0};
  _cleanup_sup_client_ struct sup_client *output = NULL, *input = NULL;
  _cleanup_error_ struct stack_error *err = NULL;
  if (cli_project_client(g, false, &paths, &output, &err) < 0 || output == NULL ||
      sup_client_connect(&paths, &input, &err) < 0) {
    if (err)
      stack_error_print(err);
    else
      fprintf(stderr, "stack: service \"%s\" is not running\n", a.service);
    return 1;
  }
  a.input = input;
  pthread_mutex_init(&a.lock, NULL);
  /* following first, then the check: an exit in between is not missed */
  cJSON *lp = cJSON_CreateObject();
  cJSON *svcs = cJSON_AddArrayToObject(lp, "services");
  cJSON_AddItemToArray(svcs, cJSON_CreateString(a.service));
  cJSON_AddTrueToObject(lp, "follow");
  cJSON_AddNumberToObject(lp, "tail", 0);
  if (sup_client_send(output, "logs", lp, &err) < 0) {
    stack_error_print(err);
    return 1;
  }
  cJSON *ap = cJSON_CreateObject();
  cJSON_AddStringToObject(ap, "service", a.service);
  cJSON_AddNumberToObject(ap, "index", a.index);
  cJSON *res = NULL;
  if (sup_client_call(input, "attach", ap, NULL, NULL, &res, &err) < 0) {
    stack_error_print(err);
    return 1;
  }
  _cleanup_free_ char *name = xstrdup(cJSON_GetStringValue(cJSON_GetObjectItem(res, "name")));
  cJSON_Delete(res);
  a.name = name;

  pthread_attr_t attr;
  pthread_attr_init(&attr);
  pthread_attr_setdetachstate(&attr, PTHREAD_CREATE_DETACHED);
  pthread_t t;
  signal(SIGPIPE, SIG_IGN);
  if (sig_proxy) {
    sigemptyset(&a.sigs);
    for (size_t i = 0; i < sizeof(proxied) / sizeof(proxied[0]); i++)
      sigaddset(&a.sigs, proxied[i]);
    pthread_sigmask(SIG_BLOCK, &a.sigs, NULL);
    if (pthread_create(&t, &attr, signal_thread, &a) != 0)
      pthread_sigmask(SIG_UNBLOCK, &a.sigs, NULL);
  }
  if (stdin_on && pthread_create(&t, &attr, stdin_thread, &a) != 0)
    fprintf(stderr, "stack attach: cannot forward input\n");
  pthread_attr_destroy(&attr);
  int r = sup_client_resume(output, on_event, &a, NULL, &err);
  if (r < 0) {
    stack_error_print(err);
    return 1;
  }
  /* the threads may still block in read(2) or sigwait(2): we exit next */
  fflush(stdout);
  _exit(a.exited ? a.exit_code : 0);
}
