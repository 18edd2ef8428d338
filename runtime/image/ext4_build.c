/* Writes a layer tree as an ext4 file system with libext2fs, in-process (the
 * steps mke2fs and misc/create_inode.c take, minus everything a read-only
 * root disk does not need: no journal, no resize inode, no checksums).
 *
 * Speed: file data does not go through ext2fs_file_write() block by block.
 * Each file's blocks are allocated at once with ext2fs_fallocate() (mostly
 * one extent), and the content is copied from the tmpfs spool straight to
 * those blocks with pread/pwrite of up to 1 MiB. */
#include "ext4_build.h"

#include <errno.h>
#include <stdbool.h>
#include <et/com_err.h>
#include <ext2fs/ext2_fs.h>
#include <ext2fs/ext2fs.h>
#include <fcntl.h>
#include <string.h>
#include <sys/random.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <time.h>
#include <unistd.h>

#include "layer_tree.h"
#include "runtime/util/cleanup.h"
#include "runtime/util/error.h"
#include "runtime/util/fdio.h"
#include "runtime/util/xalloc.h"

#define BLOCK_SIZE 4096
#define INODE_SIZE 256
#define COPY_CHUNK (1 << 20)
#define EXT4_LINK_MAX 65000 /* as the kernel: beyond, DIR_NLINK directories count 1 */

struct build {
  ext2_filsys fs;
  int fd;     /* the image, for file data */
  int spool;  /* the tree's content spool */
  char *buf;  /* COPY_CHUNK */
  const char *path;
  time_t now;
};

struct sizing {
  uint64_t inodes, blocks;
};

static uint64_t div_up(uint64_t a, uint64_t b) { return (a + b - 1) / b; }

static void size_tree(const struct lt_dentry *d, struct sizing *s) {
  const struct lt_inode *ino = d->inode;
  s->inodes++;
  if (S_ISREG(ino->mode)) {
    uint64_t b = div_up(ino->size, BLOCK_SIZE);
    /* Files spanning block groups need an extent tree block now and then. */
    s->blocks += b + b / 8192 + (b > 4 ? 1 : 0);
  } else if (S_ISLNK(ino->mode) && strlen(ino->symlink) >= 60) {
    s->blocks += 1;
  } else if (S_ISDIR(ino->mode)) {
    uint64_t bytes = 24; /* "." and ".." */
    for (const struct lt_dentry *c = d->first_child; c; c = c->next) {
      bytes += 8 + ((strlen(c->name) + 3) & ~3u);
      size_tree(c, s);
    }
    /* ext2fs_link() leaves slack when it moves on to the next block. */
    s->blocks += div_up(bytes * 5 / 4, BLOCK_SIZE) + 1;
  }
  if (ino->nxattrs)
    s->blocks += 1;
}

static int fail(struct build *b, errcode_t e, const char *what, const char *name,
                struct stack_error **err) {
  int code = e == EXT2_ET_BLOCK_ALLOC_FAIL || e == EXT2_ET_INODE_ALLOC_FAIL ||
                     e == EXT2_ET_DIR_NO_SPACE_FOR_CSUM
                 ? -ENOSPC
                 : -EIO;
  return stack_error_set(err, code, "building %s: %s \"%s\": %s", b->path, what, name,
                         error_message(e));
}

static int file_type(mode_t m) {
  switch (m & S_IFMT) {
  case S_IFREG: return EXT2_FT_REG_FILE;
  case S_IFDIR: return EXT2_FT_DIR;
  case S_IFLNK: return EXT2_FT_SYMLINK;
  case S_IFCHR: return EXT2_FT_CHRDEV;
  case S_IFBLK: return EXT2_FT_BLKDEV;
  case S_IFIFO: return EXT2_FT_FIFO;
  case S_IFSOCK: return EXT2_FT_SOCK;
  default: return EXT2_FT_UNKNOWN;
  }
}

