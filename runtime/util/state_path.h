/* The one way to name a file under stack's state from a string that came
 * from outside (a Compose file, a command line, a registry): project,
 * container and volume names, digests, ids.
 *
 * state_path_join() builds base/part/part/...: every part must be one plain
 * name (not empty, not "." or "..", no '/', at most NAME_MAX bytes), so no
 * path built here can leave its base, whatever a name holds -- even if a
 * check at load time was missed or a new field forgets one.  Where stack
 * opens or creates such a file or directory itself, state_open() and
 * state_mkdir() resolve it with openat2(RESOLVE_BENEATH |
 * RESOLVE_NO_SYMLINKS) from a descriptor of the base: a symlink found
 * beneath the base (whoever put it there) is refused, never followed.  The
 * base itself (STACK_ROOT, STACK_RUN_DIR, ...) is the administrator's
 * choice and may be, or go through, a symlink. */
#ifndef STACK_UTIL_STATE_PATH_H
#define STACK_UTIL_STATE_PATH_H

#include <sys/types.h>

struct stack_error;

/* Checks that name can be one path component: 1 to NAME_MAX bytes, not "."
 * or "..", no '/'.  what names it in the message ("container name", ...).
 * Returns 0, -EINVAL or -ENAMETOOLONG. */
int state_component_check(const char *what, const char *name, struct stack_error **err);

/* base/parts[0]/parts[1]/... into *out (newly allocated); parts is
 * NULL-terminated and holds at least one part, each checked with
 * state_component_check().  Nothing is touched on disk. */
int state_path_join(const char *base, const char *const *parts, char **out,
                    struct stack_error **err);

/* Opens base/parts... (flags and mode as open(2); O_CLOEXEC is added)
 * beneath base, following no symlink below it.  Returns the descriptor, or
 * -errno with *err set (-ELOOP for a symlink, -EXDEV for an escape). */
int state_open(const char *base, const char *const *parts, int flags, mode_t mode,
               struct stack_error **err);

/* mkdir -p of base/parts[0]/parts[1]/... : base with fs_mkdir_p(), then
 * each part beneath it (mode for those it creates), refusing a part that
 * is a symlink or not a directory. */
int state_mkdir(const char *base, const char *const *parts, mode_t mode,
                struct stack_error **err);

#endif
