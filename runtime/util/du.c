#include "du.h"

#include <dirent.h>
#include <fcntl.h>
#include <search.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

/* Deeper trees than this are not walked further (a guard, not a limit
 * anyone meets: each level holds a directory descriptor). */
#define DU_MAX_DEPTH 256

struct du_walk {
  uint64_t bytes;
  dev_t dev;  /* the tree's file system */
  void *seen; /* tsearch() tree of the (dev, ino) with several links */
  bool apparent; /* file sizes, as Docker counts a volume, not blocks */
};

struct du_ino {
  dev_t dev;
  ino_t ino;
};

static int ino_cmp(const void *a, const void *b) {
  const struct du_ino *x = a, *y = b;
  if (x->dev != y->dev)
    return x->dev < y->dev ? -1 : 1;
  return x->ino < y->ino ? -1 : x->ino > y->ino;
}

/* Whether a file with several links was counted already. */
static bool seen_before(struct du_walk *w, const struct stat *st) {
  struct du_ino *k = malloc(sizeof(*k));
  if (k == NULL)
    return false;
  *k = (struct du_ino){st->st_dev, st->st_ino};
  void *found = tsearch(k, &w->seen, ino_cmp);
  if (found != NULL && *(struct du_ino **)found == k)
    return false;
  free(k);
  return found != NULL;
}

static void walk_dir(struct du_walk *w, int dirfd, int depth) {
  DIR *d = fdopendir(dirfd);
  if (d == NULL) {
    close(dirfd);
    return;
  }
  struct dirent *de;
  while ((de = readdir(d)) != NULL) {
    if (strcmp(de->d_name, ".") == 0 || strcmp(de->d_name, "..") == 0)
      continue;
    struct stat st;
    if (fstatat(dirfd, de->d_name, &st, AT_SYMLINK_NOFOLLOW) < 0 || st.st_dev != w->dev)
      continue;
    if (S_ISDIR(st.st_mode)) {
      if (!w->apparent)
        w->bytes += (uint64_t)st.st_blocks * 512;
      int sub = depth < DU_MAX_DEPTH
                    ? openat(dirfd, de->d_name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC)
                    : -1;
      if (sub >= 0)
        walk_dir(w, sub, depth + 1);
    } else if (st.st_nlink <= 1 || !seen_before(w, &st)) {
      w->bytes += w->apparent ? (uint64_t)st.st_size : (uint64_t)st.st_blocks * 512;
    }
  }
  closedir(d);
}

static void free_node(void *p) { free(p); }

static uint64_t walk(const char *path, bool apparent) {
  struct du_walk w = {.apparent = apparent};
  struct stat st;
  if (lstat(path, &st) < 0)
    return 0;
  w.dev = st.st_dev;
  if (!apparent || !S_ISDIR(st.st_mode))
    w.bytes = apparent ? (uint64_t)st.st_size : (uint64_t)st.st_blocks * 512;
  if (S_ISDIR(st.st_mode)) {
    int fd = open(path, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
    if (fd >= 0)
      walk_dir(&w, fd, 1);
  }
  tdestroy(w.seen, free_node);
  return w.bytes;
}

uint64_t fs_disk_usage(const char *path) { return walk(path, false); }

uint64_t fs_content_size(const char *path) { return walk(path, true); }
