#include "paths.h"

#include <stdlib.h>
#include <unistd.h>

#include "xalloc.h"

static char *from_env_or(const char *var, const char *xdg_var, const char *home_rel,
                         const char *root_path, const char *suffix) {
  const char *v = getenv(var);
  if (v && *v)
    return xstrdup(v);
  if (geteuid() == 0)
    return xstrdup(root_path);
  const char *x = getenv(xdg_var);
  if (x && *x)
    return xasprintf("%s/%s", x, suffix);
  const char *home = getenv("HOME");
  return xasprintf("%s/%s/%s", home && *home ? home : "/tmp", home_rel, suffix);
}

char *stack_data_root(void) {
  return from_env_or("STACK_ROOT", "XDG_DATA_HOME", ".local/share", "/var/lib/stack", "stack");
}

char *stack_run_dir(void) {
  const char *v = getenv("STACK_RUN_DIR");
  if (v && *v)
    return xstrdup(v);
  if (geteuid() == 0)
    return xstrdup("/run/stack");
  const char *x = getenv("XDG_RUNTIME_DIR");
  if (x && *x)
    return xasprintf("%s/stack", x);
  return xasprintf("/tmp/stack-%d", (int)geteuid());
}

char *stack_cache_dir(void) {
  return from_env_or("STACK_CACHE_DIR", "XDG_CACHE_HOME", ".cache", "/var/cache/stack", "stack");
}

char *stack_config_path(void) {
  return from_env_or("STACK_CONFIG", "XDG_CONFIG_HOME", ".config", "/etc/stack/config.json",
                     "stack/config.json");
}
