/* Starting a project's supervisor in the background. */
#ifndef STACK_SUPERVISOR_SUP_DAEMON_H
#define STACK_SUPERVISOR_SUP_DAEMON_H

struct stack_error;
struct sup_paths;

/* The fd on which a re-executed supervisor finds its ready pipe. */
#define SUP_DAEMON_READY_FD 3

/* Takes the start lock of p->project into *fd (waiting for another
 * starter): two callers starting at once start one supervisor.  Close *fd
 * once the supervisor is started (or found running). */
int sup_daemon_lock(const struct sup_paths *p, int *fd, struct stack_error **err);

/* With the start lock held (lock, which the daemon does not inherit):
 * starts the supervisor of p->project as a daemon (fork, setsid, fork;
 * stdin from /dev/null, stdout and stderr appended to p->log_file) and
 * returns once its socket listens, or with its startup error.  With exe
 * (e.g. "/proc/self/exe") the daemon execs `exe supervisor <project>` with
 * the ready pipe on SUP_DAEMON_READY_FD, so that it starts from a clean
 * process; with NULL it runs supervisor_run() in the forked process. */
int sup_daemon_start(const struct sup_paths *p, const char *exe, int lock,
                     struct stack_error **err);

#endif
