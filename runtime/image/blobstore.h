/* The content-addressed blob store: blobs by digest under
 * <root>/blobs/sha256/<hex>.  A blob enters the store only after its digest
 * (and size, where known) has been verified: data is written to a temp file
 * under <root>/blobs/tmp/ and renamed into place.  Two stack processes may use
 * one store at once (locking in here); an interrupted download keeps its
 * partial temp file so it can resume with an HTTP Range request.
 *
 * Digests are "sha256:<64 lowercase hex>"; anything else is rejected with a
 * clear error before it can become a path.
 */
#ifndef STACK_IMAGE_BLOBSTORE_H
#define STACK_IMAGE_BLOBSTORE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct stack_error;
struct blobstore;
struct blob_writer;

/* Opens (creating if needed) the store at root.  Holds a shared store lock
 * until blobstore_close(), so garbage collection waits for open stores. */
int blobstore_open(const char *root, struct blobstore **out, struct stack_error **err);
void blobstore_close(struct blobstore *bs);

/* Validates a digest string ("sha256:" + 64 lowercase hex). */
int blobstore_check_digest(const char *digest, struct stack_error **err);

bool blobstore_has(struct blobstore *bs, const char *digest);
/* Path of a committed blob (caller frees); the blob may not exist. */
char *blobstore_path(struct blobstore *bs, const char *digest);

/* Reads a whole (small) committed blob, re-verifying its digest. */
int blobstore_read(struct blobstore *bs, const char *digest, size_t max_size, char **data,
                   size_t *len, struct stack_error **err);
/* Stores a small blob from memory.  If expected_digest is not NULL the data
 * must match it.  *digest_out (may be NULL) receives the digest. */
int blobstore_put(struct blobstore *bs, const char *expected_digest, const void *data, size_t len,
                  char **digest_out, struct stack_error **err);

/* "sha256:<hex>" of data (caller frees). */
char *blobstore_digest_of(const void *data, size_t len);
/* Opens a committed blob for reading (not re-verified: blobs are verified on
 * the way in and stored read-only). */
int blobstore_open_blob(struct blobstore *bs, const char *digest, int *fd, int64_t *size,
                        struct stack_error **err);
/* Removes a committed blob; a missing blob is not an error. */
int blobstore_remove(struct blobstore *bs, const char *digest, struct stack_error **err);
/* All committed digests, NULL-terminated (free with strv_free). */
int blobstore_list(struct blobstore *bs, char ***out, struct stack_error **err);

/* Upgrades this handle's store lock to exclusive (garbage collection):
 * waits until no other handle is open. */
int blobstore_lock_exclusive(struct blobstore *bs, struct stack_error **err);
/* Removes partial downloads no writer holds; *freed (may be NULL) is
 * increased by the bytes removed. */
int blobstore_clean_tmp(struct blobstore *bs, uint64_t *freed, struct stack_error **err);

/* Starts (or resumes) writing a blob with a known digest and size
 * (expected_size < 0: unknown).  *resume_offset is how many bytes of a previous
 * interrupted attempt are already there and verified to hash consistently;
 * the caller continues from there.  Waits (flock) while another process
 * writes the same digest.  If the blob is already committed, the writer is a
 * no-op: *resume_offset is expected_size (0 if unknown), writes are dropped
 * and commit succeeds. */
int blobstore_writer_open(struct blobstore *bs, const char *expected_digest, int64_t expected_size,
                          struct blob_writer **w, uint64_t *resume_offset,
                          struct stack_error **err);
int blob_writer_write(struct blob_writer *w, const void *data, size_t len,
                      struct stack_error **err);
/* Verifies digest and size, then moves the blob into place.  Frees w. */
int blob_writer_commit(struct blob_writer *w, struct stack_error **err);
/* A writer for a blob whose digest is not known in advance (made locally,
 * e.g. by import); commit it with blob_writer_commit_digest(). */
int blobstore_writer_open_new(struct blobstore *bs, struct blob_writer **w,
                              struct stack_error **err);
/* Stores what was written under its digest; *digest_out and *size_out (may be
 * NULL) receive it.  Frees w. */
int blob_writer_commit_digest(struct blob_writer *w, char **digest_out, uint64_t *size_out,
                              struct stack_error **err);
/* Drops a writer; keep_partial keeps the temp file for a later resume.
 * Frees w. */
void blob_writer_abort(struct blob_writer *w, bool keep_partial);

#endif
