/* `stack port SERVICE PRIVATE_PORT`: the host address a published port is
 * bound to, as the supervisor's port proxies bound it. */
#include <cjson/cJSON.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "cli_port.h"
#include "cli_project.h"
#include "orchestrator/supervisor/sup_client.h"
#include "orchestrator/supervisor/sup_paths.h"
#include "runtime/util/cleanup.h"
#include "runtime/util/error.h"
#include "runtime/util/sbuf.h"

static const char *text_of(const cJSON *o, const char *key) {
  const char *s = cJSON_GetStringValue(cJSON_GetObjectItem(o, key));
  return s ? s : "";
}

char *cli_port_text(const cJSON *ports) {
  _cleanup_sbuf_ struct sbuf b = SBUF_INIT;
  const cJSON *p;
  cJSON_ArrayForEach(p, ports) {
    sbuf_printf(&b, "%s%s:%d->%d/%s", b.len ? ", " : "",
                text_of(p, "host_ip"),
                (int)cJSON_GetNumberValue(cJSON_GetObjectItem(p, "host_port")),
                (int)cJSON_GetNumberValue(cJSON_GetObjectItem(p, "target")),
                text_of(p, "protocol"));
  }
  return sbuf_steal(&b);
}

cJSON *cli_port_publishers(const cJSON *ports) {
  cJSON *arr = cJSON_CreateArray();
  const cJSON *p;
  cJSON_ArrayForEach(p, ports) {
    cJSON *o = cJSON_CreateObject();
    cJSON_AddStringToObject(o, "URL", text_of(p, "host_ip"));
    cJSON_AddNumberToObject(o, "TargetPort", cJSON_GetNumberValue(cJSON_GetObjectItem(p, "target")));
    cJSON_AddNumberToObject(o, "PublishedPort",
                            cJSON_GetNumberValue(cJSON_GetObjectItem(p, "host_port")));
    cJSON_AddStringToObject(o, "Protocol", text_of(p, "protocol"));
    cJSON_AddItemToArray(arr, o);
  }
  return arr;
}

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
