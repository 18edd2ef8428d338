/* The per-project supervisor: one process per project, on one libuv loop,
 * owning the project's state (project_state.h) and answering `stack`
 * commands on a unix socket (sup_proto.h, sup_paths.h).  Started in the
 * background by sup_daemon_start(); found through sup_client.h. */
#ifndef STACK_SUPERVISOR_SUPERVISOR_H
#define STACK_SUPERVISOR_SUPERVISOR_H

struct stack_error;

struct supervisor_opts {
  const char *project;
  /* Told "ok\n" once the socket listens, or the startup error, then
   * closed; -1 for none. */
  int ready_fd;
};

/* Runs the supervisor until a "shutdown" request, SIGTERM or SIGINT.  At
 * start it takes the project's lock (one supervisor per project), loads
 * the state and accounts for VMs that died while none watched. */
int supervisor_run(const struct supervisor_opts *o, struct stack_error **err);

#endif
