/* `stack pause` and `stack unpause`: the containers' VMs stopped and
 * continued (QMP stop/cont) by the project's supervisor. */
#include <cjson/cJSON.h>
#include <stdio.h>
#include <string.h>

#include "cli.h"
#include "cli_args.h"
#include "cli_project.h"

static int pause_verb(struct cli_globals *g, int argc, char **argv, bool pause) {
  int r = cli_help_only(g, argc, argv,
                        pause ? "Usage:  %s pause [SERVICE...]\n\nPause services\n"
                              : "Usage:  %s unpause [SERVICE...]\n\nUnpause services\n");
  if (r >= 0)
    return r;
  return cli_call_named(g, argc, argv, pause ? "pause" : "unpause", cJSON_CreateObject(),
                        pause ? "paused" : "unpaused", pause ? "Paused" : "Unpaused");
}

int cli_pause(struct cli_globals *g, int argc, char **argv) {
  return pause_verb(g, argc, argv, true);
}

int cli_unpause(struct cli_globals *g, int argc, char **argv) {
  return pause_verb(g, argc, argv, false);
}
