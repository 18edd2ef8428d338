/* `stack stats`: CPU and memory of each running container's VM, as
 * `docker compose stats` prints them.  The supervisor samples the QEMU
 * processes; CPU % is the CPU time between two samples over the wall time
 * between them (100 % = one host core).  PIDS is what the guest's init
 * counts (the `top` request): the processes of the container's VM. */
#include <cjson/cJSON.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "cli.h"
#include "cli_args.h"
#include "cli_project.h"
#include "cli_table.h"
#include "orchestrator/supervisor/sup_client.h"
#include "orchestrator/supervisor/sup_paths.h"
#include "runtime/util/bytesize.h"
#include "runtime/util/cleanup.h"
#include "runtime/util/error.h"
#include "runtime/util/xalloc.h"

/* The first sample is taken this long before the first figures. */
#define FIRST_WINDOW_MS 500
#define REFRESH_MS 1000

static void usage(FILE *f, const char *prog) {
  fprintf(f,
          "Usage:  %s stats [OPTIONS] [SERVICE...]\n\n"
          "Display a live stream of container(s) resource usage statistics\n\n"
          "Options:\n"
          "  -a, --all             Show all containers (default shows just running)\n"
          "      --format string   Format output using table or json (default \"table\")\n"
          "      --no-stream       Disable streaming stats and only pull the first result\n"
          "      --no-trunc        Do not truncate output\n",
          prog);
}

static double num(const cJSON *o, const char *k) {
  const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, k);
  return cJSON_IsNumber(v) ? v->valuedouble : 0;
}

static const char *str(const cJSON *o, const char *k) {
  const char *s = cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(o, k));
  return s ? s : "";
}

static const cJSON *find(const cJSON *sample, const char *name) {
  const cJSON *c;
  cJSON_ArrayForEach(c, cJSON_GetObjectItemCaseSensitive(sample, "containers"))
    if (strcmp(str(c, "name"), name) == 0)
      return c;
  return NULL;
}

static void sleep_ms(long ms) {
  struct timespec ts = {ms / 1000, (ms % 1000) * 1000000L};
  while (nanosleep(&ts, &ts) < 0)
    ;
}

/* Adds "pids" to each container of sample: how many processes its guest
 * runs (its init and kernel threads left out), as its init lists them; a
 * paused VM runs nothing that could answer, and a VM adopted from an
 * earlier supervisor has no channel: those get none ("--"). */
static void add_pids(struct sup_client *client, cJSON *sample) {
  cJSON *c;
  cJSON_ArrayForEach(c, cJSON_GetObjectItemCaseSensitive(sample, "containers")) {
    if (strcmp(str(c, "status"), "running") != 0)
      continue;
    cJSON *params = cJSON_CreateObject();
    cJSON_AddStringToObject(params, "container", str(c, "name"));
    cJSON *res = NULL;
    _cleanup_error_ struct stack_error *err = NULL;
    if (sup_client_call(client, "top", params, NULL, NULL, &res, &err) == 0 &&
        cJSON_IsNumber(cJSON_GetObjectItemCaseSensitive(res, "total")))
      cJSON_AddNumberToObject(c, "pids", num(res, "total"));
    cJSON_Delete(res);
  }
}

