/* The in-memory tree: dentries hashed by (parent, name), inode sharing for
 * hard links, subtree removal for whiteouts, and path resolution that can
 * never leave the tree. */
#include "layer_tree.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include "layer_tree_internal.h"
#include "runtime/util/error.h"
#include "runtime/util/xalloc.h"

#define MAX_SYMLINK_HOPS 40

static size_t bucket_of(const struct layer_tree *t, const struct lt_dentry *parent,
                        const char *name) {
  uint64_t h = 1469598103934665603ULL ^ (uint64_t)(uintptr_t)parent;
  for (const unsigned char *p = (const unsigned char *)name; *p; p++)
    h = (h ^ *p) * 1099511628211ULL;
  return (size_t)(h ^ (h >> 29)) & (t->nbuckets - 1);
}

static void rehash(struct layer_tree *t) {
  size_t old_n = t->nbuckets;
  struct lt_dentry **old = t->buckets;
  t->nbuckets = old_n ? old_n * 2 : 1024;
  t->buckets = xcalloc(t->nbuckets, sizeof(*t->buckets));
  for (size_t i = 0; i < old_n; i++) {
    for (struct lt_dentry *d = old[i], *next; d; d = next) {
      next = d->hash_next;
      size_t b = bucket_of(t, d->parent, d->name);
      d->hash_next = t->buckets[b];
      t->buckets[b] = d;
    }
  }
  free(old);
}

struct lt_dentry *lt_child(struct layer_tree *t, struct lt_dentry *dir, const char *name) {
  for (struct lt_dentry *d = t->buckets[bucket_of(t, dir, name)]; d; d = d->hash_next)
    if (d->parent == dir && strcmp(d->name, name) == 0)
      return d;
  return NULL;
}

struct lt_inode *lt_inode_new(mode_t mode) {
  struct lt_inode *ino = xcalloc(1, sizeof(*ino));
  ino->mode = mode;
  return ino;
}

static void inode_unref(struct lt_inode *ino) {
  if (ino == NULL || --ino->refs > 0)
    return;
  free(ino->symlink);
  for (size_t i = 0; i < ino->nxattrs; i++) {
    free(ino->xattrs[i].name);
    free(ino->xattrs[i].value);
  }
  free(ino->xattrs);
  free(ino);
}

struct lt_dentry *lt_add(struct layer_tree *t, struct lt_dentry *dir, const char *name,
                         struct lt_inode *ino) {
  if (t->nentries + 1 > t->nbuckets)
    rehash(t);
  struct lt_dentry *d = xcalloc(1, sizeof(*d));
  d->name = xstrdup(name);
  d->parent = dir;
  d->inode = ino;
  d->layer = t->layer;
  d->depth = dir->depth + 1;
  ino->refs++;
  size_t b = bucket_of(t, dir, name);
  d->hash_next = t->buckets[b];
  t->buckets[b] = d;
  d->prev = dir->last_child;
  if (dir->last_child)
    dir->last_child->next = d;
  else
    dir->first_child = d;
  dir->last_child = d;
  t->nentries++;
  return d;
}

static void dentry_free_rec(struct layer_tree *t, struct lt_dentry *d) {
  for (struct lt_dentry *c = d->first_child, *next; c; c = next) {
    next = c->next;
    lt_remove(t, c);
  }
  inode_unref(d->inode);
  free(d->name);
  free(d);
}

void lt_remove(struct layer_tree *t, struct lt_dentry *d) {
  struct lt_dentry *dir = d->parent;
  struct lt_dentry **pp = &t->buckets[bucket_of(t, dir, d->name)];
  while (*pp != d)
    pp = &(*pp)->hash_next;
  *pp = d->hash_next;
  if (d->prev)
    d->prev->next = d->next;
  else
    dir->first_child = d->next;
  if (d->next)
    d->next->prev = d->prev;
  else
    dir->last_child = d->prev;
  t->nentries--;
  dentry_free_rec(t, d);
}

int layer_tree_new(struct layer_tree **out, struct stack_error **err) {
  int fd = memfd_create("stack-layers", MFD_CLOEXEC);
  if (fd < 0)
    return stack_error_errno(err, -errno, "cannot create the layer spool (memfd)");
  struct layer_tree *t = xcalloc(1, sizeof(*t));
  t->spool_fd = fd;
  rehash(t);
  t->root = xcalloc(1, sizeof(*t->root));
  t->root->name = xstrdup("");
  t->root->inode = lt_inode_new(S_IFDIR | 0755);
  t->root->inode->refs = 1;
  *out = t;
  return 0;
}

