/* Paths as `cp` and `export` read them: the arguments' SRC/DEST forms, the
 * names in an archive a container's tar sent (outside data: a guest may
 * lie), and the mount points its /proc/mounts lists. */
#ifndef STACK_CLI_GUEST_PATHS_H
#define STACK_CLI_GUEST_PATHS_H

#include <stdbool.h>

/* A path split as docker cp reads it: the directory holding the entry, the
 * entry's name, whether only its contents are meant (ends in "/."), and
 * whether it must be a directory (ends in "/").  "/" is dir "/", base ".". */
struct cp_path {
  char *dir, *base;
  bool contents, want_dir;
};

void cp_path_split(const char *path, struct cp_path *out);
void cp_path_clear(struct cp_path *p);

/* The name an archive entry gets when the archive's top entry `top` (or
 * "." for a directory's contents) is copied as dest_name: top itself is
 * dest_name, top/x is dest_name/x.  NULL for an entry that is not top nor
 * under it (caller frees).  A leading "./" is ignored; ".." is left for
 * libarchive's secure extraction to refuse. */
char *cp_entry_rename(const char *path, const char *top, const char *dest_name);

/* The mount points /proc/mounts lists (its octal escapes undone), without
 * "/", NULL-terminated (NULL when none; caller frees with strv_free()). */
char **guest_mount_points(const char *text);

#endif
