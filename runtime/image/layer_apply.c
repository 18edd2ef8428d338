/* Applies OCI / Docker layer tarballs to the in-memory tree (layer_tree.h):
 * whiteouts and opaque directories, hard links, symlinks, devices, fifos,
 * ownership, modes, mtimes, xattrs.  Decompression (gzip, zstd, none) is
 * libarchive's, chosen by magic.
 *
 * Paths: an entry name that is absolute or has a ".." component is refused
 * (a well-formed layer never has one); directories on the way to an entry are
 * resolved inside the tree, following symlinks as if chrooted, so a symlink
 * to "/etc" or "../../.." leads to the image's /etc, never the host's.  The
 * tree is in memory anyway: the worst a layer can do is describe a strange
 * image. */
#include <archive.h>
#include <archive_entry.h>
#include <errno.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "layer_inflate.h"
#include "layer_tree.h"
#include "layer_tree_internal.h"
#include "runtime/util/cleanup.h"
#include "runtime/util/error.h"
#include "runtime/util/fdio.h"
#include "runtime/util/xalloc.h"

#define WHITEOUT_PREFIX ".wh."
#define OPAQUE_MARKER ".wh..wh..opq"
#define COPY_BUF (1 << 20)
#define NAME_MAX_EXT4 255

static void archive_freep(struct archive **a) {
  if (*a)
    archive_read_free(*a);
}

/* A clean relative path: no leading '/', no "." or empty components, and no
 * "..".  "" is the root. */
static int clean_path(const char *raw, const char *entry, char **out, struct stack_error **err) {
  if (raw[0] == '/')
    return stack_error_set(err, -EPERM,
                           "entry \"%s\": absolute path; a layer may only name paths inside the "
                           "image",
                           entry);
  size_t len = strlen(raw);
  char *buf = xmalloc(len + 1);
  size_t o = 0;
  const char *p = raw;
  while (*p) {
    size_t n = strcspn(p, "/");
    if (n == 2 && p[0] == '.' && p[1] == '.') {
      free(buf);
      return stack_error_set(err, -EPERM, "entry \"%s\": \"..\" would escape the image root",
                             entry);
    }
    if (n > NAME_MAX_EXT4) {
      free(buf);
      return stack_error_set(err, -ENAMETOOLONG, "entry \"%s\": a name is longer than %d bytes",
                             entry, NAME_MAX_EXT4);
    }
    if (n > 0 && !(n == 1 && p[0] == '.')) {
      if (o)
        buf[o++] = '/';
      memcpy(buf + o, p, n);
      o += n;
    }
    p += n;
    while (*p == '/')
      p++;
  }
  buf[o] = '\0';
  *out = buf;
  return 0;
}

static void set_meta(struct lt_inode *ino, struct archive_entry *e) {
  ino->mode = (ino->mode & S_IFMT) | (archive_entry_perm(e) & 07777);
  ino->uid = (uint32_t)archive_entry_uid(e);
  ino->gid = (uint32_t)archive_entry_gid(e);
  ino->mtime = archive_entry_mtime(e);
  for (size_t i = 0; i < ino->nxattrs; i++) {
    free(ino->xattrs[i].name);
    free(ino->xattrs[i].value);
  }
  free(ino->xattrs);
  ino->xattrs = NULL;
  ino->nxattrs = 0;
  int n = archive_entry_xattr_reset(e);
  if (n <= 0)
    return;
  ino->xattrs = xcalloc((size_t)n, sizeof(*ino->xattrs));
  const char *name;
  const void *value;
  size_t size;
  while (ino->nxattrs < (size_t)n && archive_entry_xattr_next(e, &name, &value, &size) == ARCHIVE_OK) {
    if (name == NULL || name[0] == '\0')
      continue;
    struct lt_xattr *x = &ino->xattrs[ino->nxattrs++];
    x->name = xstrdup(name);
    x->value = xmalloc(size ? size : 1);
    if (size)
      memcpy(x->value, value, size);
    x->len = size;
  }
}

/* Hides everything lower layers put in dir (".wh..wh..opq"); what this layer
 * already added stays, but its lower-layer content goes too. */
static void make_opaque(struct layer_tree *t, struct lt_dentry *dir) {
  for (struct lt_dentry *c = dir->first_child, *next; c; c = next) {
    next = c->next;
    if (c->layer < t->layer)
      lt_remove(t, c);
    else if (S_ISDIR(c->inode->mode))
      make_opaque(t, c);
  }
}

