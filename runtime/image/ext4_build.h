/* Writes an image's root tree (layer_tree.h) as a fresh ext4 file system
 * image with libext2fs, in-process: 4 KiB blocks, extents, sized to the
 * content plus headroom, no journal (the disk is read-only at run time). */
#ifndef STACK_IMAGE_EXT4_BUILD_H
#define STACK_IMAGE_EXT4_BUILD_H

struct stack_error;
struct layer_tree;

/* Creates (truncating) path and writes the file system to it.  On error the
 * caller removes path. */
int ext4_build(struct layer_tree *t, const char *path, struct stack_error **err);

#endif
