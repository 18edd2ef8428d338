/* A busybox image for container tests: a tree with the static busybox
 * and a few applets, imported into a data root. */
#ifndef STACK_TEST_HELPER_BUSYBOX_H
#define STACK_TEST_HELPER_BUSYBOX_H

/* Writes root/bin/busybox (from /bin/busybox), links for the applets the
 * tests use, and root/etc/passwd; 0 or -1. */
int busybox_tree(const char *root);

#endif
