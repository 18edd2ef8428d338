/* Tree primitives shared by layer_tree.c and layer_apply.c (not an API for
 * other modules). */
#ifndef STACK_IMAGE_LAYER_TREE_INTERNAL_H
#define STACK_IMAGE_LAYER_TREE_INTERNAL_H

#include "layer_tree.h"

/* The child called name of dir, or NULL. */
struct lt_dentry *lt_child(struct layer_tree *t, struct lt_dentry *dir, const char *name);
/* A new inode with no references yet. */
struct lt_inode *lt_inode_new(mode_t mode);
/* Adds name -> ino under dir (name must not exist); takes a reference. */
struct lt_dentry *lt_add(struct layer_tree *t, struct lt_dentry *dir, const char *name,
                         struct lt_inode *ino);
/* Removes d and everything below it. */
void lt_remove(struct layer_tree *t, struct lt_dentry *d);
/* Resolves the directory part of a clean relative path (no "..", no leading
 * '/') inside the tree, following symlinks within it; *base points into
 * path at the last component. */
int lt_resolve_parent(struct layer_tree *t, const char *path, const char *entry,
                      struct lt_dentry **dir, const char **base, struct stack_error **err);

#endif