static void fill_attrs(struct ext2_inode *inode, const struct lt_inode *ino) {
  inode->i_mode = (uint16_t)ino->mode;
  inode->i_uid = (uint16_t)ino->uid;
  ext2fs_set_i_uid_high(*inode, ino->uid >> 16);
  inode->i_gid = (uint16_t)ino->gid;
  ext2fs_set_i_gid_high(*inode, ino->gid >> 16);
  uint32_t t = ino->mtime < 0 ? 0 : ino->mtime > UINT32_MAX ? UINT32_MAX : (uint32_t)ino->mtime;
  inode->i_atime = inode->i_ctime = inode->i_mtime = t;
}

static int set_xattrs(struct build *b, ext2_ino_t n, const struct lt_inode *ino, const char *name,
                      struct stack_error **err) {
  if (ino->nxattrs == 0)
    return 0;
  struct ext2_xattr_handle *h = NULL;
  errcode_t e = ext2fs_xattrs_open(b->fs, n, &h);
  if (e == 0)
    e = ext2fs_xattrs_read(h);
  for (size_t i = 0; e == 0 && i < ino->nxattrs; i++)
    e = ext2fs_xattr_set(h, ino->xattrs[i].name, ino->xattrs[i].value, ino->xattrs[i].len);
  errcode_t e2 = h ? ext2fs_xattrs_close(&h) : 0;
  if (e == 0)
    e = e2;
  return e ? fail(b, e, "writing extended attributes of", name, err) : 0;
}

static int copy_range(struct build *b, uint64_t src, uint64_t dst, uint64_t len, const char *name,
                      struct stack_error **err) {
  while (len > 0) {
    size_t n = len > COPY_CHUNK ? COPY_CHUNK : (size_t)len;
    ssize_t r = pread(b->spool, b->buf, n, (off_t)src);
    if (r <= 0) {
      if (r < 0 && errno == EINTR)
        continue;
      return stack_error_errno(err, r < 0 ? -errno : -EIO, "building %s: reading \"%s\"", b->path,
                               name);
    }
    int w = fd_pwrite_all(b->fd, b->buf, (size_t)r, (off_t)dst);
    if (w < 0)
      return stack_error_errno(err, w, "building %s: writing \"%s\"", b->path, name);
    src += (uint64_t)r;
    dst += (uint64_t)r;
    len -= (uint64_t)r;
  }
  return 0;
}

/* Calls fn for each run of blocks inode n maps, in logical order; checks
 * that all nblocks were mapped. */
typedef int (*run_fn)(struct build *b, const void *ctx, uint64_t lblk, uint64_t pblk, uint64_t len,
                      const char *name, struct stack_error **err);

static int for_each_run(struct build *b, ext2_ino_t n, uint64_t nblocks, run_fn fn, const void *ctx,
                        const char *name, struct stack_error **err) {
  ext2_extent_handle_t h = NULL;
  errcode_t e = ext2fs_extent_open(b->fs, n, &h);
  if (e)
    return fail(b, e, "mapping", name, err);
  struct ext2fs_extent ext;
  int op = EXT2_EXTENT_ROOT;
  uint64_t mapped = 0;
  int r = 0;
  while (r == 0 && ext2fs_extent_get(h, op, &ext) == 0) {
    op = EXT2_EXTENT_NEXT_LEAF;
    if (!(ext.e_flags & EXT2_EXTENT_FLAGS_LEAF))
      continue;
    if (ext.e_lblk >= nblocks)
      break;
    uint64_t len = ext.e_len;
    if (len > nblocks - ext.e_lblk)
      len = nblocks - ext.e_lblk;
    r = fn(b, ctx, ext.e_lblk, ext.e_pblk, len, name, err);
    mapped += len;
  }
  ext2fs_extent_free(h);
  if (r == 0 && mapped != nblocks)
    r = stack_error_set(err, -EIO, "building %s: \"%s\" was not fully allocated", b->path, name);
  return r;
}

