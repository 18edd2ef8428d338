#include "runtime/vm/qemu.h"

#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "guest/proto.h"
#include "runtime/util/cleanup.h"
#include "runtime/util/error.h"
#include "runtime/util/sbuf.h"
#include "runtime/util/xalloc.h"

char *qemu_kernel_cmdline(const struct vm_host *host, const char *extra) {
  struct sbuf b = SBUF_INIT;
  /* reboot=t: a triple fault is the fastest way out, and with -no-reboot QEMU
   * then exits.  panic=-1: a panicking guest reboots (exits) at once.  The
   * timer parameters skip calibrations that cost ~0.3 s under TCG. */
  sbuf_printf(&b,
              "console=ttyS0 quiet reboot=t panic=-1 lapic_timer_period=%u no_timer_check "
              "noreplace-smp tsc=reliable",
              QEMU_LAPIC_TIMER_PERIOD);
  if (host->tsc_khz) {
    /* Without tsc_early_khz guests booted in parallel hang at clock
     * calibration; lpj spares each secondary CPU its delay-loop calibration
     * (~0.1 s under TCG). */
    sbuf_printf(&b, " tsc_early_khz=%lu lpj=%lu", host->tsc_khz,
                host->tsc_khz * 1000UL / QEMU_GUEST_HZ);
  }
  if (extra && *extra)
    sbuf_printf(&b, " %s", extra);
  return sbuf_steal(&b);
}

/* A path as a QemuOpts value: commas doubled.  Control characters are
 * refused, since nothing legitimate has them. */
static int opt_path(const char *what, const char *path, char **out, struct stack_error **err) {
  if (!path || !*path)
    return stack_error_set(err, -EINVAL, "%s: empty path", what);
  struct sbuf b = SBUF_INIT;
  for (const char *p = path; *p; p++) {
    if ((unsigned char)*p < 0x20) {
      sbuf_free(&b);
      return stack_error_set(err, -EINVAL, "%s: control character in path %s", what, path);
    }
    if (*p == ',')
      sbuf_putc(&b, ',');
    sbuf_putc(&b, *p);
  }
  *out = sbuf_steal(&b);
  return 0;
}

/* A tap name: what Linux accepts for an interface name (IFNAMSIZ - 1). */
static bool valid_ifname(const char *s) {
  size_t n = s ? strlen(s) : 0;
  if (n == 0 || n > 15)
    return false;
  for (const char *p = s; *p; p++)
    if (!isalnum((unsigned char)*p) && *p != '-' && *p != '_' && *p != '.')
      return false;
  return true;
}

/* A unicast MAC "xx:xx:xx:xx:xx:xx". */
static bool valid_mac(const char *s) {
  if (!s || strlen(s) != 17)
    return false;
  for (int i = 0; i < 17; i++) {
    if (i % 3 == 2 ? s[i] != ':' : !isxdigit((unsigned char)s[i]))
      return false;
  }
  unsigned first = (unsigned)strtoul(s, NULL, 16);
  return (first & 1) == 0;
}

struct argv_builder {
  char **v;
  size_t n, cap;
};

static void add(struct argv_builder *a, char *owned) {
  a->v = xgrow(a->v, &a->cap, a->n + 2, sizeof(char *));
  a->v[a->n++] = owned;
  a->v[a->n] = NULL;
}

static void add2(struct argv_builder *a, const char *opt, char *owned_value) {
  add(a, xstrdup(opt));
  add(a, owned_value);
}

static int add_drive(struct argv_builder *a, const char *id, const char *path, bool readonly,
                     struct stack_error **err) {
  _cleanup_free_ char *p = NULL;
  int r = opt_path(id, path, &p, err);
  if (r < 0)
    return r;
  /* Read-only images stay in the host page cache, shared by every VM of the
   * image; the writable disk keeps holes (discard, zero detection). */
  add2(a, "-drive",
       xasprintf("file=%s,if=none,id=%s,format=raw,%s", p, id,
                 readonly ? "readonly=on" : "discard=unmap,detect-zeroes=unmap"));
  /* The serial lets the guest tell the disks apart whatever the probe
   * order (/sys/block/vdX/serial). */
  add2(a, "-device", xasprintf("virtio-blk-device,drive=%s,serial=%s", id, id));
  return 0;
}

