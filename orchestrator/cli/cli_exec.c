/* `stack exec SERVICE COMMAND...`: a command in a running container, run
 * by its supervisor as an exec session in the guest; its output is
 * written here and its exit code is ours.  As in Compose, stdin is always
 * forwarded, and the command gets a pty when our stdin is a terminal,
 * unless -T (cli_exec_input.c). */
#include <cjson/cJSON.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cli.h"
#include "cli_exec_input.h"
#include "cli_exec_output.h"
#include "cli_project.h"
#include "orchestrator/supervisor/sup_client.h"
#include "orchestrator/supervisor/sup_paths.h"
#include "runtime/util/cleanup.h"
#include "runtime/util/error.h"
#include "runtime/util/xalloc.h"

static void usage(FILE *f, const char *prog) {
  fprintf(f,
          "Usage:  %s exec [OPTIONS] SERVICE COMMAND [ARGS...]\n\n"
          "Execute a command in a running container\n\n"
          "Options:\n"
          "  -e, --env stringArray   Set environment variables\n"
          "      --index int         Index of the container if service has multiple replicas (default 1)\n"
          "  -i, --interactive       Keep STDIN open (the default)\n"
          "  -T, --no-TTY            Disable pseudo-TTY allocation (default: a pty when STDIN is a terminal)\n"
          "  -u, --user string       Run the command as this user\n"
          "  -w, --workdir string    Path to workdir directory for this command\n",
          prog);
}


int cli_exec(struct cli_globals *g, int argc, char **argv) {
  static const struct option opts[] = {
      {"env", required_argument, NULL, 'e'},     {"index", required_argument, NULL, 'I'},
      {"no-TTY", no_argument, NULL, 'T'},        {"user", required_argument, NULL, 'u'},
      {"workdir", required_argument, NULL, 'w'}, {"interactive", no_argument, NULL, 'i'},
      {"tty", no_argument, NULL, 't'},           {"help", no_argument, NULL, 'h'},
      {NULL, 0, NULL, 0},
  };
  cJSON *params = cJSON_CreateObject();
  cJSON *env = cJSON_AddArrayToObject(params, "env");
  int c;
  bool no_tty = false;
  /* "+": options end at SERVICE, the command's own flags are its own */
  while ((c = getopt_long(argc, argv, "+e:Tu:w:ith", opts, NULL)) != -1) {
    switch (c) {
    case 'e':
      cJSON_AddItemToArray(env, cJSON_CreateString(optarg));
      break;
    case 'I':
      cJSON_AddNumberToObject(params, "index", atoi(optarg));
      break;
    case 'u':
      cJSON_AddStringToObject(params, "user", optarg);
      break;
    case 'w':
      cJSON_AddStringToObject(params, "workdir", optarg);
      break;
    case 'T':
      no_tty = true;
      break;
    case 'i':
    case 't':
      break; /* Compose's defaults: interactive, a tty when stdin is one */
    case 'h':
      usage(stdout, g->progname);
      cJSON_Delete(params);
      return 0;
    default:
      usage(stderr, g->progname);
      cJSON_Delete(params);
      return 1;
    }
  }
  if (argc - optind < 2) {
    fprintf(stderr, "%s exec: requires at least 2 arguments: SERVICE COMMAND\n", g->progname);
    cJSON_Delete(params);
    return 1;
  }
  unsigned rows, cols;
  bool tty = cli_exec_want_tty(no_tty, &rows, &cols);
  cJSON_AddBoolToObject(params, "interactive", true);
  cJSON_AddBoolToObject(params, "tty", tty);
  if (rows > 0 && cols > 0) {
    cJSON_AddNumberToObject(params, "rows", rows);
    cJSON_AddNumberToObject(params, "cols", cols);
  }
  cJSON_AddStringToObject(params, "service", argv[optind]);
  cJSON *a = cJSON_AddArrayToObject(params, "argv");
  for (int i = optind + 1; i < argc; i++)
    cJSON_AddItemToArray(a, cJSON_CreateString(argv[i]));

  __attribute__((cleanup(sup_paths_clear))) struct sup_paths paths = {0};
  _cleanup_sup_client_ struct sup_client *client = NULL;
  _cleanup_error_ struct stack_error *err = NULL;
  cJSON *res = NULL;
  if (cli_project_client(g, false, &paths, &client, &err) < 0 || client == NULL) {
    cJSON_Delete(params);
    if (err)
      stack_error_print(err);
    else
      fprintf(stderr, "stack: service \"%s\" is not running\n", argv[optind]);
    return 1;
  }
  if (sup_client_send(client, "exec", params, &err) < 0) {
    stack_error_print(err);
    return 1;
  }
  /* input goes out from other threads while this one reads the replies */
  struct cli_exec_input *in = cli_exec_input_start(client, true, tty);
  int r = sup_client_resume(client, cli_exec_input_event, in, &res, &err);
  cli_exec_input_stop(in);
  if (r < 0) {
    stack_error_print(err);
    return 1;
  }
  int code = (int)cJSON_GetNumberValue(cJSON_GetObjectItem(res, "exit_code"));
  const char *why = cJSON_GetStringValue(cJSON_GetObjectItem(res, "error"));
  if (why)
    fprintf(stderr, "stack: %s\n", why);
  cJSON_Delete(res);
  return code;
}
