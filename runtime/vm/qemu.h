/* The QEMU command line: the fast-boot recipe of design.md ("Fast boot"),
 * as an argv for uv_spawn().
 *
 *   -M microvm,accel=A,acpi=off,pit=off,... -cpu qemu64,+arat (TCG) or host (KVM)
 *   -nodefaults -no-user-config -no-reboot -display none
 *   -kernel vmlinux [-initrd cpio] -append "<qemu_kernel_cmdline()>"
 *   virtio-blk (root read-only, data writable), virtio-net per tap,
 *   virtio-serial with the control port, virtio-balloon with free page
 *   reporting, serial console to a file, QMP, -sandbox on.
 *
 * pit=off is safe only because the kernel command line presets
 * lapic_timer_period (our kernel patch) and the CPU has ARAT; without both
 * the guest panics with no timer.
 */
#ifndef STACK_VM_QEMU_H
#define STACK_VM_QEMU_H

#include "runtime/vm/accel.h"
#include "runtime/vm/vm.h"

struct stack_error;

/* The guest kernel's HZ (guest/kernel/stack.config CONFIG_HZ_250): QEMU's
 * local APIC timer counts at 1 GHz, so one jiffy is 1e9 / HZ counts. */
#define QEMU_GUEST_HZ 250
#define QEMU_LAPIC_TIMER_PERIOD (1000000000u / QEMU_GUEST_HZ)

/* Inherited fds the argv refers to (uv_spawn() stdio slots). */
#define QEMU_FD_QMP 3
#define QEMU_FD_CONTROL 4
/* A template's state file, read by `migrate-incoming fd:5` (vm.h). */
#define QEMU_FD_INCOMING 5
/* The tap of network i is fd QEMU_FD_TAP0 + i (QEMU does not open
 * /dev/net/tun itself: it has no right to). */
#define QEMU_FD_TAP0 6

/* The kernel command line for host (extra may be NULL).  Newly allocated. */
char *qemu_kernel_cmdline(const struct vm_host *host, const char *extra);

/* virtio-mmio transports of QEMU's microvm machine without ACPI: disks,
 * networks, shared directories, the control port and the balloon. */
#define QEMU_VIRTIO_SLOTS 8

/* Builds the argv (NULL-terminated, strv) for spec with the resolved kernel
 * and console log path.  The QMP listening socket is fd QEMU_FD_QMP, the
 * control one QEMU_FD_CONTROL (only if spec->control_socket), the taps
 * QEMU_FD_TAP0 and up.  Rejects
 * values that would inject QEMU options (a ',' in a path, a bad MAC, ...). */
int qemu_build_argv(const struct vm_spec *spec, const struct vm_host *host, const char *kernel,
                    const char *console_path, char ***out, struct stack_error **err);

/* Runs `qemu --version` and returns its first line (for `stack system
 * info`, not the hot path). */
int qemu_version(const char *qemu, char **out, struct stack_error **err);

#endif
