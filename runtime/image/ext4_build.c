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

/* ext2fs_link() and friends do not grow a full directory themselves. */
static errcode_t link_entry(ext2_filsys fs, ext2_ino_t dir, const char *name, ext2_ino_t ino,
                            int ft) {
  errcode_t e = ext2fs_link(fs, dir, name, ino, ft);
  if (e == EXT2_ET_DIR_NO_SPACE) {
    e = ext2fs_expand_dir(fs, dir);
    if (e == 0)
      e = ext2fs_link(fs, dir, name, ino, ft);
  }
  return e;
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

/* Rewrites mode, owner and times of an inode created by a libext2fs helper. */
static int set_attrs(struct build *b, ext2_ino_t n, const struct lt_inode *ino, const char *name,
                     struct stack_error **err) {
  struct ext2_inode inode;
  errcode_t e = ext2fs_read_inode(b->fs, n, &inode);
  if (e == 0) {
    fill_attrs(&inode, ino);
    e = ext2fs_write_inode(b->fs, n, &inode);
  }
  return e ? fail(b, e, "setting attributes of", name, err) : 0;
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

/* Copies a file's content to the blocks its extents map. */
static int write_data(struct build *b, ext2_ino_t n, const struct lt_inode *ino, const char *name,
                      struct stack_error **err) {
  ext2_extent_handle_t h = NULL;
  errcode_t e = ext2fs_extent_open(b->fs, n, &h);
  if (e)
    return fail(b, e, "mapping", name, err);
  struct ext2fs_extent ext;
  int op = EXT2_EXTENT_ROOT;
  uint64_t mapped = 0;
  int r = 0;
  while ((e = ext2fs_extent_get(h, op, &ext)) == 0) {
    op = EXT2_EXTENT_NEXT_LEAF;
    if (!(ext.e_flags & EXT2_EXTENT_FLAGS_LEAF))
      continue;
    uint64_t off = (uint64_t)ext.e_lblk * BLOCK_SIZE;
    if (off >= ino->size)
      break;
    uint64_t len = (uint64_t)ext.e_len * BLOCK_SIZE;
    if (len > ino->size - off)
      len = ino->size - off;
    r = copy_range(b, ino->spool_off + off, (uint64_t)ext.e_pblk * BLOCK_SIZE, len, name, err);
    if (r < 0)
      break;
    mapped += len;
  }
  ext2fs_extent_free(h);
  if (r < 0)
    return r;
  if (mapped != ino->size)
    return stack_error_set(err, -EIO, "building %s: \"%s\" was not fully allocated", b->path, name);
  return 0;
}

static int new_inode(struct build *b, ext2_ino_t dir, mode_t mode, ext2_ino_t *n, const char *name,
                     struct stack_error **err) {
  errcode_t e = ext2fs_new_inode(b->fs, dir, (int)mode, NULL, n);
  return e ? fail(b, e, "allocating an inode for", name, err) : 0;
}

static int write_plain(struct build *b, ext2_ino_t dir, const char *name, struct lt_inode *ino,
                       ext2_ino_t *out, struct stack_error **err) {
  ext2_ino_t n;
  int r = new_inode(b, dir, ino->mode, &n, name, err);
  if (r < 0)
    return r;
  errcode_t e = link_entry(b->fs, dir, name, n, file_type(ino->mode));
  if (e)
    return fail(b, e, "linking", name, err);
  ext2fs_inode_alloc_stats2(b->fs, n, +1, 0);
  struct ext2_inode inode;
  memset(&inode, 0, sizeof(inode));
  fill_attrs(&inode, ino);
  inode.i_links_count = 1;
  if (S_ISREG(ino->mode)) {
    e = ext2fs_inode_size_set(b->fs, &inode, ino->size);
    if (e == 0) {
      ext2_extent_handle_t h;
      e = ext2fs_extent_open2(b->fs, n, &inode, &h); /* sets up the extent header */
      if (e == 0)
        ext2fs_extent_free(h);
    }
  } else if (S_ISCHR(ino->mode) || S_ISBLK(ino->mode)) {
    unsigned ma = major(ino->rdev), mi = minor(ino->rdev);
    if (ma < 256 && mi < 256) {
      inode.i_block[0] = ma * 256 + mi;
    } else {
      inode.i_block[1] = (mi & 0xff) | (ma << 8) | ((mi & ~0xffu) << 12);
    }
  }
  if (e == 0)
    e = ext2fs_write_new_inode(b->fs, n, &inode);
  if (e == 0 && S_ISREG(ino->mode) && ino->size > 0)
    e = ext2fs_fallocate(b->fs, EXT2_FALLOCATE_FORCE_INIT, n, NULL, ~0ULL, 0,
                         div_up(ino->size, BLOCK_SIZE));
  if (e)
    return fail(b, e, "writing", name, err);
  if (S_ISREG(ino->mode) && ino->size > 0 && (r = write_data(b, n, ino, name, err)) < 0)
    return r;
  *out = n;
  return 0;
}

static int write_dentry(struct build *b, ext2_ino_t dir, struct lt_dentry *d,
                        struct stack_error **err);

static int write_children(struct build *b, ext2_ino_t n, struct lt_dentry *d,
                          struct stack_error **err) {
  for (struct lt_dentry *c = d->first_child; c; c = c->next) {
    int r = write_dentry(b, n, c, err);
    if (r < 0)
      return r;
  }
  return 0;
}

static int write_dentry(struct build *b, ext2_ino_t dir, struct lt_dentry *d,
                        struct stack_error **err) {
  struct lt_inode *ino = d->inode;
  const char *name = d->name;
  errcode_t e;
  int r;
  if (ino->out_ino) { /* another name of a file already written */
    e = link_entry(b->fs, dir, name, ino->out_ino, file_type(ino->mode));
    struct ext2_inode inode;
    if (e == 0)
      e = ext2fs_read_inode(b->fs, ino->out_ino, &inode);
    if (e == 0) {
      inode.i_links_count++;
      e = ext2fs_write_inode(b->fs, ino->out_ino, &inode);
    }
    return e ? fail(b, e, "hard-linking", name, err) : 0;
  }
  ext2_ino_t n = 0;
  if (S_ISDIR(ino->mode)) {
    if ((r = new_inode(b, dir, ino->mode, &n, name, err)) < 0)
      return r;
    e = ext2fs_mkdir(b->fs, dir, n, name);
    if (e == EXT2_ET_DIR_NO_SPACE && (e = ext2fs_expand_dir(b->fs, dir)) == 0)
      e = ext2fs_mkdir(b->fs, dir, n, name);
    if (e)
      return fail(b, e, "creating directory", name, err);
    if ((r = set_attrs(b, n, ino, name, err)) < 0)
      return r;
  } else if (S_ISLNK(ino->mode)) {
    if ((r = new_inode(b, dir, ino->mode, &n, name, err)) < 0)
      return r;
    e = ext2fs_symlink(b->fs, dir, n, name, ino->symlink);
    if (e == EXT2_ET_DIR_NO_SPACE && (e = ext2fs_expand_dir(b->fs, dir)) == 0)
      e = ext2fs_symlink(b->fs, dir, n, name, ino->symlink);
    if (e)
      return fail(b, e, "creating symlink", name, err);
    if ((r = set_attrs(b, n, ino, name, err)) < 0)
      return r;
  } else {
    if ((r = write_plain(b, dir, name, ino, &n, err)) < 0)
      return r;
  }
  ino->out_ino = n;
  if ((r = set_xattrs(b, n, ino, name, err)) < 0)
    return r;
  return S_ISDIR(ino->mode) ? write_children(b, n, d, err) : 0;
}

static void reset_out_ino(struct lt_dentry *d) {
  d->inode->out_ino = 0;
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
  if (e == 0)
    e = ext2fs_mkdir(fs, EXT2_ROOT_INO, EXT2_ROOT_INO, 0);
  if (e)
    return fail(b, e, "creating", "/", err);
  for (ext2_ino_t i = EXT2_ROOT_INO + 1; i < EXT2_FIRST_INODE(fs->super); i++)
    ext2fs_inode_alloc_stats2(fs, i, +1, 0);
  ext2fs_mark_inode_bitmap2(fs->inode_map, EXT2_BAD_INO);
  ext2fs_inode_alloc_stats2(fs, EXT2_BAD_INO, +1, 0);
  if ((e = ext2fs_update_bb_inode(fs, NULL)) != 0)
    return fail(b, e, "creating", "bad blocks inode", err);
  return set_attrs(b, EXT2_ROOT_INO, t->root->inode, "/", err);
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
    r = write_children(&b, EXT2_ROOT_INO, t->root, err);
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
