/* A private scratch directory with a mount point for image tests, removed
 * (and unmounted) at exit and on SIGINT/SIGTERM, also when a test fails. */
#ifndef STACK_TEST_IMAGE_SCRATCH_H
#define STACK_TEST_IMAGE_SCRATCH_H

/* Creates the scratch directory (and <dir>/mnt); returns its path. */
const char *scratch_init(const char *name);
/* <scratch>/mnt */
const char *scratch_mnt(void);
/* Loop-mounts an ext4 image read-only on scratch_mnt(); 0 on success. */
int scratch_mount(const char *image);
void scratch_umount(void);
/* Runs a shell command; its exit status, or -1. */
int scratch_run(const char *cmd);

#endif
