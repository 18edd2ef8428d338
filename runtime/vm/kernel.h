/* Finding the guest kernel (a vmlinux with a PVH entry point).
 *
 * Order: an explicit path (the --kernel option), else the config file's
 * "kernel" key (paths.h stack_config_path(), JSON: {"kernel": "/path"}), else
 * the kernel guest/kernel/build.sh cached at
 * <stack_cache_dir()>/kernel/current/vmlinux.
 */
#ifndef STACK_VM_KERNEL_H
#define STACK_VM_KERNEL_H

struct stack_error;

/* Where a kernel_find() result came from. */
enum kernel_source { KERNEL_FROM_OPTION, KERNEL_FROM_CONFIG, KERNEL_FROM_CACHE };

/* Sets *out to a newly allocated absolute path of a readable kernel.  A
 * missing kernel is an error that says how to build one.  source may be
 * NULL. */
int kernel_find(const char *explicit_path, char **out, enum kernel_source *source,
                struct stack_error **err);

/* Human-readable name of a source ("--kernel", "config file", "cache"). */
const char *kernel_source_name(enum kernel_source s);

/* Reads a string key from the JSON config file (stack_config_path()); sets
 * *out to NULL when the file or the key is missing.  A file that is not a
 * JSON object, or a key that is not a string, is an error naming the file. */
int stack_config_get_string(const char *key, char **out, struct stack_error **err);

#endif