static int read_content(struct layer_tree *t, struct archive *a, struct lt_inode *ino,
                        int64_t declared, const char *entry, char *buf, struct stack_error **err) {
  uint64_t total = 0;
  ino->spool_off = t->spool_len;
  for (;;) {
    la_ssize_t n = archive_read_data(a, buf, COPY_BUF);
    if (n == 0)
      break;
    if (n < 0)
      return stack_error_set(err, -EBADMSG, "entry \"%s\": %s", entry, archive_error_string(a));
    if (total + (uint64_t)n > (uint64_t)declared)
      return stack_error_set(err, -EBADMSG, "entry \"%s\": file is larger than its declared size %lld",
                             entry, (long long)declared);
    int w = fd_pwrite_all(t->spool_fd, buf, (size_t)n, (off_t)(t->spool_len + total));
    if (w < 0)
      return stack_error_errno(err, w, "entry \"%s\": cannot spool its content", entry);
    total += (uint64_t)n;
  }
  if (total != (uint64_t)declared)
    return stack_error_set(err, -EBADMSG, "entry \"%s\": truncated: %llu of %lld bytes", entry,
                           (unsigned long long)total, (long long)declared);
  ino->size = total;
  t->spool_len += total;
  return 0;
}

static int apply_hardlink(struct layer_tree *t, struct lt_dentry *dir, const char *base,
                          const char *link, const char *entry, struct stack_error **err) {
  _cleanup_free_ char *clean = NULL;
  int r = clean_path(link, entry, &clean, err);
  if (r < 0)
    return stack_error_prefix(err, "hard link target");
  struct lt_dentry *tdir;
  const char *tbase;
  if (clean[0] == '\0' || (r = lt_resolve_parent(t, clean, entry, &tdir, &tbase, err)) < 0)
    return r < 0 ? r
                 : stack_error_set(err, -EPERM, "entry \"%s\": hard link to the root", entry);
  struct lt_dentry *target = lt_child(t, tdir, tbase);
  if (target == NULL)
    return stack_error_set(err, -ENOENT,
                           "entry \"%s\": hard link to \"%s\", which is not in the image", entry,
                           link);
  if (S_ISDIR(target->inode->mode))
    return stack_error_set(err, -EPERM, "entry \"%s\": hard link to directory \"%s\"", entry, link);
  struct lt_dentry *existing = lt_child(t, dir, base);
  if (existing == target)
    return 0;
  /* Hold the inode while the old name goes: it may be the only other link. */
  struct lt_inode *ino = target->inode;
  ino->refs++;
  if (existing)
    lt_remove(t, existing);
  lt_add(t, dir, base, ino);
  ino->refs--;
  return 0;
}

static int apply_entry(struct layer_tree *t, struct archive *a, struct archive_entry *e,
                       const char *entry, char *buf, struct stack_error **err) {
  _cleanup_free_ char *path = NULL;
  int r = clean_path(entry, entry, &path, err);
  if (r < 0)
    return r;
  mode_t type = archive_entry_filetype(e);
  const char *hardlink = archive_entry_hardlink(e);
  int64_t uid = archive_entry_uid(e), gid = archive_entry_gid(e);
  if (uid < 0 || uid > UINT32_MAX || gid < 0 || gid > UINT32_MAX)
    return stack_error_set(err, -EINVAL, "entry \"%s\": owner %lld:%lld is out of range", entry,
                           (long long)uid, (long long)gid);
  if (path[0] == '\0') {
    if (type == AE_IFDIR && hardlink == NULL)
      set_meta(t->root->inode, e);
    return 0;
  }
  struct lt_dentry *dir;
  const char *base;
  if ((r = lt_resolve_parent(t, path, entry, &dir, &base, err)) < 0)
    return r;
  if (strncmp(base, WHITEOUT_PREFIX, strlen(WHITEOUT_PREFIX)) == 0) {
    if (strcmp(base, OPAQUE_MARKER) == 0) {
      make_opaque(t, dir);
      return 0;
    }
    const char *victim = base + strlen(WHITEOUT_PREFIX);
    if (victim[0] == '\0' || strcmp(victim, ".") == 0 || strcmp(victim, "..") == 0)
      return stack_error_set(err, -EINVAL, "entry \"%s\": invalid whiteout", entry);
    struct lt_dentry *v = lt_child(t, dir, victim);
    if (v)
      lt_remove(t, v);
    return 0;
  }
  if (hardlink)
    return apply_hardlink(t, dir, base, hardlink, entry, err);

  struct lt_dentry *existing = lt_child(t, dir, base);
  if (type == AE_IFDIR && existing && S_ISDIR(existing->inode->mode)) {
    set_meta(existing->inode, e);
    existing->layer = t->layer;
    return 0;
  }
  switch (type) {
  case AE_IFREG:
  case AE_IFDIR:
  case AE_IFLNK:
  case AE_IFCHR:
  case AE_IFBLK:
  case AE_IFIFO:
  case AE_IFSOCK:
    break;
  default:
    return stack_error_set(err, -EINVAL, "entry \"%s\": unsupported file type 0%o", entry,
                           (unsigned)type);
  }
  if (existing)
    lt_remove(t, existing);
  struct lt_inode *ino = lt_inode_new(type);
  struct lt_dentry *d = lt_add(t, dir, base, ino);
  set_meta(ino, e);
  switch (type) {
  case AE_IFREG: {
    int64_t declared = archive_entry_size_is_set(e) ? archive_entry_size(e) : 0;
    if (declared < 0)
      return stack_error_set(err, -EINVAL, "entry \"%s\": negative size", entry);
    return read_content(t, a, ino, declared, entry, buf, err);
  }
  case AE_IFLNK: {
    const char *target = archive_entry_symlink(e);
    if (target == NULL || target[0] == '\0') {
      lt_remove(t, d);
      return stack_error_set(err, -EINVAL, "entry \"%s\": symlink without a target", entry);
    }
    ino->symlink = xstrdup(target);
    return 0;
  }
  case AE_IFCHR:
  case AE_IFBLK:
    ino->rdev = archive_entry_rdev(e);
    return 0;
  default:
    return 0;
  }
}

