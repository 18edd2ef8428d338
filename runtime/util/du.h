/* Disk usage of a tree, for `system df` and what a prune reclaims. */
#ifndef STACK_UTIL_DU_H
#define STACK_UTIL_DU_H

#include <stdbool.h>
#include <stdint.h>

/* Bytes the tree at path takes on disk (0 when it does not exist); symlinks
 * are not followed, other file systems mounted inside are not entered, an
 * inode with several links counts once. */
uint64_t fs_disk_usage(const char *path);

/* The sizes of the files under path, as Docker counts a volume's size and
 * what pruning it reclaims (directories count nothing, sparse files their
 * length); the same walk otherwise. */
uint64_t fs_content_size(const char *path);

#endif