/* A regular file's content, from the spool. */
static int copy_file_run(struct build *b, const void *ctx, uint64_t lblk, uint64_t pblk,
                         uint64_t len, const char *name, struct stack_error **err) {
  const struct lt_inode *ino = ctx;
  uint64_t off = lblk * BLOCK_SIZE, bytes = len * BLOCK_SIZE;
  if (bytes > ino->size - off)
    bytes = ino->size - off;
  return copy_range(b, ino->spool_off + off, pblk * BLOCK_SIZE, bytes, name, err);
}

/* Directory blocks, prepared in memory. */
static int write_dir_run(struct build *b, const void *ctx, uint64_t lblk, uint64_t pblk,
                         uint64_t len, const char *name, struct stack_error **err) {
  const char *blocks = ctx;
  for (uint64_t i = 0; i < len; i++) {
    errcode_t e = ext2fs_write_dir_block4(b->fs, pblk + i, (void *)(blocks + (lblk + i) * BLOCK_SIZE),
                                          0, 0);
    if (e)
      return fail(b, e, "writing directory", name, err);
  }
  return 0;
}

/* A symlink target too long for the inode: one block. */
static int write_link_run(struct build *b, const void *ctx, uint64_t lblk, uint64_t pblk,
                          uint64_t len, const char *name, struct stack_error **err) {
  const char *target = ctx;
  int w = fd_pwrite_all(b->fd, target, strlen(target), (off_t)(pblk * BLOCK_SIZE));
  return w < 0 ? stack_error_errno(err, w, "building %s: writing \"%s\"", b->path, name) : 0;
}

/* Writes a new inode (attributes already in *inode) with nblocks of
 * storage allocated through extents, or none (extents = false: fast
 * symlinks, devices, fifos). */
static int create_inode(struct build *b, ext2_ino_t n, struct ext2_inode *inode, bool extents,
                        uint64_t nblocks, const char *name, struct stack_error **err) {
  errcode_t e = 0;
  if (extents) {
    ext2_extent_handle_t h;
    e = ext2fs_extent_open2(b->fs, n, inode, &h); /* sets up the extent header */
    if (e == 0)
      ext2fs_extent_free(h);
  }
  if (e == 0)
    e = ext2fs_write_new_inode(b->fs, n, inode);
  if (e == 0 && nblocks)
    e = ext2fs_fallocate(b->fs, EXT2_FALLOCATE_FORCE_INIT, n, NULL, ~0ULL, 0, nblocks);
  return e ? fail(b, e, "writing", name, err) : 0;
}

static int alloc_inode(struct build *b, ext2_ino_t dir, struct lt_inode *ino, const char *name,
                       struct stack_error **err) {
  ext2_ino_t n;
  errcode_t e = ext2fs_new_inode(b->fs, dir, (int)ino->mode, NULL, &n);
  if (e)
    return fail(b, e, "allocating an inode for", name, err);
  ext2fs_inode_alloc_stats2(b->fs, n, +1, S_ISDIR(ino->mode));
  ino->out_ino = n;
  return 0;
}

