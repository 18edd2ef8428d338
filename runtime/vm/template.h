/* VM templates (design.md, "Fast boot" and "Templates").
 *
 * A template is a guest booted once to its init's HELLO (the guest does
 * nothing container-specific before CONFIGURE) and saved with QEMU's
 * migration: a VM restored from it answers in ~0.05 s instead of a ~0.3 s
 * cold boot, and without the cold boot's CPU (boots are CPU-bound under
 * TCG).
 *
 * One template per image and machine shape: kernel, initramfs, QEMU
 * binary, accelerator, kernel command line, memory, CPUs, number of network
 * devices, the image's root disk and the size of the writable disk; its key
 * hashes the QEMU command line built for that shape plus the identity
 * (size, mtime, inode) of the kernel, initramfs, QEMU and root disk files,
 * so a rebuilt kernel or an upgraded QEMU gets a new template.  Templates
 * live in <cache dir>/templates/<key>/ (a cache: deleting it is always
 * safe).  The template's guest is saved after PREPARE: with the image disk
 * and a fresh writable disk mounted as its root, which is most of what
 * configuring a container costs under TCG.
 *
 * What a clone inherits and what is fixed after the restore:
 *   - disks: the same image disk (read-only); its writable disk starts as a
 *     copy of the template's (sparse: a few MB), exactly as the template's
 *     guest left it;
 *   - network devices: the template's MACs (template_mac()); CONFIGURE's
 *     set_mac gives each device the container's own before it goes up;
 *     taps are the clone's own;
 *   - clock and RNG: CONFIGURE sets the wall clock and seeds the RNG.
 *
 * RAM (vm_host.shared_ram, accel.h): with QEMU 8.2 or later the
 * template's guest runs with its RAM in a file, ram.<the state file's
 * inode> beside the state (share=on), and is saved with x-ignore-shared:
 * the state holds the devices only (~40 KB).  A clone maps that file
 * copy-on-write from a read-only open (readonly=on,rom=off): it costs the
 * host only the pages it writes, and nothing it does reaches the file.
 * QEMU refuses to discard pages of a read-only file, so clones run with
 * free page reporting off (guest/init/memory.c) and keep what they once
 * used.  Naming the RAM file by the state's inode pairs the two: a clone
 * holds its state file open, so no rebuild can reuse that inode number
 * while the clone opens the RAM file.  With older QEMU (or
 * template_ram "private") the RAM is saved in the state file itself:
 * QEMU 7.2 punches holes into a file-backed RAM block's file when a
 * clone's balloon reports free pages, even for a private mapping, which
 * would corrupt every other clone; with private RAM free page reporting
 * returns memory as it does for a cold VM.
 */
#ifndef STACK_VM_TEMPLATE_H
#define STACK_VM_TEMPLATE_H

#include <stddef.h>
#include <uv.h>

#include "runtime/vm/vm.h"

struct stack_error;
struct template_cache;
struct template_wait;

/* The MAC address of a template's i-th network device ("52:54:00:..."). */
void template_mac(size_t i, char out[18]);

/* In-flight builds of one process (the supervisor, `stack run`), so that
 * containers starting together wait for one build instead of each making
 * its own. */
struct template_cache *template_cache_new(uv_loop_t *loop);
/* Stops builds in progress (their VMs are killed); waiters are not called. */
void template_cache_free(struct template_cache *tc);

/* The RAM file of the template whose state file (at state_path) has inode
 * state_ino (newly allocated). */
char *template_ram_path(const char *state_path, unsigned long long state_ino);

/* The template's data disk next to its state file (newly allocated): a
 * clone's writable disk starts as a copy of it (fs_copy_sparse()). */
char *template_data_disk(const char *state_path);

/* Called once: state_path is the template's state file, or NULL when there
 * is none to use (the build failed: error says why); then boot cold. */
typedef void (*template_cb)(void *data, const char *state_path, const char *error);

/* Finds the template for spec's shape, its image (spec->root_disk) and a
 * data disk of data_bytes.  Returns 1 with *state_path (newly
 * allocated) when it exists; 0 when it is being built, then cb follows
 * unless template_wait_cancel(*wait) is called first; -EBUSY when another
 * process is building it (boot cold rather than wait on a stranger). */
int template_get(struct template_cache *tc, const struct vm_spec *spec, uint64_t data_bytes,
                 template_cb cb, void *data, char **state_path, struct template_wait **wait,
                 struct stack_error **err);

/* Drops a wait (cb will not be called); the build goes on for others. */
void template_wait_cancel(struct template_wait *w);

/* How many templates the cache holds and the host disk they use (bytes
 * allocated), for `stack system info`. */
void template_stats(size_t *count, unsigned long long *bytes);

/* Removes every template no process is building (`system prune`: they are
 * a cache; a VM restored from one has its own copy of what it needs).  The
 * keys removed in *keys (NULL-terminated, may be NULL; caller frees with
 * strv_free()) and the disk they used added to *freed. */
void template_prune(char ***keys, uint64_t *freed);

/* Whether templates are used: not when $STACK_TEMPLATES is "0" or "off"
 * (every VM then boots cold). */
int template_enabled(void);

#endif