static int apply_archive(struct layer_tree *t, struct archive *a, const char *what,
                         struct stack_error **err) {
  t->layer++;
  _cleanup_free_ char *last = NULL;
  _cleanup_free_ char *buf = xmalloc(COPY_BUF);
  for (;;) {
    struct archive_entry *e;
    int r = archive_read_next_header(a, &e);
    if (r == ARCHIVE_EOF)
      return 0;
    if (r < ARCHIVE_WARN) {
      if (last)
        return stack_error_set(err, -EBADMSG, "layer %s: after entry \"%s\": %s", what, last,
                               archive_error_string(a));
      return stack_error_set(err, -EBADMSG, "layer %s: %s", what, archive_error_string(a));
    }
    const char *name = archive_entry_pathname(e);
    if (name == NULL)
      return stack_error_set(err, -EBADMSG, "layer %s: the entry after \"%s\" has no name "
                             "(a corrupt archive, or a file larger than its declared size)",
                             what, last ? last : "(none)");
    free(last);
    last = xstrdup(name);
    if ((r = apply_entry(t, a, e, last, buf, err)) < 0)
      return stack_error_prefix(err, "layer %s", what);
  }
}

static struct archive *reader_new(void) {
  struct archive *a = archive_read_new();
  if (a == NULL)
    abort();
  archive_read_support_filter_gzip(a);
  archive_read_support_filter_zstd(a);
  archive_read_support_format_tar(a);
  archive_read_support_format_empty(a);
  return a;
}

int layer_tree_apply_fd(struct layer_tree *t, int fd, const char *what, char **diff_id,
                        struct stack_error **err) {
  struct layer_inflater *li = NULL;
  int in = fd;
  int r = layer_inflate_start(fd, &li, &in, err);
  if (r < 0)
    return stack_error_prefix(err, "layer %s", what);
  struct archive *a = reader_new();
  if (archive_read_open_fd(a, in, 1 << 20) != ARCHIVE_OK)
    r = stack_error_set(err, -EBADMSG, "layer %s: %s", what, archive_error_string(a));
  else
    r = apply_archive(t, a, what, err);
  archive_read_free(a);
  /* The tar reader stops at the end-of-archive blocks: read the rest so the
   * whole stream is hashed. */
  if (r == 0 && li) {
    char buf[65536];
    ssize_t n;
    while ((n = read(in, buf, sizeof(buf))) > 0 || (n < 0 && errno == EINTR))
      ;
  }
  /* A corrupt compressed stream shows up as a broken tar: say what broke. */
  struct stack_error *ie = NULL;
  if (layer_inflate_finish(li, r == 0 ? diff_id : NULL, &ie) < 0) {
    r = stack_error_set(err, ie->code, "layer %s: %s", what, ie->msg);
    stack_error_free(ie);
  }
  return r;
}

int layer_tree_apply_memory(struct layer_tree *t, const void *data, size_t len, const char *what,
                            struct stack_error **err) {
  __attribute__((cleanup(archive_freep))) struct archive *a = reader_new();
  if (archive_read_open_memory(a, data, len) != ARCHIVE_OK)
    return stack_error_set(err, -EBADMSG, "layer %s: %s", what, archive_error_string(a));
  return apply_archive(t, a, what, err);
}
