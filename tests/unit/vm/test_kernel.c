/* Kernel lookup order (--kernel, config file, cache) and its errors, in a
 * private STACK_CONFIG / STACK_CACHE_DIR. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "runtime/util/cleanup.h"
#include "runtime/util/error.h"
#include "runtime/util/fsutil.h"
#include "runtime/util/xalloc.h"
#include "runtime/vm/kernel.h"
#include "test.h"

static char dir[] = "/tmp/stack-kerneltest.XXXXXX";
static void cleanup(void) { fs_rm_rf(dir, NULL); }

static void put(const char *path, const char *text) {
  CHECK(fs_write_file_atomic(path, text, strlen(text), 0644, NULL) == 0);
}

int main(void) {
  CHECK(mkdtemp(dir) != NULL);
  atexit(cleanup);
  _cleanup_free_ char *config = xasprintf("%s/config.json", dir);
  _cleanup_free_ char *cache = xasprintf("%s/cache", dir);
  _cleanup_free_ char *cached = xasprintf("%s/kernel/abc/vmlinux", cache);
  _cleanup_free_ char *mine = xasprintf("%s/my-vmlinux", dir);
  setenv("STACK_CONFIG", config, 1);
  setenv("STACK_CACHE_DIR", cache, 1);
  put(mine, "k");

  _cleanup_error_ struct stack_error *err = NULL;
  char *k = NULL;
  enum kernel_source src;
  /* Nothing anywhere: the error says how to get a kernel. */
  CHECK(kernel_find(NULL, &k, &src, &err) == -ENOENT);
  CHECK(err && strstr(err->msg, "guest/kernel/build.sh") && strstr(err->msg, "--kernel"));

  /* The cache's `current` link. */
  _cleanup_free_ char *abc = xasprintf("%s/kernel/abc", cache);
  _cleanup_free_ char *cur = xasprintf("%s/kernel/current", cache);
  CHECK(fs_mkdir_p(abc, 0755, NULL) == 0);
  put(cached, "k");
  CHECK(symlink("abc", cur) == 0);
  CHECK(kernel_find(NULL, &k, &src, &err) == 0);
  CHECK_STREQ(k, cached);
  CHECK_INTEQ(src, KERNEL_FROM_CACHE);
  free(k);

  /* The config file wins over the cache. */
  _cleanup_free_ char *json = xasprintf("{\"kernel\": \"%s\", \"accel\": \"tcg\"}", mine);
  put(config, json);
  CHECK(kernel_find(NULL, &k, &src, &err) == 0);
  CHECK_STREQ(k, mine);
  CHECK_INTEQ(src, KERNEL_FROM_CONFIG);
  free(k);
  char *accel = NULL;
  CHECK(stack_config_get_string("accel", &accel, NULL) == 0);
  CHECK_STREQ(accel, "tcg");
  free(accel);
  CHECK(stack_config_get_string("nothere", &accel, NULL) == 0 && accel == NULL);

  /* --kernel wins over both; relative paths come back absolute. */
  CHECK(chdir(dir) == 0);
  CHECK(kernel_find("my-vmlinux", &k, &src, &err) == 0);
  CHECK_STREQ(k, mine);
  CHECK_INTEQ(src, KERNEL_FROM_OPTION);
  free(k);
  CHECK(kernel_find("missing", &k, &src, &err) == -ENOENT);
  CHECK(err && strstr(err->msg, "--kernel"));

  /* A broken config file is an error naming it. */
  put(config, "{\"kernel\": 5}");
  CHECK(kernel_find(NULL, &k, NULL, &err) == -EINVAL);
  CHECK(err && strstr(err->msg, config) && strstr(err->msg, "string"));
  put(config, "[]");
  CHECK(kernel_find(NULL, &k, NULL, &err) == -EINVAL);
  CHECK(err && strstr(err->msg, "JSON object"));
  put(config, "{\"kernel\": \"/nonexistent/vmlinux\"}");
  CHECK(kernel_find(NULL, &k, NULL, &err) == -ENOENT);
  CHECK(err && strstr(err->msg, "config.json"));
  TEST_DONE();
}
