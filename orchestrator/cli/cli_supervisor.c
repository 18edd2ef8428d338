/* `stack supervisor PROJECT`: the daemon a Compose verb starts in the
 * background (sup_daemon.h).  Run by hand it stays in the foreground, which
 * helps debugging. */
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>

#include "cli.h"
#include "orchestrator/supervisor/sup_daemon.h"
#include "orchestrator/supervisor/supervisor.h"
#include "runtime/util/cleanup.h"
#include "runtime/util/error.h"

int cli_supervisor(struct cli_globals *g, int argc, char **argv) {
  if (argc != 2 || argv[1][0] == '-') {
    fprintf(stderr, "Usage: %s supervisor PROJECT\n\nRun the supervisor of a project (started "
                    "by the Compose verbs; not usually run by hand).\n",
            g->progname);
    return argc == 2 && (strcmp(argv[1], "-h") == 0 || strcmp(argv[1], "--help") == 0) ? 0 : 2;
  }
  /* The starter's ready pipe, if there is one: only a pipe counts, so that
   * an fd 3 a shell happened to leave open is not written to. */
  struct stat st;
  int ready = fstat(SUP_DAEMON_READY_FD, &st) == 0 && S_ISFIFO(st.st_mode) ? SUP_DAEMON_READY_FD : -1;
  if (ready >= 0)
    fcntl(ready, F_SETFD, FD_CLOEXEC);
  struct supervisor_opts o = {.project = argv[1], .ready_fd = ready};
  _cleanup_error_ struct stack_error *err = NULL;
  if (supervisor_run(&o, &err) < 0) {
    stack_error_print(err);
    return 1;
  }
  return 0;
}
