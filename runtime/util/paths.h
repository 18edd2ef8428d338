/* Where stack keeps its files.  Every path can be moved with an environment
 * variable, which tests use to run in parallel in private directories.
 *
 *   data root   $STACK_ROOT, else $XDG_DATA_HOME/stack (~/.local/share/stack)
 *               for non-root users, else /var/lib/stack for root.  Holds the
 *               content store (blobs/, images/, rootfs/), containers/ and
 *               projects/ state.
 *   run dir     $STACK_RUN_DIR, else /run/stack for root or
 *               $XDG_RUNTIME_DIR/stack: sockets (short paths: unix socket
 *               names are limited to 107 bytes).
 *   cache dir   $STACK_CACHE_DIR, else /var/cache/stack for root or
 *               $XDG_CACHE_HOME/stack: the built guest kernel, keyed by hash.
 *   config file $STACK_CONFIG, else /etc/stack/config.json for root or
 *               $XDG_CONFIG_HOME/stack/config.json.
 */
#ifndef STACK_UTIL_PATHS_H
#define STACK_UTIL_PATHS_H

/* Each returns a newly allocated path (caller frees); none creates it. */
char *stack_data_root(void);
char *stack_run_dir(void);
char *stack_cache_dir(void);
char *stack_config_path(void);

#endif