/* Everything but directories: written once, however many names it has. */
static int write_nondir(struct build *b, struct lt_dentry *d, struct stack_error **err) {
  struct lt_inode *ino = d->inode;
  ext2_ino_t n = ino->out_ino;
  if (ino->refs > EXT4_LINK_MAX)
    return stack_error_set(err, -EMLINK, "building %s: \"%s\" has more than %d hard links",
                           b->path, d->name, EXT4_LINK_MAX);
  struct ext2_inode inode;
  memset(&inode, 0, sizeof(inode));
  fill_attrs(&inode, ino);
  inode.i_links_count = (uint16_t)ino->refs;
  int r = 0;
  errcode_t e = 0;
  if (S_ISREG(ino->mode)) {
    uint64_t nblocks = div_up(ino->size, BLOCK_SIZE);
    e = ext2fs_inode_size_set(b->fs, &inode, ino->size);
    if (e == 0 && (r = create_inode(b, n, &inode, true, nblocks, d->name, err)) == 0 && nblocks)
      r = for_each_run(b, n, nblocks, copy_file_run, ino, d->name, err);
  } else if (S_ISLNK(ino->mode)) {
    size_t len = strlen(ino->symlink);
    if (len >= BLOCK_SIZE)
      return stack_error_set(err, -ENAMETOOLONG, "building %s: symlink \"%s\" is too long",
                             b->path, d->name);
    e = ext2fs_inode_size_set(b->fs, &inode, len);
    if (e == 0 && len < sizeof(inode.i_block)) { /* fast symlink: the target in the inode */
      memcpy(inode.i_block, ino->symlink, len);
      r = create_inode(b, n, &inode, false, 0, d->name, err);
    } else if (e == 0 && (r = create_inode(b, n, &inode, true, 1, d->name, err)) == 0) {
      r = for_each_run(b, n, 1, write_link_run, ino->symlink, d->name, err);
    }
  } else {
    if (S_ISCHR(ino->mode) || S_ISBLK(ino->mode)) {
      unsigned ma = major(ino->rdev), mi = minor(ino->rdev);
      if (ma < 256 && mi < 256)
        inode.i_block[0] = ma * 256 + mi;
      else
        inode.i_block[1] = (mi & 0xff) | (ma << 8) | ((mi & ~0xffu) << 12);
    }
    r = create_inode(b, n, &inode, false, 0, d->name, err);
  }
  if (e)
    return fail(b, e, "writing", d->name, err);
  if (r == 0)
    r = set_xattrs(b, n, ino, d->name, err);
  ino->out_done = 1;
  return r;
}

/* Packs one directory entry into blocks (a block-sized buffer at a time):
 * an entry never crosses a block, and the last one of a block stretches to
 * its end. */
struct dirbuf {
  char *data;
  size_t cap, nblocks;
  size_t off;  /* in the current block */
  size_t last; /* offset of the last entry of the current block (absolute) */
};

static void dir_add(ext2_filsys fs, struct dirbuf *db, const char *name, ext2_ino_t ino, int ft) {
  size_t nl = strlen(name), need = (8 + nl + 3) & ~(size_t)3;
  if (db->nblocks == 0 || db->off + need > BLOCK_SIZE) {
    if (db->nblocks) {
      struct ext2_dir_entry *last = (struct ext2_dir_entry *)(db->data + db->last);
      ext2fs_set_rec_len(fs, BLOCK_SIZE - (unsigned)(db->last % BLOCK_SIZE), last);
    }
    db->data = xgrow(db->data, &db->cap, (db->nblocks + 1) * BLOCK_SIZE, 1);
    memset(db->data + db->nblocks * BLOCK_SIZE, 0, BLOCK_SIZE);
    db->nblocks++;
    db->off = 0;
  }
  size_t at = (db->nblocks - 1) * BLOCK_SIZE + db->off;
  struct ext2_dir_entry *de = (struct ext2_dir_entry *)(db->data + at);
  de->inode = ino;
  ext2fs_set_rec_len(fs, (unsigned)need, de);
  ext2fs_dirent_set_name_len(de, (int)nl);
  ext2fs_dirent_set_file_type(de, ft);
  memcpy(de->name, name, nl);
  db->last = at;
  db->off += need;
}

static void dir_finish(ext2_filsys fs, struct dirbuf *db) {
  struct ext2_dir_entry *last = (struct ext2_dir_entry *)(db->data + db->last);
  ext2fs_set_rec_len(fs, BLOCK_SIZE - (unsigned)(db->last % BLOCK_SIZE), last);
}

/* A directory: inode numbers for its children first, so that its blocks can
 * be written in one go (ext2fs_link() per name rescans the directory, which
 * is quadratic), then the children. */
