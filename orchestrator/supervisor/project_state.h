/* The on-disk state of one project: its containers with their IDs, config
 * hashes, addresses, disks, health, restart counts and QEMU processes, so
 * that a supervisor started after a crash adopts what still runs and
 * accounts for what died.  Stored as JSON (state.json in the project's
 * state directory), written atomically. */
#ifndef STACK_SUPERVISOR_PROJECT_STATE_H
#define STACK_SUPERVISOR_PROJECT_STATE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "ctr_status.h"
#include "health.h"

struct stack_error;

#define PROJECT_STATE_VERSION 1
/* A state file is small; a larger one is not ours. */
#define PROJECT_STATE_MAX_BYTES (16u << 20)

struct ps_address {
  char *network; /* the Compose network key */
  char *ip;
  char *mac;
};

struct ps_container {
  char *name;        /* "<project>-<service>-<n>" or container_name */
  char *id;          /* 64 hex digits */
  char *service;
  unsigned number;   /* 1-based replica number */
  char *config_hash; /* config_hash() when it was created */
  char *image;       /* the reference as written */
  char *image_id;    /* its config digest */
  char *command;     /* the command as `ps` shows it, NULL if unknown */
  enum ctr_status status;
  /* paused by QEMU, not by a user: "disk full" (its disk's file system is
   * full: it resumes once there is room) or "I/O error"; NULL otherwise */
  char *pause_reason;
  int exit_code;
  enum health_status health;
  unsigned restart_count;
  bool user_stopped; /* stopped by the user: no policy restarts it */
  int64_t created_ms, started_ms, finished_ms; /* wall clock, ms since the epoch; 0 never */
  char *disk;        /* the writable disk, NULL before the first start */
  struct ps_address *addresses;
  size_t n_addresses;
  /* the health check its last start resolved (argv NULL: none), so that a
   * supervisor that adopts the VM runs its probes before any `up` */
  struct health_config healthcheck;
  pid_t qemu_pid;    /* 0 when no VM runs */
  uint64_t qemu_start_time; /* procinfo.h: guards against pid reuse */
};

struct project_state {
  char *project;
  char *working_dir;
  char **config_files; /* NULL-terminated, may be NULL */
  struct ps_container *containers;
  size_t n_containers;
};

/* A new, empty state for project. */
struct project_state *project_state_new(const char *project);
void project_state_free(struct project_state *s);
void project_state_freep(struct project_state **s);
#define _cleanup_project_state_ __attribute__((cleanup(project_state_freep)))

/* Parses a state file's text; anything malformed is an error naming `what`
 * (the path), never a crash. */
int project_state_parse(const char *text, size_t len, const char *what, struct project_state **out,
                        struct stack_error **err);
/* The JSON text of a state (caller frees). */
char *project_state_format(const struct project_state *s);

/* Loads path; a missing file gives an empty state for `project`. */
int project_state_load(const char *path, const char *project, struct project_state **out,
                       struct stack_error **err);
/* Writes path atomically (temp file, fsync, rename): when that fails (a
 * full file system: -ENOSPC), path keeps its previous content and the
 * error says so. */
int project_state_save(const struct project_state *s, const char *path, struct stack_error **err);

/* The container named name, or NULL. */
struct ps_container *project_state_find(struct project_state *s, const char *name);
/* Adds a container (name, service, number, a fresh random id, status
 * created) and returns it; pointers from earlier calls may move. */
struct ps_container *project_state_add(struct project_state *s, const char *name,
                                       const char *service, unsigned number);
/* Removes the container named name; returns whether there was one. */
bool project_state_remove(struct project_state *s, const char *name);

/* Accounts for VMs that went away while no supervisor watched: a container
 * recorded running, restarting or paused whose QEMU is no longer the same
 * process (is_alive(pid, start_time, ctx) false) becomes exited with
 * status 255 and no VM, as Docker marks containers that died with its
 * daemon.  Returns how many changed. */
size_t project_state_reconcile(struct project_state *s, int64_t now_ms,
                               bool (*is_alive)(pid_t pid, uint64_t start_time, void *ctx),
                               void *ctx);

#endif
