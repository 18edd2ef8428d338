/* `stack port SERVICE PRIVATE_PORT`: the host address a published port is
 * bound to, as the supervisor's port proxies bound it. */
#include <cjson/cJSON.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "cli_project.h"
#include "orchestrator/supervisor/sup_client.h"
#include "orchestrator/supervisor/sup_paths.h"
#include "runtime/util/cleanup.h"
#include "runtime/util/error.h"

static void usage(FILE *f, const char *prog) {
  fprintf(f,
          "Usage:  %s port [OPTIONS] SERVICE PRIVATE_PORT\n\n"
          "Print the public port for a port binding\n\n"
          "Options:\n"
          "      --index int         Index of the container if service has multiple replicas\n"
          "      --protocol string   tcp or udp (default \"tcp\")\n",
          prog);
}

int cli_port(struct cli_globals *g, int argc, char **argv) {
  static const struct option opts[] = {
      {"index", required_argument, NULL, 'I'},
      {"protocol", required_argument, NULL, 'p'},
      {"help", no_argument, NULL, 'h'},
      {NULL, 0, NULL, 0},
  };
  int c, index = 1;
  const char *proto = "tcp";
  while ((c = getopt_long(argc, argv, "h", opts, NULL)) != -1) {
    if (c == 'I') {
      index = atoi(optarg);
    } else if (c == 'p') {
      proto = optarg;
    } else if (c == 'h') {
      usage(stdout, g->progname);
      return 0;
    } else {
      usage(stderr, g->progname);
      return 1;
    }
  }
  if (argc - optind != 2) {
    fprintf(stderr, "%s port: requires 2 arguments: SERVICE PRIVATE_PORT\n", g->progname);
    return 1;
  }
  char *end;
  long port = strtol(argv[optind + 1], &end, 10);
  if (*end == '/') /* 8080/udp */
    proto = end + 1;
  else if (*end)
    port = 0;
  if (port <= 0 || port > 65535 || index < 1 ||
      (strcmp(proto, "tcp") != 0 && strcmp(proto, "udp") != 0)) {
    fprintf(stderr, "%s port: invalid port \"%s\" (protocol %s, index %d): give PORT or "
                    "PORT/udp and an index from 1\n",
            g->progname, argv[optind + 1], proto, index);
    return 1;
  }
  __attribute__((cleanup(sup_paths_clear))) struct sup_paths paths = {0};
  _cleanup_sup_client_ struct sup_client *client = NULL;
  _cleanup_error_ struct stack_error *err = NULL;
  if (cli_project_client(g, false, &paths, &client, &err) < 0 || client == NULL) {
    if (err)
      stack_error_print(err);
    else
      fprintf(stderr, "stack: service \"%s\" is not running\n", argv[optind]);
    return 1;
  }
  cJSON *params = cJSON_CreateObject();
  cJSON_AddStringToObject(params, "service", argv[optind]);
  cJSON_AddNumberToObject(params, "private_port", (double)port);
  cJSON_AddStringToObject(params, "protocol", proto);
  cJSON_AddNumberToObject(params, "index", index);
  cJSON *res = NULL;
  if (sup_client_call(client, "port", params, NULL, NULL, &res, &err) < 0) {
    stack_error_print(err);
    return 1;
  }
  const cJSON *b;
  int n = 0;
  cJSON_ArrayForEach(b, cJSON_GetObjectItem(res, "bindings")) {
    printf("%s\n", cJSON_GetStringValue(b));
    n++;
  }
  cJSON_Delete(res);
  if (n == 0) {
    fprintf(stderr, "stack: no port %ld/%s published for service %s\n", port, proto,
            argv[optind]);
    return 1;
  }
  return 0;
}
