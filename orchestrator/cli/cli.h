/* The command line: global options (as `docker compose` has them) and one
 * function per verb.  Verbs live one file per verb or group of verbs
 * (cli_config.c, cli_image.c, ...) and are listed in cli_verbs.c. */
#ifndef STACK_CLI_H
#define STACK_CLI_H

#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>

struct cli_globals {
  char **files;         /* -f/--file, repeatable; NULL-terminated, may be empty */
  char **env_files;     /* --env-file, repeatable */
  char **profiles;      /* --profile, repeatable */
  char *project_name;   /* -p/--project-name */
  char *project_dir;    /* --project-directory */
  const char *progname; /* argv[0] basename, for messages */
  /* the warnings loading the project printed (a verb may load it more
   * than once; Compose prints each once) */
  struct cli_warned {
    char **msgs; /* NULL-terminated, may be NULL */
    size_t n;
  } *warned;
};

struct cli_verb {
  const char *name;
  const char *summary; /* one line for `stack --help` */
  /* argv[0] is the verb name; returns the process exit code. */
  int (*run)(struct cli_globals *g, int argc, char **argv);
};

/* The verb table, terminated by a {NULL} entry. */
extern const struct cli_verb cli_verbs[];

/* The verbs, one per line, each implemented in cli_<verb>.c; argv[0] is the
 * verb and the return value is the exit code. */
int cli_version(struct cli_globals *g, int argc, char **argv);
/* cli_config.c: `stack config [OPTIONS] [SERVICE...]`. */
int cli_config(struct cli_globals *g, int argc, char **argv);
/* cli_pull.c: `stack pull [SERVICE...]` (the Compose project's images; the
 * images named when there is no Compose file) and `stack image pull IMAGE...`
 * (argv[0] "pull"; --platform, -q). */
int cli_pull(struct cli_globals *g, int argc, char **argv);
int cli_image_pull(struct cli_globals *g, int argc, char **argv);
/* cli_push.c: `stack push SRC [DST]` and `stack image push SRC [DST]`. */
int cli_push(struct cli_globals *g, int argc, char **argv);
int cli_image_push(struct cli_globals *g, int argc, char **argv);
/* cli_login.c: `stack login [-u U] [-p P | --password-stdin] REGISTRY`, `stack logout REGISTRY`. */
int cli_login(struct cli_globals *g, int argc, char **argv);
int cli_logout(struct cli_globals *g, int argc, char **argv);
int cli_system(struct cli_globals *g, int argc, char **argv);
/* `system ksm` (cli_system_ksm.c); argv[0] is "ksm" */
int cli_system_ksm(struct cli_globals *g, int argc, char **argv);
/* The "KSM:" line of `system info`. */
void cli_print_ksm_line(void);
/* cli_run.c: `stack run` (a service's one-off container where a Compose
 * project applies, else an image's), `stack container run IMAGE` (always
 * the image form) and the image form itself. */
int cli_run(struct cli_globals *g, int argc, char **argv);
int cli_container(struct cli_globals *g, int argc, char **argv);
int cli_run_image(struct cli_globals *g, int argc, char **argv);
/* cli_ps.c, cli_ls.c, cli_events.c: `stack ps`, `stack ls`, `stack events`
 * (through the project's supervisor); cli_supervisor.c: the supervisor
 * daemon itself (`stack supervisor PROJECT`). */
int cli_ps(struct cli_globals *g, int argc, char **argv);
int cli_ls(struct cli_globals *g, int argc, char **argv);
int cli_events(struct cli_globals *g, int argc, char **argv);
/* cli_down.c: `stack down` (removes the containers, stops the supervisor). */
int cli_down(struct cli_globals *g, int argc, char **argv);
/* cli_up.c, cli_start_stop.c, cli_logs.c: `stack up`, `start`, `stop`, `logs`. */
int cli_up(struct cli_globals *g, int argc, char **argv);
int cli_start(struct cli_globals *g, int argc, char **argv);
int cli_stop(struct cli_globals *g, int argc, char **argv);
int cli_logs(struct cli_globals *g, int argc, char **argv);
/* cli_start_stop.c: `stack restart`; cli_rm_kill.c: `stack rm`, `stack kill`;
 * cli_up.c: `stack create` (up --no-start). */
int cli_restart(struct cli_globals *g, int argc, char **argv);
int cli_rm(struct cli_globals *g, int argc, char **argv);
int cli_kill(struct cli_globals *g, int argc, char **argv);
int cli_create(struct cli_globals *g, int argc, char **argv);
/* cli_exec.c: `stack exec SERVICE COMMAND...` (no TTY/stdin yet). */
int cli_exec(struct cli_globals *g, int argc, char **argv);
/* cli_port.c: `stack port SERVICE PRIVATE_PORT`. */
int cli_port(struct cli_globals *g, int argc, char **argv);
int cli_supervisor(struct cli_globals *g, int argc, char **argv);
/* cli_pause.c: `stack pause [SERVICE...]`, `stack unpause [SERVICE...]`. */
int cli_pause(struct cli_globals *g, int argc, char **argv);
int cli_unpause(struct cli_globals *g, int argc, char **argv);
/* cli_stats.c: `stack stats [--no-stream] [--format table|json] [SERVICE...]`. */
int cli_stats(struct cli_globals *g, int argc, char **argv);
/* cli_top.c: `stack top [SERVICE...]` (ps in each running container). */
int cli_top(struct cli_globals *g, int argc, char **argv);
/* cli_wait.c: `stack wait SERVICE...` (until they stop; the first's exit code). */
int cli_wait(struct cli_globals *g, int argc, char **argv);

/* cli_image.c: `stack image ls|inspect|rm|prune|import|load|save|pull|push`
 * and `stack images` (= image ls). */
int cli_image(struct cli_globals *g, int argc, char **argv);
int cli_images(struct cli_globals *g, int argc, char **argv);

/* cli_volume.c, cli_network.c: `stack volume ls|inspect|rm|prune|create`,
 * `stack network ls|inspect|rm|prune`. */
int cli_volume(struct cli_globals *g, int argc, char **argv);
int cli_network(struct cli_globals *g, int argc, char **argv);

/* cli_scale.c: `stack scale SERVICE=N...` (up -d --no-recreate --scale). */
int cli_scale(struct cli_globals *g, int argc, char **argv);

/* cli_attach.c: `stack attach SERVICE` to a running container. */
int cli_attach(struct cli_globals *g, int argc, char **argv);

/* cli_export.c: `stack export SERVICE` (the container's files as a tar) and
 * `stack commit SERVICE REPOSITORY[:TAG]` (an image of them). */
int cli_export(struct cli_globals *g, int argc, char **argv);
int cli_commit(struct cli_globals *g, int argc, char **argv);

/* cli_cp.c: `stack cp` between the host and a service's container. */
int cli_cp(struct cli_globals *g, int argc, char **argv);

/* Entry point of the `stack` binary; returns the exit code. */
int stack_cli_main(int argc, char **argv);

/* Prints the top-level usage to f. */
void cli_usage(FILE *f);

#endif
