#include "runtime/vm/kernel.h"

#include <cjson/cJSON.h>
#include <errno.h>
#include <limits.h>
#include <stdlib.h>
#include <unistd.h>

#include "runtime/util/cleanup.h"
#include "runtime/util/error.h"
#include "runtime/util/fsutil.h"
#include "runtime/util/paths.h"
#include "runtime/util/xalloc.h"

const char *kernel_source_name(enum kernel_source s) {
  switch (s) {
  case KERNEL_FROM_OPTION:
    return "--kernel";
  case KERNEL_FROM_CONFIG:
    return "config file";
  case KERNEL_FROM_CACHE:
    return "cache";
  }
  return "?";
}

int stack_config_get_string(const char *key, char **out, struct stack_error **err) {
  *out = NULL;
  _cleanup_free_ char *path = stack_config_path();
  _cleanup_free_ char *text = NULL;
  size_t len = 0;
  _cleanup_error_ struct stack_error *rerr = NULL;
  int r = fs_read_file(path, 1 << 20, &text, &len, &rerr);
  if (r == -ENOENT)
    return 0;
  if (r < 0) {
    *err = steal_pointer(&rerr);
    return r;
  }
  cJSON *root = cJSON_ParseWithLength(text, len);
  if (!root || !cJSON_IsObject(root)) {
    cJSON_Delete(root);
    return stack_error_set(err, -EINVAL, "%s: not a JSON object: fix or remove the file", path);
  }
  const cJSON *v = cJSON_GetObjectItemCaseSensitive(root, key);
  if (v && !cJSON_IsString(v)) {
    cJSON_Delete(root);
    return stack_error_set(err, -EINVAL, "%s: \"%s\" must be a string", path, key);
  }
  if (v)
    *out = xstrdup(v->valuestring);
  cJSON_Delete(root);
  return 0;
}

/* Resolves path to an absolute, readable file. */
static int check_kernel(const char *path, const char *what, char **out, struct stack_error **err) {
  char buf[PATH_MAX];
  if (!realpath(path, buf))
    return stack_error_errno(err, -errno, "kernel %s (from %s)", path, what);
  if (access(buf, R_OK) < 0)
    return stack_error_errno(err, -errno, "kernel %s (from %s) is not readable", buf, what);
  *out = xstrdup(buf);
  return 0;
}

int kernel_find(const char *explicit_path, char **out, enum kernel_source *source,
                struct stack_error **err) {
  enum kernel_source dummy;
  if (!source)
    source = &dummy;
  if (explicit_path && *explicit_path) {
    *source = KERNEL_FROM_OPTION;
    return check_kernel(explicit_path, "--kernel", out, err);
  }
  _cleanup_free_ char *configured = NULL;
  int r = stack_config_get_string("kernel", &configured, err);
  if (r < 0)
    return r;
  if (configured && *configured) {
    *source = KERNEL_FROM_CONFIG;
    _cleanup_free_ char *cfg = stack_config_path();
    _cleanup_free_ char *what = xasprintf("\"kernel\" in %s", cfg);
    return check_kernel(configured, what, out, err);
  }
  *source = KERNEL_FROM_CACHE;
  _cleanup_free_ char *cache = stack_cache_dir();
  _cleanup_free_ char *path = xasprintf("%s/kernel/current/vmlinux", cache);
  if (!fs_exists(path))
    return stack_error_set(err, -ENOENT,
                           "no guest kernel at %s: build it with guest/kernel/build.sh (run by "
                           "scripts/setup.sh), or pass --kernel / set \"kernel\" in the config file",
                           path);
  return check_kernel(path, "cache", out, err);
}