int qemu_build_argv(const struct vm_spec *spec, const struct vm_host *host, const char *kernel,
                    const char *console_path, char ***out, struct stack_error **err) {
  struct argv_builder a = {0};
  int r = 0;
  _cleanup_free_ char *p = NULL;
  bool kvm = host->accel == VM_ACCEL_KVM;
  /* microvm without ACPI has QEMU_VIRTIO_SLOTS virtio-mmio transports; a
   * device more finds none, and QEMU would only say "No 'virtio-bus' bus
   * found" */
  size_t fixed = (spec->root_disk != NULL) + (spec->data_disk != NULL) +
                 (spec->control_socket != NULL) + 1 /* balloon */;
  if (fixed + spec->n_nets + spec->n_shares > QEMU_VIRTIO_SLOTS)
    return stack_error_set(err, -E2BIG,
                           "%zu networks and %zu shared directories (volumes, bind mounts) are "
                           "too many for one micro-VM: at most %zu together (QEMU's microvm "
                           "machine has %d device slots, %zu of them for the disks, the control "
                           "port and the balloon); single files bind-mounted share one slot "
                           "(two with read-only ones)",
                           spec->n_nets, spec->n_shares, QEMU_VIRTIO_SLOTS - fixed,
                           QEMU_VIRTIO_SLOTS, fixed);

  add(&a, xstrdup(spec->qemu && *spec->qemu ? spec->qemu : "qemu-system-x86_64"));
  if (spec->name && *spec->name) {
    if ((r = opt_path("name", spec->name, &p, err)) < 0)
      goto fail;
    add2(&a, "-name", xasprintf("guest=%s", p));
    free(steal_pointer(&p));
  }
  /* pit=off only because the command line presets lapic_timer_period and the
   * CPU has ARAT (design.md, "Fast boot"). */
  uint64_t mem_mib = spec->mem_mib ? spec->mem_mib : VM_DEFAULT_MEM_MIB;
  bool ram_file = spec->ram != VM_RAM_ANON;
  if (ram_file) {
    /* a template's RAM as one file (template.h): the build writes it
     * (share=on); a clone maps it copy-on-write from a read-only open
     * (QEMU >= 8.2), so no clone can change it for the others */
    if ((r = opt_path("RAM file", spec->ram_file, &p, err)) < 0)
      goto fail;
    add2(&a, "-object",
         xasprintf("memory-backend-file,id=ram,size=%lluM,mem-path=%s,%s",
                   (unsigned long long)mem_mib, p,
                   spec->ram == VM_RAM_TEMPLATE_BUILD ? "share=on"
                                                      : "share=off,readonly=on,rom=off"));
    free(steal_pointer(&p));
  }
  const char *backend = ram_file ? ",memory-backend=ram" : "";
  if (kvm) {
    add2(&a, "-M", xasprintf("microvm,accel=kvm,acpi=off,pit=off%s", backend));
  } else {
    add2(&a, "-M", xasprintf("microvm,acpi=off,pit=off%s", backend));
    /* tb-size bounds the translation cache, which otherwise grows to 1 GiB
     * with the code a guest runs */
    add2(&a, "-accel",
         xasprintf("tcg,thread=%s,tb-size=%u",
                   vm_tcg_single(host, spec->cpus, spec->crowded) ? "single" : "multi",
                   vm_tcg_cache_mib(host, spec->tcg_cache_mib)));
  }
  add2(&a, "-cpu", xstrdup(kvm ? "host" : "qemu64,+arat"));
  add2(&a, "-m", xasprintf("%lluM", (unsigned long long)mem_mib));
  add2(&a, "-smp", xasprintf("%u", spec->cpus ? spec->cpus : vm_default_cpus()));
  add(&a, xstrdup("-nodefaults"));
  add(&a, xstrdup("-no-user-config"));
  add(&a, xstrdup("-no-reboot"));
  add2(&a, "-display", xstrdup("none"));
  add2(&a, "-sandbox",
       xstrdup("on,obsolete=deny,elevateprivileges=deny,spawn=deny,resourcecontrol=deny"));

  add2(&a, "-kernel", xstrdup(kernel));
  if (spec->initrd && *spec->initrd)
    add2(&a, "-initrd", xstrdup(spec->initrd));
  {
    _cleanup_free_ char *extra = NULL;
    if (ram_file)
      extra = xasprintf("%s%s%s", PROTO_CMDLINE_SHARED_RAM,
                        spec->cmdline_extra && *spec->cmdline_extra ? " " : "",
                        spec->cmdline_extra ? spec->cmdline_extra : "");
    add2(&a, "-append", qemu_kernel_cmdline(host, extra ? extra : spec->cmdline_extra));
  }

  if ((r = opt_path("console log", console_path, &p, err)) < 0)
    goto fail;
  add2(&a, "-chardev", xasprintf("file,id=console,path=%s", p));
  free(steal_pointer(&p));
  add2(&a, "-serial", xstrdup("chardev:console"));

  add2(&a, "-chardev", xasprintf("socket,id=qmp,fd=%d,server=on,wait=off", QEMU_FD_QMP));
  add2(&a, "-mon", xstrdup("chardev=qmp,mode=control"));

  if (spec->root_disk && (r = add_drive(&a, "root", spec->root_disk, true, err)) < 0)
    goto fail;
  if (spec->data_disk && (r = add_drive(&a, "data", spec->data_disk, false, err)) < 0)
    goto fail;

  for (size_t i = 0; i < spec->n_nets; i++) {
    const struct vm_net *n = &spec->nets[i];
    if (!valid_ifname(n->tap)) {
      r = stack_error_set(err, -EINVAL, "network %zu: invalid tap name \"%s\"", i,
                          n->tap ? n->tap : "");
      goto fail;
    }
    if (n->mac && !valid_mac(n->mac)) {
      r = stack_error_set(err, -EINVAL,
                          "network %zu: invalid MAC \"%s\" (want a unicast xx:xx:xx:xx:xx:xx)", i,
                          n->mac);
      goto fail;
    }
    add2(&a, "-netdev", xasprintf("tap,id=net%zu,fd=%d,vhost=off", i, QEMU_FD_TAP0 + (int)i));
    if (n->mac)
      add2(&a, "-device", xasprintf("virtio-net-device,netdev=net%zu,mac=%s", i, n->mac));
    else
      add2(&a, "-device", xasprintf("virtio-net-device,netdev=net%zu", i));
  }

  for (size_t i = 0; i < spec->n_shares; i++) {
    const struct vm_share *sh = &spec->shares[i];
    size_t tl = sh->tag ? strlen(sh->tag) : 0;
    if (tl == 0 || tl > 31 || strspn(sh->tag, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ"
                                              "0123456789_-") != tl) {
      r = stack_error_set(err, -EINVAL, "share %zu: invalid mount tag \"%s\"", i,
                          sh->tag ? sh->tag : "");
      goto fail;
    }
    if ((r = opt_path("shared directory", sh->path, &p, err)) < 0)
      goto fail;
    /* passthrough: files get the guest's owners and modes on the host, as
     * with a Docker bind mount; mapped: they stay in xattrs (or metadata
     * files), the host files are QEMU's own */
    static const char *const models[] = {
        [VM_SHARE_PASSTHROUGH] = "passthrough",
        [VM_SHARE_MAPPED] = "mapped-xattr",
        [VM_SHARE_MAPPED_FILE] = "mapped-file",
    };
    if ((unsigned)sh->model > VM_SHARE_MAPPED_FILE) {
      r = stack_error_set(err, -EINVAL, "share %zu: unknown security model %d", i, sh->model);
      goto fail;
    }
    add2(&a, "-fsdev",
         xasprintf("local,id=fs%zu,path=%s,security_model=%s%s", i, p, models[sh->model],
                   sh->readonly ? ",readonly=on" : ""));
    free(steal_pointer(&p));
    add2(&a, "-device", xasprintf("virtio-9p-device,fsdev=fs%zu,mount_tag=%s", i, sh->tag));
  }

  if (spec->control_socket) {
    add2(&a, "-device", xstrdup("virtio-serial-device,max_ports=2"));
    add2(&a, "-chardev", xasprintf("socket,id=ctl,fd=%d,server=on,wait=off", QEMU_FD_CONTROL));
    add2(&a, "-device", xasprintf("virtserialport,chardev=ctl,name=%s", PROTO_PORT_NAME));
  }
  /* Free page reporting hands memory the guest frees back to the host.
   * No virtio-rng: its slot is worth more to a volume, and the guest's
   * CRNG gets a credited seed from the host at CONFIGURE. */
  add2(&a, "-device", xstrdup("virtio-balloon-device,free-page-reporting=on"));
  /* The state is loaded over QMP once capabilities are set and the control
   * socket is connected: the guest then never sees its host missing. */
  if (spec->incoming)
    add2(&a, "-incoming", xstrdup("defer"));

  *out = a.v;
  return 0;
fail:
  strv_free(a.v);
  return r;
}