/* Prints one reading: the containers of cur, CPU from prev. */
static void print_sample(const cJSON *prev, const cJSON *cur, bool json, bool no_trunc,
                         bool clear) {
  static const char *const header[] = {"CONTAINER ID", "NAME",    "CPU %",     "MEM USAGE / LIMIT",
                                       "MEM %",        "NET I/O", "BLOCK I/O", "PIDS"};
  struct cli_table t;
  cli_table_init(&t, 8, header);
  double dt = num(cur, "time_ns") - num(prev, "time_ns");
  const cJSON *c;
  cJSON_ArrayForEach(c, cJSON_GetObjectItemCaseSensitive(cur, "containers")) {
    const cJSON *p = find(prev, str(c, "name"));
    double cpu = p && dt > 0 ? (num(c, "cpu_ns") - num(p, "cpu_ns")) / dt * 100 : 0;
    double mem = num(c, "mem_bytes"), limit = num(c, "mem_limit");
    _cleanup_free_ char *cpu_s = xasprintf("%.2f%%", cpu < 0 ? 0 : cpu);
    _cleanup_free_ char *mem_s = human_size_binary(mem), *lim_s = human_size_binary(limit);
    _cleanup_free_ char *usage_s = xasprintf("%s / %s", mem_s, lim_s);
    _cleanup_free_ char *memp_s = xasprintf("%.2f%%", limit > 0 ? mem / limit * 100 : 0);
    _cleanup_free_ char *rd = human_size_si(num(c, "read_bytes"), 3);
    _cleanup_free_ char *wr = human_size_si(num(c, "write_bytes"), 3);
    _cleanup_free_ char *block = xasprintf("%s / %s", rd, wr);
    _cleanup_free_ char *nrx = human_size_si(num(c, "net_rx_bytes"), 3);
    _cleanup_free_ char *ntx = human_size_si(num(c, "net_tx_bytes"), 3);
    _cleanup_free_ char *netio = xasprintf("%s / %s", nrx, ntx);
    _cleanup_free_ char *id = xstrndup(str(c, "id"), no_trunc ? 64 : 12);
    const cJSON *pn = cJSON_GetObjectItemCaseSensitive(c, "pids");
    _cleanup_free_ char *pids = cJSON_IsNumber(pn) ? xasprintf("%.0f", pn->valuedouble)
                                                    : xstrdup("--");
    if (json) {
      cJSON *o = cJSON_CreateObject();
      cJSON_AddStringToObject(o, "BlockIO", block);
      cJSON_AddStringToObject(o, "CPUPerc", cpu_s);
      cJSON_AddStringToObject(o, "Container", id);
      cJSON_AddStringToObject(o, "ID", id);
      cJSON_AddStringToObject(o, "MemPerc", memp_s);
      cJSON_AddStringToObject(o, "MemUsage", usage_s);
      cJSON_AddStringToObject(o, "Name", str(c, "name"));
      cJSON_AddStringToObject(o, "NetIO", netio);
      cJSON_AddStringToObject(o, "PIDs", pids);
      _cleanup_free_ char *line = cJSON_PrintUnformatted(o);
      cJSON_Delete(o);
      puts(line);
    } else {
      const char *row[] = {id, str(c, "name"), cpu_s, usage_s, memp_s, netio, block, pids};
      cli_table_add(&t, row);
    }
  }
  if (!json) {
    if (clear)
      fputs("\033[2J\033[H", stdout); /* as docker stats redraws on a terminal */
    cli_table_print(&t, stdout);
  }
  cli_table_free(&t);
  fflush(stdout);
}

int cli_stats(struct cli_globals *g, int argc, char **argv) {
  static const struct option opts[] = {
      {"all", no_argument, NULL, 'a'},          {"no-stream", no_argument, NULL, 'n'},
      {"format", required_argument, NULL, 'F'}, {"no-trunc", no_argument, NULL, 'T'},
      {"help", no_argument, NULL, 'h'},         {NULL, 0, NULL, 0},
  };
  bool stream = true, json = false, no_trunc = false;
  int c;
  while ((c = getopt_long(argc, argv, "ah", opts, NULL)) != -1) {
    if (c == 'n')
      stream = false;
    else if (c == 'T')
      no_trunc = true;
    else if (c == 'F') {
      if (strcmp(optarg, "json") == 0)
        json = true;
      else if (strcmp(optarg, "table") != 0) {
        fprintf(stderr, "%s stats: unknown format \"%s\": use table or json\n", g->progname,
                optarg);
        return 1;
      }
    } else if (c == 'h' || c == '?') {
      usage(c == 'h' ? stdout : stderr, g->progname);
      return c == 'h' ? 0 : 1;
    }
    /* -a: stopped containers have no VM to measure; only running ones show */
  }
  __attribute__((cleanup(sup_paths_clear))) struct sup_paths paths = {0};
  _cleanup_sup_client_ struct sup_client *client = NULL;
  _cleanup_error_ struct stack_error *err = NULL;
  if (cli_project_client(g, false, &paths, &client, &err) < 0) {
    stack_error_print(err);
    return 1;
  }
  if (client == NULL) {
    if (!json)
      print_sample(NULL, NULL, false, no_trunc, false);
    return 0;
  }
  bool clear = stream && !json && isatty(STDOUT_FILENO);
  cJSON *prev = NULL;
  for (long wait = FIRST_WINDOW_MS;; wait = REFRESH_MS) {
    cJSON *params = cJSON_CreateObject();
    cli_add_names(params, "containers", argc, argv);
    cJSON *cur = NULL;
    if (sup_client_call(client, "stats", params, NULL, NULL, &cur, &err) < 0) {
      cJSON_Delete(prev);
      stack_error_print(err);
      return 1;
    }
    if (prev) {
      add_pids(client, cur);
      print_sample(prev, cur, json, no_trunc, clear);
      if (!stream) {
        cJSON_Delete(prev);
        cJSON_Delete(cur);
        return 0;
      }
    }
    cJSON_Delete(prev);
    prev = cur;
    sleep_ms(wait);
  }
}
