/* Builds tar layers in memory with libarchive, for tests that need exact
 * (including hostile) layer contents.  Header-only so that unit and
 * integration tests of any module can include it. */
#ifndef STACK_TEST_TAR_BUILD_H
#define STACK_TEST_TAR_BUILD_H

#include <archive.h>
#include <archive_entry.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>

enum tb_filter { TB_PLAIN, TB_GZIP, TB_ZSTD };

struct tar_build {
  struct archive *a;
  char *buf;
  size_t cap, used;
};

struct tb_entry {
  const char *path;
  mode_t type; /* AE_IFREG ...; 0 with hardlink set */
  mode_t perm;
  int64_t uid, gid;
  const char *data; /* regular files (NUL-terminated) */
  const char *symlink;
  const char *hardlink;
  unsigned dev_major, dev_minor;
  const char *xattr_name, *xattr_value;
  int64_t mtime;
};

/* ustar: plain ustar headers (no pax extension header before an entry). */
static inline void tb_open_format(struct tar_build *t, enum tb_filter f, int ustar) {
  t->cap = 64 << 20;
  t->buf = malloc(t->cap);
  t->used = 0;
  t->a = archive_write_new();
  if (ustar)
    archive_write_set_format_ustar(t->a);
  else
    archive_write_set_format_pax_restricted(t->a);
  if (f == TB_GZIP)
    archive_write_add_filter_gzip(t->a);
  else if (f == TB_ZSTD)
    archive_write_add_filter_zstd(t->a);
  archive_write_set_bytes_in_last_block(t->a, 1);
  if (archive_write_open_memory(t->a, t->buf, t->cap, &t->used) != ARCHIVE_OK) {
    fprintf(stderr, "tar_build: %s\n", archive_error_string(t->a));
    abort();
  }
}

static inline void tb_open(struct tar_build *t, enum tb_filter f) { tb_open_format(t, f, 0); }

static inline void tb_add(struct tar_build *t, const struct tb_entry *e) {
  struct archive_entry *ae = archive_entry_new();
  archive_entry_set_pathname(ae, e->path);
  archive_entry_set_uid(ae, e->uid);
  archive_entry_set_gid(ae, e->gid);
  archive_entry_set_mtime(ae, e->mtime ? e->mtime : 1700000000, 0);
  size_t size = 0;
  if (e->hardlink) {
    archive_entry_set_filetype(ae, AE_IFREG);
    archive_entry_set_hardlink(ae, e->hardlink);
  } else {
    archive_entry_set_filetype(ae, e->type);
  }
  archive_entry_set_perm(ae, e->perm ? e->perm : (e->type == AE_IFDIR ? 0755 : 0644));
  if (e->type == AE_IFREG && e->data && !e->hardlink)
    size = strlen(e->data);
  archive_entry_set_size(ae, (la_int64_t)size);
  if (e->symlink)
    archive_entry_set_symlink(ae, e->symlink);
  if (e->type == AE_IFCHR || e->type == AE_IFBLK)
    archive_entry_set_rdev(ae, makedev(e->dev_major, e->dev_minor));
  if (e->xattr_name)
    archive_entry_xattr_add_entry(ae, e->xattr_name, e->xattr_value, strlen(e->xattr_value));
  if (archive_write_header(t->a, ae) != ARCHIVE_OK) {
    fprintf(stderr, "tar_build: %s: %s\n", e->path, archive_error_string(t->a));
    abort();
  }
  if (size)
    archive_write_data(t->a, e->data, size);
  archive_entry_free(ae);
}

/* Finishes the archive; the data is t->buf[0..t->used). */
static inline void tb_close(struct tar_build *t) {
  archive_write_close(t->a);
  archive_write_free(t->a);
  t->a = NULL;
}

static inline void tb_free(struct tar_build *t) { free(t->buf); }

/* Rewrites the size field of the ustar header at offset hdr (and its
 * checksum): makes a header lie about its data. */
static inline void tb_patch_size(struct tar_build *t, size_t hdr, unsigned long size) {
  unsigned char *h = (unsigned char *)t->buf + hdr;
  snprintf((char *)h + 124, 12, "%011lo", size);
  memset(h + 148, ' ', 8);
  unsigned sum = 0;
  for (int i = 0; i < 512; i++)
    sum += h[i];
  snprintf((char *)h + 148, 8, "%06o", sum);
}

#endif
