/* What the host-wide commands (`system df`, `system prune`) read of every
 * project on this host, from the state files (no supervisor is started for
 * it), and the prunes they share with `volume prune` and `network prune`. */
#ifndef STACK_CLI_HOST_H
#define STACK_CLI_HOST_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct project_state;

/* The projects that have a state file, sorted by name, each loaded and
 * reconciled with the kernel (a VM that died since is exited).  Projects
 * whose state does not load are skipped. */
struct cli_host {
  struct project_state **states;
  size_t n;
};

void cli_host_load(struct cli_host *h);
void cli_host_clear(struct cli_host *h);

/* Whether a container of some project was made from the image whose config
 * digest is image_id. */
bool cli_host_uses_image(const struct cli_host *h, const char *image_id);

/* cli_volume.c: removes the volumes no container mounts (anonymous ones
 * only unless all), printing "Deleted Volumes:" and their names (and an
 * empty line) when there are any; adds the sizes of their files to *freed.
 * 1 when one could not be removed (said on stderr), else 0. */
int cli_volume_prune_unused(bool all, char *const *label_filters, uint64_t *freed);

/* cli_network.c: removes the networks of every project none of whose
 * containers runs, appending their names to names, one a line. */
struct sbuf;
void cli_network_prune_unused(struct sbuf *names);

/* The disk the writable layer of container name of project takes. */
uint64_t cli_host_layer_size(const char *project, const char *name);

struct cli_globals;
/* cli_system_df.c, cli_system_prune.c: `system df` and `system prune`
 * (argv[0] is the subcommand). */
int cli_system_df(struct cli_globals *g, int argc, char **argv);
int cli_system_prune(struct cli_globals *g, int argc, char **argv);

#endif
