/* What the QEMU on this host can do, found once and cached.
 *
 * QEMU's version decides how a template shares its RAM with its clones
 * (template.h): only QEMU 8.2 and later map a RAM file read-only and
 * copy-on-write (`memory-backend-file,readonly=on,rom=off`).  Asking QEMU
 * (`--version`) costs a fork and exec of a 10 MB binary, so the answer is
 * kept in <cache dir>/qemu/<hash of the binary's path, size, mtime and
 * inode>: a VM start reads a small file instead, and a new binary is asked
 * once.
 */
#ifndef STACK_VM_QEMU_PROBE_H
#define STACK_VM_QEMU_PROBE_H

struct stack_error;

/* major * 10000 + minor * 100 + micro */
#define QEMU_VERSION(a, b, c) ((a) * 10000u + (b) * 100u + (c))
/* readonly=on with rom=off on memory-backend-file */
#define QEMU_VERSION_SHARED_RAM QEMU_VERSION(8, 2, 0)

/* The version in `qemu --version`'s first line ("QEMU emulator version
 * 10.0.2 (Debian ...)"), or 0 when it says none. */
unsigned qemu_parse_version(const char *line);

/* The version of the QEMU binary at path (resolved, e.g. by fs_which()),
 * from the cache or by running it once; 0 when it cannot be told. */
unsigned qemu_probe_version(const char *path);

#endif
