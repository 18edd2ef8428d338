/* Which references the store holds: reference -> manifest -> config, kept as
 * small JSON files under <root>/images/, written atomically. */
#ifndef STACK_IMAGE_INDEX_H
#define STACK_IMAGE_INDEX_H

#include <stdint.h>

struct stack_error;

struct image_record {
  char *ref;             /* normalised reference (name:tag or name@digest) */
  char *manifest_digest; /* of the platform manifest */
  char *config_digest;
  char *platform;        /* "linux/amd64" */
  int64_t size;          /* sum of layer sizes (compressed) */
  int64_t created;       /* unix seconds when stored */
};

int image_index_put(const char *store_root, const struct image_record *r, struct stack_error **err);
/* -ENOENT (with a message) when ref is not in the store. */
int image_index_get(const char *store_root, const char *ref, struct image_record **out,
                    struct stack_error **err);
int image_index_remove(const char *store_root, const char *ref, struct stack_error **err);
/* All records; *out is a NULL-terminated array. */
int image_index_list(const char *store_root, struct image_record ***out, struct stack_error **err);
void image_record_free(struct image_record *r);
/* Frees what image_index_list() returned. */
void image_record_list_free(struct image_record **v);

#endif