void layer_tree_free(struct layer_tree *t) {
  if (t == NULL)
    return;
  /* Children first so every hash removal finds its dentry. */
  for (struct lt_dentry *c = t->root->first_child, *next; c; c = next) {
    next = c->next;
    lt_remove(t, c);
  }
  dentry_free_rec(t, t->root);
  free(t->buckets);
  if (t->spool_fd >= 0)
    close(t->spool_fd);
  free(t);
}

/* Copies the next component of *p into comp (NUL-terminated) and advances
 * *p: 1 when there is one, 0 at the end, -ENAMETOOLONG when it does not fit
 * (a name ext4 could not hold anyway). */
static int next_component(const char **p, char comp[static 256]) {
  while (**p == '/')
    (*p)++;
  size_t n = strcspn(*p, "/");
  if (n == 0)
    return 0;
  if (n >= 256)
    return -ENAMETOOLONG;
  memcpy(comp, *p, n);
  comp[n] = '\0';
  *p += n;
  return 1;
}

/* Walks a '/'-separated path as a directory, from dir (or the root when the
 * path is absolute), following symlinks inside the tree: ".." stops at the
 * root, exactly as if the tree were chrooted.  Missing directories are
 * created (as a tar extractor's mkdir -p would).  entry names the tar entry
 * for errors. */
static int walk_dir(struct layer_tree *t, struct lt_dentry *dir, const char *path, int *hops,
                    const char *entry, struct lt_dentry **out, struct stack_error **err) {
  struct lt_dentry *cur = path[0] == '/' ? t->root : dir;
  const char *p = path;
  char comp[256];
  int more;
  while ((more = next_component(&p, comp)) != 0) {
    if (more < 0)
      return stack_error_set(err, -ENAMETOOLONG, "entry \"%s\": a path component is too long",
                             entry);
    if (strcmp(comp, ".") == 0)
      continue;
    if (strcmp(comp, "..") == 0) {
      if (cur->parent)
        cur = cur->parent;
      continue;
    }
    struct lt_dentry *c = lt_child(t, cur, comp);
    if (c == NULL) {
      if (cur->depth + 1 >= LT_MAX_DEPTH)
        return stack_error_set(err, -ELOOP, "entry \"%s\": the tree is deeper than %d levels",
                               entry, LT_MAX_DEPTH);
      struct lt_inode *ino = lt_inode_new(S_IFDIR | 0755);
      c = lt_add(t, cur, comp, ino);
    }
    if (S_ISLNK(c->inode->mode)) {
      if (++*hops > MAX_SYMLINK_HOPS)
        return stack_error_set(err, -ELOOP, "entry \"%s\": too many levels of symbolic links",
                               entry);
      int r = walk_dir(t, cur, c->inode->symlink, hops, entry, &cur, err);
      if (r < 0)
        return r;
      continue;
    }
    if (!S_ISDIR(c->inode->mode))
      return stack_error_set(err, -ENOTDIR, "entry \"%s\": \"%s\" is not a directory", entry,
                             comp);
    cur = c;
  }
  *out = cur;
  return 0;
}

int lt_resolve_parent(struct layer_tree *t, const char *path, const char *entry,
                      struct lt_dentry **dir, const char **base, struct stack_error **err) {
  const char *slash = strrchr(path, '/');
  *base = slash ? slash + 1 : path;
  if (slash == NULL) {
    *dir = t->root;
    return 0;
  }
  char *parent = xstrndup(path, (size_t)(slash - path));
  int hops = 0;
  int r = walk_dir(t, t->root, parent, &hops, entry, dir, err);
  free(parent);
  if (r == 0 && (*dir)->depth + 1 >= LT_MAX_DEPTH)
    r = stack_error_set(err, -ELOOP, "entry \"%s\": the tree is deeper than %d levels", entry,
                        LT_MAX_DEPTH);
  return r;
}

struct lt_dentry *layer_tree_lookup(struct layer_tree *t, const char *path) {
  struct lt_dentry *cur = t->root;
  const char *p = path;
  char comp[256];
  int more;
  while (cur && (more = next_component(&p, comp)) != 0) {
    if (more < 0 || !S_ISDIR(cur->inode->mode))
      return NULL;
    cur = lt_child(t, cur, comp);
  }
  return cur;
}
