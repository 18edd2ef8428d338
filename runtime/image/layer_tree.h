/* The root file system of an image as an in-memory tree: layers are applied
 * to it in order (layer_apply.c) and ext4_build.c writes it out, so no scratch
 * tree ever touches the disk.  Regular file contents live in one anonymous
 * tmpfs spool (memfd) and are referenced by offset.
 *
 * Nothing in here touches the host file system: a hostile layer can at worst
 * make the tree wrong, and every path is checked and resolved within the tree
 * (symlinks included) before it is used. */
#ifndef STACK_IMAGE_LAYER_TREE_H
#define STACK_IMAGE_LAYER_TREE_H

#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

struct stack_error;

struct lt_xattr {
  char *name;
  void *value;
  size_t len;
};

/* One file; several dentries share it when hard-linked. */
struct lt_inode {
  mode_t mode; /* type and permission bits */
  uint32_t uid, gid;
  int64_t mtime;
  dev_t rdev;         /* devices */
  uint64_t size;      /* regular files */
  uint64_t spool_off; /* regular files: where the content starts in the spool */
  char *symlink;      /* symlinks: the target, verbatim */
  struct lt_xattr *xattrs;
  size_t nxattrs;
  unsigned refs;    /* dentries pointing here */
  uint32_t out_ino; /* inode number in the output, 0 until allocated */
  uint8_t out_done; /* written to the output */
};

struct lt_dentry {
  char *name; /* "" for the root */
  struct lt_dentry *parent;
  struct lt_inode *inode;
  struct lt_dentry *first_child, *last_child, *next, *prev; /* directories, in order */
  struct lt_dentry *hash_next;
  unsigned layer; /* the last layer that created or touched it */
  unsigned depth; /* 0 for the root */
};

/* Deeper trees are refused: writing them out recurses once per level, and
 * no real image comes near this. */
#define LT_MAX_DEPTH 1024

struct layer_tree {
  struct lt_dentry *root;
  int spool_fd;
  uint64_t spool_len;
  struct lt_dentry **buckets; /* (parent, name) -> dentry */
  size_t nbuckets, nentries;
  unsigned layer; /* index of the layer being applied, from 1 */
};

int layer_tree_new(struct layer_tree **out, struct stack_error **err);
void layer_tree_free(struct layer_tree *t);

/* Applies one layer (tar, optionally gzip or zstd compressed: detected by
 * magic) read from fd / memory.  what names the layer in errors.  On error
 * the tree is left in an unspecified but valid state: discard it.
 * *diff_id (may be NULL) receives the sha256 of the uncompressed tar for a
 * compressed layer, NULL for an uncompressed one (its digest is its diff_id). */
int layer_tree_apply_fd(struct layer_tree *t, int fd, const char *what, char **diff_id,
                        struct stack_error **err);
int layer_tree_apply_memory(struct layer_tree *t, const void *data, size_t len, const char *what,
                            struct stack_error **err);

/* Looks a path up without following the last component (tests). */
struct lt_dentry *layer_tree_lookup(struct layer_tree *t, const char *path);

#endif
