/* `stack pause` and `stack unpause`: the containers' VMs stopped and
 * continued (QMP stop/cont) by the project's supervisor. */
#include <cjson/cJSON.h>
#include <getopt.h>
#include <stdio.h>
#include <string.h>

#include "cli.h"
#include "cli_project.h"

static int pause_verb(struct cli_globals *g, int argc, char **argv, bool pause) {
  static const struct option opts[] = {
      {"help", no_argument, NULL, 'h'},
      {NULL, 0, NULL, 0},
  };
  int c;
  while ((c = getopt_long(argc, argv, "h", opts, NULL)) != -1) {
    fprintf(c == 'h' ? stdout : stderr,
            "Usage:  %s %s [SERVICE...]\n\n%s\n", g->progname, argv[0],
            pause ? "Pause services" : "Unpause services");
    return c == 'h' ? 0 : 1;
  }
  return cli_call_named(g, argc, argv, pause ? "pause" : "unpause", cJSON_CreateObject(),
                        pause ? "paused" : "unpaused", pause ? "Paused" : "Unpaused");
}

int cli_pause(struct cli_globals *g, int argc, char **argv) {
  return pause_verb(g, argc, argv, true);
}

int cli_unpause(struct cli_globals *g, int argc, char **argv) {
  return pause_verb(g, argc, argv, false);
}
