/* The read-only ext4 root disk of an image, one per config digest, cached at
 * <root>/rootfs/<hex>.ext4.  Built from the image's layers in the blob store
 * (layer_tree.h + ext4_build.h), written to a temp file and renamed when
 * complete; a lock file makes concurrent builders of the same image wait for
 * the first instead of building twice. */
#ifndef STACK_IMAGE_ROOTFS_H
#define STACK_IMAGE_ROOTFS_H

struct stack_error;
struct blobstore;
struct manifest;

/* Where the root disk of config_digest lives (caller frees); NULL for an
 * invalid digest. */
char *rootfs_path(const char *store_root, const char *config_digest);

/* Makes sure the root disk of the image (its manifest m, its config digest)
 * exists; *path_out (may be NULL) receives its path. */
int rootfs_ensure(const char *store_root, struct blobstore *bs, const char *config_digest,
                  const struct manifest *m, char **path_out, struct stack_error **err);

#endif