static int write_dir(struct build *b, struct lt_dentry *d, ext2_ino_t parent,
                     struct stack_error **err) {
  ext2_ino_t n = d->inode->out_ino;
  int r;
  unsigned subdirs = 0;
  for (struct lt_dentry *c = d->first_child; c; c = c->next) {
    if (!c->inode->out_ino && (r = alloc_inode(b, n, c->inode, c->name, err)) < 0)
      return r;
    subdirs += S_ISDIR(c->inode->mode);
  }
  struct dirbuf db = {NULL, 0, 0, 0, 0};
  dir_add(b->fs, &db, ".", n, EXT2_FT_DIR);
  dir_add(b->fs, &db, "..", parent, EXT2_FT_DIR);
  for (struct lt_dentry *c = d->first_child; c; c = c->next)
    dir_add(b->fs, &db, c->name, c->inode->out_ino, file_type(c->inode->mode));
  dir_finish(b->fs, &db);

  struct ext2_inode inode;
  memset(&inode, 0, sizeof(inode));
  fill_attrs(&inode, d->inode);
  /* DIR_NLINK: a directory with too many subdirectories counts 1. */
  inode.i_links_count = 2 + subdirs > EXT4_LINK_MAX ? 1 : (uint16_t)(2 + subdirs);
  errcode_t e = ext2fs_inode_size_set(b->fs, &inode, db.nblocks * BLOCK_SIZE);
  if (e)
    r = fail(b, e, "writing directory", d->name, err);
  else
    r = create_inode(b, n, &inode, true, db.nblocks, d->name, err);
  if (r == 0)
    r = for_each_run(b, n, db.nblocks, write_dir_run, db.data, d->name, err);
  free(db.data);
  if (r == 0)
    r = set_xattrs(b, n, d->inode, d->name, err);
  for (struct lt_dentry *c = d->first_child; r == 0 && c; c = c->next) {
    if (S_ISDIR(c->inode->mode))
      r = write_dir(b, c, n, err);
    else if (!c->inode->out_done)
      r = write_nondir(b, c, err);
  }
  return r;
}

static void reset_out_ino(struct lt_dentry *d) {
  d->inode->out_ino = 0;
  d->inode->out_done = 0;
  for (struct lt_dentry *c = d->first_child; c; c = c->next)
    reset_out_ino(c);
}

/* The skeleton mke2fs makes: root, reserved inodes and bad-block inode.  No
 * lost+found: containers should see exactly the image's tree, and e2fsck only
 * wants one when it has something to reconnect. */
static int make_skeleton(struct build *b, struct layer_tree *t, struct stack_error **err) {
  ext2_filsys fs = b->fs;
  errcode_t e = ext2fs_allocate_tables(fs);
  if (e == 0)
    e = ext2fs_convert_subcluster_bitmap(fs, &fs->block_map);
  if (e)
    return fail(b, e, "creating", "/", err);
  ext2fs_inode_alloc_stats2(fs, EXT2_ROOT_INO, +1, 1);
  t->root->inode->out_ino = EXT2_ROOT_INO;
  for (ext2_ino_t i = EXT2_ROOT_INO + 1; i < EXT2_FIRST_INODE(fs->super); i++)
    ext2fs_inode_alloc_stats2(fs, i, +1, 0);
  ext2fs_mark_inode_bitmap2(fs->inode_map, EXT2_BAD_INO);
  ext2fs_inode_alloc_stats2(fs, EXT2_BAD_INO, +1, 0);
  if ((e = ext2fs_update_bb_inode(fs, NULL)) != 0)
    return fail(b, e, "creating", "bad blocks inode", err);
  return 0;
}