int qemu_version(const char *qemu, char **out, struct stack_error **err) {
  const char *bin = qemu && *qemu ? qemu : "qemu-system-x86_64";
  int fds[2];
  if (pipe2(fds, O_CLOEXEC) < 0)
    return stack_error_errno(err, -errno, "pipe");
  pid_t pid = fork();
  if (pid < 0) {
    int e = -errno;
    close(fds[0]);
    close(fds[1]);
    return stack_error_errno(err, e, "fork");
  }
  if (pid == 0) {
    dup2(fds[1], 1);
    execlp(bin, bin, "--version", (char *)NULL);
    _exit(127);
  }
  close(fds[1]);
  char buf[512];
  size_t len = 0;
  ssize_t n;
  while (len < sizeof(buf) - 1 && (n = read(fds[0], buf + len, sizeof(buf) - 1 - len)) != 0) {
    if (n < 0 && errno == EINTR)
      continue;
    if (n < 0)
      break;
    len += (size_t)n;
  }
  close(fds[0]);
  int status = 0;
  while (waitpid(pid, &status, 0) < 0 && errno == EINTR)
    ;
  buf[len] = '\0';
  if (!WIFEXITED(status) || WEXITSTATUS(status) != 0 || len == 0)
    return stack_error_set(err, -ENOENT, "cannot run %s --version: install qemu-system-x86", bin);
  buf[strcspn(buf, "\n")] = '\0';
  *out = xstrdup(buf);
  return 0;
}
