/* The verb table: one line per verb, implemented in cli_<verb>.c. */
#include "cli.h"

const struct cli_verb cli_verbs[] = {
    {"config", "Parse, resolve and render compose file in canonical format", cli_config},
    {"version", "Show the stack version information", cli_version},
    {"system", "Show host facts: guest kernel, accelerator, QEMU (system info)", cli_system},
    {"pull", "Pull service images (or: stack pull IMAGE...)", cli_pull},
    {"push", "Push an image to a registry (stack push IMAGE [DESTINATION])", cli_push},
    {"login", "Log in to a registry", cli_login},
    {"logout", "Log out from a registry", cli_logout},
    {"run", "Create and run a new container from an image, in its own VM", cli_run},
    {"ps", "List containers", cli_ps},
    {"ls", "List running compose projects", cli_ls},
    {"events", "Receive real time events from containers", cli_events},
    {"up", "Create and start containers", cli_up},
    {"down", "Stop and remove containers, networks", cli_down},
    {"start", "Start services", cli_start},
    {"stop", "Stop services", cli_stop},
    {"logs", "View output from containers", cli_logs},
    {"restart", "Restart service containers", cli_restart},
    {"rm", "Removes stopped service containers", cli_rm},
    {"kill", "Force stop service containers", cli_kill},
    {"create", "Creates containers for a service", cli_create},
    {"supervisor", "Run a project's supervisor (started by the Compose verbs)", cli_supervisor},
    {"image", "Manage images (ls, inspect, rm, prune, import, load, save, pull, push)", cli_image},
    {"images", "List images", cli_images},
    {NULL, NULL, NULL},
};
