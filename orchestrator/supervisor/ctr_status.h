/* The lifecycle status of a container, with Docker's names. */
#ifndef STACK_SUPERVISOR_CTR_STATUS_H
#define STACK_SUPERVISOR_CTR_STATUS_H

enum ctr_status {
  CTR_CREATED,    /* exists, never started (or a start is pending) */
  CTR_RUNNING,    /* its VM runs the process */
  CTR_RESTARTING, /* waiting for a restart by policy */
  CTR_EXITED,     /* the process exited (exit_code), or it was stopped */
  CTR_DEAD,       /* the VM died or could not be started */
  CTR_PAUSED,     /* the VM is stopped (QMP stop) */
  CTR_REMOVING,
};

/* "created", "running", ... as `docker ps` shows them. */
const char *ctr_status_name(enum ctr_status s);
/* The inverse; -1 for an unknown name. */
int ctr_status_parse(const char *name);

#endif