static int init_fs(struct build *b, const struct sizing *s, struct stack_error **err) {
  struct ext2_super_block param;
  memset(&param, 0, sizeof(param));
  param.s_log_block_size = 2; /* 1024 << 2 */
  param.s_rev_level = EXT2_DYNAMIC_REV;
  param.s_inode_size = INODE_SIZE;
  param.s_inodes_count = (uint32_t)s->inodes;
  ext2fs_blocks_count_set(&param, s->blocks);
  param.s_feature_compat = EXT2_FEATURE_COMPAT_EXT_ATTR;
  param.s_feature_incompat = EXT2_FEATURE_INCOMPAT_FILETYPE | EXT3_FEATURE_INCOMPAT_EXTENTS;
  param.s_feature_ro_compat = EXT2_FEATURE_RO_COMPAT_SPARSE_SUPER |
                              EXT2_FEATURE_RO_COMPAT_LARGE_FILE | EXT4_FEATURE_RO_COMPAT_HUGE_FILE |
                              EXT4_FEATURE_RO_COMPAT_DIR_NLINK | EXT4_FEATURE_RO_COMPAT_EXTRA_ISIZE;
  param.s_min_extra_isize = param.s_want_extra_isize = 32;
  errcode_t e = ext2fs_initialize(b->path, EXT2_FLAG_64BITS, &param, unix_io_manager, &b->fs);
  if (e)
    return stack_error_set(err, -EIO, "building %s: cannot initialise the file system: %s",
                           b->path, error_message(e));
  ext2_filsys fs = b->fs;
  if (getrandom(fs->super->s_uuid, sizeof(fs->super->s_uuid), 0) < 0 ||
      getrandom(fs->super->s_hash_seed, sizeof(fs->super->s_hash_seed), 0) < 0)
    return stack_error_errno(err, -errno, "getrandom");
  fs->super->s_def_hash_version = EXT2_HASH_HALF_MD4;
  fs->super->s_max_mnt_count = -1;
  fs->super->s_mkfs_time = fs->super->s_wtime = (uint32_t)b->now;
  strncpy((char *)fs->super->s_volume_name, "stack-rootfs", sizeof(fs->super->s_volume_name));
  fs->umask = 022;
  return 0;
}

int ext4_build(struct layer_tree *t, const char *path, struct stack_error **err) {
  struct sizing s = {0, 0};
  size_tree(t->root, &s);
  /* Headroom: 10 % of the content plus 4 MiB for directory growth and group
   * metadata (bitmaps, descriptors, superblock backups). */
  s.inodes = s.inodes + s.inodes / 16 + 64;
  uint64_t itable = div_up(s.inodes * INODE_SIZE, BLOCK_SIZE);
  uint64_t groups = div_up(s.blocks + itable, 32768) + 1;
  s.blocks = s.blocks + s.blocks / 10 + itable + groups * 8 + 1024;
  if (s.inodes > UINT32_MAX / 2 || s.blocks > (1ULL << 32))
    return stack_error_set(err, -EFBIG, "building %s: the image is too large", path);

  struct build b = {.path = path, .spool = t->spool_fd, .now = time(NULL)};
  _cleanup_close_ int fd = open(path, O_RDWR | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
  if (fd < 0)
    return stack_error_errno(err, -errno, "cannot create %s", path);
  /* every VM's QEMU reads it under its own uid (runtime/vm/jail.h),
   * whatever the umask */
  if (fchmod(fd, 0644) < 0)
    return stack_error_errno(err, -errno, "cannot chmod %s", path);
  if (ftruncate(fd, (off_t)(s.blocks * BLOCK_SIZE)) < 0)
    return stack_error_errno(err, -errno, "cannot size %s", path);
  b.fd = fd;
  _cleanup_free_ char *buf = xmalloc(COPY_CHUNK);
  b.buf = buf;
  reset_out_ino(t->root);
  int r = init_fs(&b, &s, err);
  if (r == 0)
    r = make_skeleton(&b, t, err);
  if (r == 0)
    r = write_dir(&b, t->root, EXT2_ROOT_INO, err);
  if (b.fs) {
    if (r == 0) {
      errcode_t e = ext2fs_close_free(&b.fs);
      if (e)
        r = stack_error_set(err, -EIO, "building %s: cannot write the file system: %s", path,
                            error_message(e));
    } else {
      ext2fs_free(b.fs);
    }
  }
  if (r == 0 && fsync(fd) < 0)
    r = stack_error_errno(err, -errno, "cannot write %s", path);
  return r;
}
