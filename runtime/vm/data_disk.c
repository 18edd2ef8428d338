/* The per-container writable disk: a sparse file with an empty ext4 made
 * in-process with libext2fs (no mkfs subprocess on the hot path), so the
 * guest only mounts it. */
#include <errno.h>
#include <ext2fs/ext2fs.h>
#include <fcntl.h>
#include <string.h>
#include <sys/random.h>
#include <unistd.h>

#include "runtime/util/cleanup.h"
#include "runtime/util/error.h"
#include "runtime/vm/vm.h"

#define DATA_DISK_MIN (64ULL << 20)

static int fs_fail(struct stack_error **err, errcode_t e, const char *path, const char *step) {
  return stack_error_set(err, -EIO, "%s: cannot make an ext4 filesystem (%s): %s", path, step,
                         error_message(e));
}

static int make_ext4(const char *path, uint64_t size_bytes, struct stack_error **err) {
  struct ext2_super_block param;
  memset(&param, 0, sizeof(param));
  param.s_log_block_size = 2; /* 4 KiB blocks */
  param.s_rev_level = EXT2_DYNAMIC_REV;
  param.s_inode_size = 256;
  param.s_log_groups_per_flex = 4;
  ext2fs_blocks_count_set(&param, size_bytes / 4096);
  /* What mke2fs -t ext4 sets, without metadata_csum (not needed for a
   * scratch disk, and it keeps this code short). */
  ext2fs_set_feature_sparse_super(&param);
  ext2fs_set_feature_large_file(&param);
  ext2fs_set_feature_huge_file(&param);
  ext2fs_set_feature_dir_nlink(&param);
  ext2fs_set_feature_extra_isize(&param);
  ext2fs_set_feature_gdt_csum(&param);
  ext2fs_set_feature_filetype(&param);
  ext2fs_set_feature_extents(&param);
  ext2fs_set_feature_flex_bg(&param);
  ext2fs_set_feature_dir_index(&param);
  ext2fs_set_feature_64bit(&param);
  ext2fs_set_feature_journal(&param);
  param.s_min_extra_isize = param.s_want_extra_isize = 32;

  ext2_filsys fs = NULL;
  errcode_t e = ext2fs_initialize(path, EXT2_FLAG_64BITS, &param, unix_io_manager, &fs);
  if (e)
    return fs_fail(err, e, path, "initialize");
  int r = 0;
  if (getrandom(fs->super->s_uuid, sizeof(fs->super->s_uuid), 0) < 0 ||
      getrandom(fs->super->s_hash_seed, sizeof(fs->super->s_hash_seed), 0) < 0) {
    r = stack_error_errno(err, -errno, "%s: getrandom", path);
    goto out;
  }
  fs->super->s_def_hash_version = EXT2_HASH_HALF_MD4;
  fs->super->s_max_mnt_count = -1;
  fs->super->s_kbytes_written = 1;
  ext2fs_init_csum_seed(fs);
  if ((e = ext2fs_allocate_tables(fs))) {
    r = fs_fail(err, e, path, "allocate tables");
    goto out;
  }
  if ((e = ext2fs_convert_subcluster_bitmap(fs, &fs->block_map))) {
    r = fs_fail(err, e, path, "bitmaps");
    goto out;
  }
  /* The file was just created sparse, so its inode tables already read as
   * zeros: say so, and the guest kernel will not start a thread that writes
   * them (and fills the sparse file). */
  for (dgrp_t g = 0; g < fs->group_desc_count; g++)
    ext2fs_bg_flags_set(fs, g, EXT2_BG_INODE_ZEROED);

  if ((e = ext2fs_mkdir(fs, EXT2_ROOT_INO, EXT2_ROOT_INO, 0))) {
    r = fs_fail(err, e, path, "root directory");
    goto out;
  }
  if ((e = ext2fs_mkdir(fs, EXT2_ROOT_INO, 0, "lost+found"))) {
    r = fs_fail(err, e, path, "lost+found");
    goto out;
  }
  /* Reserved inodes (bad blocks, journal, ...) are marked in use. */
  for (ext2_ino_t i = EXT2_ROOT_INO + 1; i < EXT2_FIRST_INODE(fs->super); i++)
    ext2fs_inode_alloc_stats2(fs, i, +1, 0);
  ext2fs_mark_inode_bitmap2(fs->inode_map, EXT2_BAD_INO);
  ext2fs_inode_alloc_stats2(fs, EXT2_BAD_INO, +1, 0);
  if ((e = ext2fs_update_bb_inode(fs, NULL))) {
    r = fs_fail(err, e, path, "bad blocks inode");
    goto out;
  }

  struct ext2fs_journal_params jparams;
  if ((e = ext2fs_get_journal_params(&jparams, fs))) {
    r = fs_fail(err, e, path, "journal size");
    goto out;
  }
  /* LAZYINIT: the journal blocks of a fresh sparse file are zeros already. */
  if ((e = ext2fs_add_journal_inode3(fs, &jparams, ~0ULL,
                                     EXT2_MKJOURNAL_LAZYINIT | EXT2_MKJOURNAL_NO_MNT_CHECK))) {
    r = fs_fail(err, e, path, "journal");
    goto out;
  }
  fs->super->s_state |= EXT2_VALID_FS;
  /* The INODE_ZEROED flags above changed the descriptors after their
   * checksums were computed: the kernel refuses a mismatch. */
  for (dgrp_t g = 0; g < fs->group_desc_count; g++)
    ext2fs_group_desc_csum_set(fs, g);
  /* No fsync (3 of them, 2-10 ms on the path to the VM's start): the
   * guest's first flush (its mount commits the superblock) makes QEMU
   * fdatasync the whole file, and a disk that a host crash caught before
   * that belongs to a container that never ran. */
  e = ext2fs_close2(fs, EXT2_FLAG_FLUSH_NO_SYNC);
  if (e)
    r = fs_fail(err, e, path, "write");
  else
    fs = NULL; /* freed by ext2fs_close2() */
out:
  if (fs)
    ext2fs_free(fs);
  return r;
}

int vm_create_data_disk(const char *path, uint64_t size_bytes, struct stack_error **err) {
  if (size_bytes < DATA_DISK_MIN)
    return stack_error_set(err, -EINVAL, "%s: a writable disk needs at least 64 MiB", path);
  size_bytes &= ~4095ULL;
  _cleanup_close_ int fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
  if (fd < 0)
    return stack_error_errno(err, -errno, "cannot create the writable disk %s", path);
  if (ftruncate(fd, (off_t)size_bytes) < 0) {
    int e = -errno;
    unlink(path);
    return stack_error_errno(err, e, "cannot size the writable disk %s", path);
  }
  int r = make_ext4(path, size_bytes, err);
  if (r < 0)
    unlink(path);
  return r;
}
