#include "helper_scratch.h"

#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/wait.h>

#include "runtime/util/fsutil.h"

static char dir[256];
static char mnt[300];
static int mounted;

static void cleanup(void) {
  scratch_umount();
  if (dir[0])
    fs_rm_rf(dir, NULL);
}

static void on_signal(int sig) {
  cleanup();
  signal(sig, SIG_DFL);
  raise(sig);
}

const char *scratch_init(const char *name) {
  snprintf(dir, sizeof(dir), "/tmp/stack-test-%s-XXXXXX", name);
  if (mkdtemp(dir) == NULL) {
    perror("mkdtemp");
    exit(1);
  }
  snprintf(mnt, sizeof(mnt), "%s/mnt", dir);
  mkdir(mnt, 0755);
  atexit(cleanup);
  signal(SIGINT, on_signal);
  signal(SIGTERM, on_signal);
  return dir;
}

const char *scratch_mnt(void) { return mnt; }

int scratch_run(const char *cmd) {
  int st = system(cmd);
  return WIFEXITED(st) ? WEXITSTATUS(st) : -1;
}

int scratch_mount(const char *image) {
  char cmd[1024];
  snprintf(cmd, sizeof(cmd), "mount -t ext4 -o ro,loop '%s' '%s'", image, mnt);
  if (scratch_run(cmd) != 0)
    return -1;
  mounted = 1;
  return 0;
}

void scratch_umount(void) {
  if (mounted)
    umount2(mnt, MNT_DETACH);
  mounted = 0;
}
