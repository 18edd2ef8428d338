/* `stack ps`: the project's containers, from its supervisor. */
#include <cjson/cJSON.h>
#include <getopt.h>
#include <stdio.h>
#include <string.h>
#include <sys/time.h>
#include <time.h>

#include "cli.h"
#include "cli_port.h"
#include "cli_project.h"
#include "cli_table.h"
#include "orchestrator/supervisor/ps_status.h"
#include "orchestrator/supervisor/sup_client.h"
#include "orchestrator/supervisor/sup_paths.h"
#include "runtime/util/cleanup.h"
#include "runtime/util/error.h"
#include "runtime/util/humanize.h"
#include "runtime/util/xalloc.h"

static void usage(FILE *f, const char *prog) {
  fprintf(f,
          "Usage:  %s ps [OPTIONS] [SERVICE...]\n\n"
          "List containers\n\n"
          "Options:\n"
          "  -a, --all             Show all stopped containers (including those created by the run command)\n"
          "      --format string   Format the output. Values: [table | json] (default \"table\")\n"
          "  -q, --quiet           Only display IDs\n"
          "      --services        Display services\n"
          "      --status stringArray  Filter services by status. Values: [paused | restarting | removing | running | dead | created | exited]\n",
          prog);
}

static const char *str(const cJSON *o, const char *k) {
  const char *s = cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(o, k));
  return s ? s : "";
}

static double num(const cJSON *o, const char *k) {
  return cJSON_GetNumberValue(cJSON_GetObjectItemCaseSensitive(o, k));
}

static int64_t now_ms(void) {
  struct timeval tv;
  gettimeofday(&tv, NULL);
  return (int64_t)tv.tv_sec * 1000 + tv.tv_usec / 1000;
}

static bool listed(char **v, size_t n, const char *s) {
  for (size_t i = 0; i < n; i++)
    if (strcmp(v[i], s) == 0)
      return true;
  return false;
}

static char *created_at(int64_t ms) {
  time_t t = (time_t)(ms / 1000);
  struct tm tm;
  localtime_r(&t, &tm);
  char buf[64];
  strftime(buf, sizeof(buf), "%Y-%m-%d %H:%M:%S %z %Z", &tm);
  return xstrdup(buf);
}

int cli_ps(struct cli_globals *g, int argc, char **argv) {
  static const struct option opts[] = {
      {"all", no_argument, NULL, 'a'},       {"quiet", no_argument, NULL, 'q'},
      {"format", required_argument, NULL, 'F'}, {"status", required_argument, NULL, 'S'},
      {"services", no_argument, NULL, 's'},  {"help", no_argument, NULL, 'h'},
      {NULL, 0, NULL, 0},
  };
  bool all = false, quiet = false, services_only = false, json = false;
  _cleanup_free_ char **status = xcalloc((size_t)argc + 1, sizeof(char *));
  size_t n_status = 0;
  int c;
  while ((c = getopt_long(argc, argv, "aqh", opts, NULL)) != -1) {
    switch (c) {
    case 'a':
      all = true;
      break;
    case 'q':
      quiet = true;
      break;
    case 's':
      services_only = true;
      break;
    case 'F':
      if (strcmp(optarg, "json") == 0)
        json = true;
      else if (strcmp(optarg, "table") != 0) {
        fprintf(stderr, "%s ps: unknown format \"%s\": use table or json\n", g->progname, optarg);
        return 1;
      }
      break;
    case 'S':
      status[n_status++] = optarg;
      break;
    case 'h':
      usage(stdout, g->progname);
      return 0;
    default:
      usage(stderr, g->progname);
      return 1;
    }
  }
  char **services = argv + optind;
  size_t n_services = (size_t)(argc - optind);

  __attribute__((cleanup(sup_paths_clear))) struct sup_paths paths = {0};
  _cleanup_sup_client_ struct sup_client *client = NULL;
  _cleanup_error_ struct stack_error *err = NULL;
  cJSON *result = NULL;
  if (cli_project_client(g, false, &paths, &client, &err) < 0 ||
      (client && sup_client_call(client, "ps", NULL, NULL, NULL, &result, &err) < 0)) {
    stack_error_print(err);
    return 1;
  }
  const cJSON *ctrs = cJSON_GetObjectItemCaseSensitive(result, "containers");
  int64_t now = now_ms();
  static const char *const header[] = {"NAME",    "IMAGE",  "COMMAND", "SERVICE",
                                       "CREATED", "STATUS", "PORTS"};
  struct cli_table t;
  cli_table_init(&t, 7, header);
  const cJSON *ct;
  cJSON_ArrayForEach(ct, ctrs) {
    const char *st = str(ct, "status");
    if (n_services && !listed(services, n_services, str(ct, "service")))
      continue;
    if (n_status ? !listed(status, n_status, st) : !all && strcmp(st, "running") != 0 &&
                                                     strcmp(st, "restarting") != 0 &&
                                                     strcmp(st, "paused") != 0)
      continue;
    int health = health_status_parse(str(ct, "health"));
    _cleanup_free_ char *status_text =
        ps_status_text((enum ctr_status)ctr_status_parse(st),
                       cJSON_GetStringValue(cJSON_GetObjectItem(ct, "pause_reason")),
                       (int)num(ct, "exit_code"),
                       health < 0 ? HEALTH_NONE : (enum health_status)health,
                       (int64_t)num(ct, "started"), (int64_t)num(ct, "finished"), now);
    _cleanup_free_ char *ago = human_duration(now - (int64_t)num(ct, "created"));
    _cleanup_free_ char *created = xasprintf("%s ago", ago);
    _cleanup_free_ char *cmd = xasprintf("\"%s\"", str(ct, "command"));
    if (quiet) {
      puts(str(ct, "id"));
    } else if (services_only) {
      puts(str(ct, "service"));
    } else if (json) {
      cJSON *o = cJSON_CreateObject();
      _cleanup_free_ char *at = created_at((int64_t)num(ct, "created"));
      cJSON_AddStringToObject(o, "Command", cmd);
      cJSON_AddStringToObject(o, "CreatedAt", at);
      cJSON_AddNumberToObject(o, "ExitCode", num(ct, "exit_code"));
      cJSON_AddStringToObject(o, "Health", str(ct, "health"));
      cJSON_AddStringToObject(o, "ID", str(ct, "id"));
      cJSON_AddStringToObject(o, "Image", str(ct, "image"));
      cJSON_AddStringToObject(o, "Name", str(ct, "name"));
      cJSON_AddStringToObject(o, "Names", str(ct, "name"));
      cJSON_AddStringToObject(o, "Project", paths.project);
      cJSON_AddItemToObject(o, "Publishers",
                            cli_port_publishers(cJSON_GetObjectItem(ct, "ports")));
      cJSON_AddStringToObject(o, "RunningFor", created);
      cJSON_AddStringToObject(o, "Service", str(ct, "service"));
      cJSON_AddStringToObject(o, "State", st);
      cJSON_AddStringToObject(o, "Status", status_text);
      _cleanup_free_ char *line = cJSON_PrintUnformatted(o);
      cJSON_Delete(o);
      puts(line);
    } else {
      _cleanup_free_ char *ports = cli_port_text(cJSON_GetObjectItem(ct, "ports"));
      const char *row[] = {str(ct, "name"), str(ct, "image"), cmd, str(ct, "service"),
                           created, status_text, ports};
      cli_table_add(&t, row);
    }
  }
  if (!quiet && !services_only && !json)
    cli_table_print(&t, stdout);
  cli_table_free(&t);
  cJSON_Delete(result);
  return 0;
}
