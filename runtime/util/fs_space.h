/* Free space on the file system under a path: for a VM paused on a full
 * disk (when to resume it) and for log files that could not be written
 * (what to tell the user, when to try again). */
#ifndef STACK_UTIL_FS_SPACE_H
#define STACK_UTIL_FS_SPACE_H

#include <stdbool.h>
#include <stdint.h>

struct stack_error;

struct fs_space {
  uint64_t avail; /* bytes a writer may still take */
  uint64_t size;  /* bytes of the whole file system */
};

/* statvfs() of path (a file or a directory).  With reserved, the blocks
 * reserved for privileged writers count as free too (a writer with
 * CAP_SYS_RESOURCE, such as a QEMU running as root, may take them). */
int fs_space_get(const char *path, bool reserved, struct fs_space *out, struct stack_error **err);

/* Whether a writer that stopped on a full file system may go on: room for
 * more than a moment of writing, at least 1 MiB and 2 % of the file system
 * up to 64 MiB.  Resuming with less would only stop it again at once. */
bool fs_space_room(const struct fs_space *s);

/* The mount point of the file system holding path (the topmost directory
 * above it on the same device), for messages; path itself or its parent
 * when it cannot be told.  Newly allocated. */
char *fs_mount_point(const char *path);

#endif
