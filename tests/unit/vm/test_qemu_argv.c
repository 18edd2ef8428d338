/* The QEMU command line for a spec: the fast-boot recipe, devices, and
 * refusal of values that would inject options. */
#include <errno.h>
#include <string.h>

#include "runtime/util/cleanup.h"
#include "runtime/util/error.h"
#include "runtime/util/sbuf.h"
#include "runtime/vm/qemu.h"
#include "runtime/vm/qemu_probe.h"
#include "test.h"

/* The argv joined with '|' for easy matching. */
static char *joined(char **argv) {
  struct sbuf b = SBUF_INIT;
  for (char **p = argv; *p; p++) {
    sbuf_puts(&b, *p);
    sbuf_putc(&b, '|');
  }
  return sbuf_steal(&b);
}

static const struct vm_host tcg = {.accel = VM_ACCEL_TCG, .tsc_khz = 2596096};
static const struct vm_host kvm = {.accel = VM_ACCEL_KVM, .tsc_khz = 0};

static void test_cmdline(void) {
  _cleanup_free_ char *c = qemu_kernel_cmdline(&tcg, "tinyinit=hang");
  CHECK_STREQ(c, "console=ttyS0 quiet reboot=t panic=-1 lapic_timer_period=4000000 "
                 "no_timer_check noreplace-smp tsc=reliable tsc_early_khz=2596096 "
                 "lpj=10384384 tinyinit=hang");
  _cleanup_free_ char *k = qemu_kernel_cmdline(&kvm, NULL);
  CHECK(strstr(k, "tsc_early_khz") == NULL);
  CHECK(strstr(k, "lapic_timer_period=4000000") != NULL);
}

static void test_full(void) {
  struct vm_net nets[] = {{.tap = "stk0a1", .mac = "52:54:00:12:34:56"}, {.tap = "stk0b1"}};
  struct vm_spec spec = {.name = "web-1", .state_dir = "/s", .initrd = "/i/initrd.cpio",
                         .root_disk = "/img/root,1.ext4", .data_disk = "/c/data.img",
                         .mem_mib = 512, .cpus = 2, .nets = nets, .n_nets = 2,
                         .control_socket = "/run/ctl.sock"};
  _cleanup_strv_ char **argv = NULL;
  _cleanup_error_ struct stack_error *err = NULL;
  CHECK(qemu_build_argv(&spec, &tcg, "/k/vmlinux", "/s/console.log", &argv, &err) == 0);
  _cleanup_free_ char *j = joined(argv);
  CHECK_STREQ(argv[0], "qemu-system-x86_64");
  /* cpus given explicitly: a thread per vCPU; the translation cache is
   * bounded (the host's default) */
  CHECK(strstr(j, "|-M|microvm,acpi=off,pit=off|-accel|tcg,thread=multi,tb-size=64|") != NULL);
  CHECK(strstr(j, "memory-backend") == NULL);
  CHECK(strstr(j, "stack.ram=shared") == NULL);
  CHECK(strstr(j, "|-cpu|qemu64,+arat|") != NULL);
  CHECK(strstr(j, "|-m|512M|-smp|2|") != NULL);
  CHECK(strstr(j, "|-nodefaults|-no-user-config|-no-reboot|-display|none|") != NULL);
  CHECK(strstr(j, "|-sandbox|on,obsolete=deny,elevateprivileges=deny,spawn=deny,"
                  "resourcecontrol=deny|") != NULL);
  CHECK(strstr(j, "|-kernel|/k/vmlinux|-initrd|/i/initrd.cpio|-append|console=ttyS0 ") != NULL);
  CHECK(strstr(j, "|-chardev|file,id=console,path=/s/console.log|-serial|chardev:console|") !=
        NULL);
  CHECK(strstr(j, "|-chardev|socket,id=qmp,fd=3,server=on,wait=off|-mon|"
                  "chardev=qmp,mode=control|") != NULL);
  /* A comma in a path is doubled, not taken as an option separator. */
  CHECK(strstr(j, "|-drive|file=/img/root,,1.ext4,if=none,id=root,format=raw,readonly=on|"
                  "-device|virtio-blk-device,drive=root,serial=root|") != NULL);
  CHECK(strstr(j, "|-drive|file=/c/data.img,if=none,id=data,format=raw,discard=unmap,"
                  "detect-zeroes=unmap|-device|virtio-blk-device,drive=data,serial=data|") != NULL);
  /* taps arrive as fds: QEMU has no right to open /dev/net/tun */
  CHECK(strstr(j, "|-netdev|tap,id=net0,fd=6,vhost=off|-device|"
                  "virtio-net-device,netdev=net0,mac=52:54:00:12:34:56|") != NULL);
  CHECK(strstr(j, "|-netdev|tap,id=net1,fd=7,vhost=off|") != NULL);
  CHECK(strstr(j, "|-device|virtio-net-device,netdev=net1|") != NULL);
  CHECK(strstr(j, "|-device|virtio-serial-device,max_ports=2|-chardev|socket,id=ctl,fd=4,"
                  "server=on,wait=off|-device|virtserialport,chardev=ctl,name=stack.ctl|") != NULL);
  CHECK(strstr(j, "|-device|virtio-balloon-device,free-page-reporting=on|") != NULL);
  CHECK(strstr(j, "virtio-rng") == NULL); /* its slot goes to volumes */
  CHECK(strstr(j, "|-name|guest=web-1|") != NULL);
}

static void test_minimal_kvm(void) {
  struct vm_spec spec = {.state_dir = "/s", .qemu = "/opt/qemu"};
  _cleanup_strv_ char **argv = NULL;
  CHECK(qemu_build_argv(&spec, &kvm, "/k", "/s/c.log", &argv, NULL) == 0);
  _cleanup_free_ char *j = joined(argv);
  CHECK_STREQ(argv[0], "/opt/qemu");
  CHECK(strstr(j, "|-M|microvm,accel=kvm,acpi=off,pit=off|-cpu|host|") != NULL);
  CHECK(strstr(j, "|-m|1024M|") != NULL);
  CHECK(strstr(j, "-initrd") == NULL);
  CHECK(strstr(j, "virtio-blk") == NULL);
  CHECK(strstr(j, "virtserialport") == NULL);
  CHECK(strstr(j, "-netdev") == NULL);
  CHECK(strstr(j, "-name") == NULL);
}

/* Under TCG, the default number of vCPUs gets a thread each when the VM is
 * alone and shares one host thread when crowded (auto); an explicit count
 * decides alone; the choice can be forced either way. */
static void test_tcg_thread(void) {
  struct vm_spec spec = {.state_dir = "/s"};
  struct vm_host h = tcg;
  const struct {
    enum vm_tcg_thread t;
    unsigned cpus;
    bool crowded;
    const char *want;
  } cases[] = {
      {VM_TCG_THREAD_AUTO, 0, false, "thread=multi"},
      {VM_TCG_THREAD_AUTO, 0, true, "thread=single"},
      {VM_TCG_THREAD_AUTO, 1, false, "thread=single"},
      {VM_TCG_THREAD_AUTO, 4, true, "thread=multi"},
      {VM_TCG_THREAD_SINGLE, 4, false, "thread=single"},
      {VM_TCG_THREAD_MULTI, 0, true, "thread=multi"},
  };
  for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
    h.tcg_thread = cases[i].t;
    spec.cpus = cases[i].cpus;
    spec.crowded = cases[i].crowded;
    _cleanup_strv_ char **argv = NULL;
    CHECK(qemu_build_argv(&spec, &h, "/k", "/s/c.log", &argv, NULL) == 0);
    _cleanup_free_ char *j = joined(argv);
    CHECK(strstr(j, cases[i].want) != NULL);
    CHECK(strstr(j, "accel=tcg") == NULL);
  }
  CHECK_STREQ(vm_tcg_thread_name(VM_TCG_THREAD_AUTO), "auto");
}

/* The translation cache: the VM's own size, else the host's, else the
 * default; none under KVM. */
static void test_tcg_cache(void) {
  struct vm_spec spec = {.state_dir = "/s", .tcg_cache_mib = 16};
  struct vm_host h = tcg;
  _cleanup_strv_ char **a = NULL, **b = NULL, **c = NULL;
  CHECK(qemu_build_argv(&spec, &h, "/k", "/s/c.log", &a, NULL) == 0);
  _cleanup_free_ char *ja = joined(a);
  CHECK(strstr(ja, ",tb-size=16|") != NULL);
  spec.tcg_cache_mib = 0;
  h.tcg_cache_mib = 128;
  CHECK(qemu_build_argv(&spec, &h, "/k", "/s/c.log", &b, NULL) == 0);
  _cleanup_free_ char *jb = joined(b);
  CHECK(strstr(jb, ",tb-size=128|") != NULL);
  CHECK(qemu_build_argv(&spec, &kvm, "/k", "/s/c.log", &c, NULL) == 0);
  _cleanup_free_ char *jc = joined(c);
  CHECK(strstr(jc, "tb-size") == NULL);
  CHECK_INTEQ(vm_tcg_cache_mib(&kvm, 32), 0);
  CHECK_INTEQ(vm_tcg_cache_mib(&tcg, 0), VM_TCG_CACHE_DEFAULT_MIB);
  unsigned mib = 0;
  CHECK(vm_tcg_cache_parse("32", &mib) == 0 && mib == 32);
  CHECK(vm_tcg_cache_parse("48MiB", &mib) == 0 && mib == 48);
  CHECK(vm_tcg_cache_parse("1G", &mib) == 0 && mib == 1024);
  CHECK(vm_tcg_cache_parse("2", &mib) == -EINVAL);
  CHECK(vm_tcg_cache_parse("-8", &mib) == -EINVAL);
  CHECK(vm_tcg_cache_parse("64k", &mib) == -EINVAL);
  CHECK(vm_tcg_cache_parse("", &mib) == -EINVAL);
  CHECK(vm_tcg_cache_parse("99999999999999999999", &mib) == -EINVAL);
}

/* A template's RAM file: written through a shared mapping by the build,
 * mapped copy-on-write from a read-only open by a clone; both tell the
 * guest (stack.ram=shared) so that it does not report free pages. */
static void test_ram_file(void) {
  struct vm_spec spec = {.state_dir = "/s", .mem_mib = 256, .ram = VM_RAM_TEMPLATE_BUILD,
                         .ram_file = "/t/ram,1"};
  _cleanup_strv_ char **a = NULL, **b = NULL;
  CHECK(qemu_build_argv(&spec, &tcg, "/k", "/s/c.log", &a, NULL) == 0);
  _cleanup_free_ char *ja = joined(a);
  CHECK(strstr(ja, "|-object|memory-backend-file,id=ram,size=256M,mem-path=/t/ram,,1,share=on|") !=
        NULL);
  CHECK(strstr(ja, "|-M|microvm,acpi=off,pit=off,memory-backend=ram|") != NULL);
  CHECK(strstr(ja, "|-m|256M|") != NULL);
  CHECK(strstr(ja, " stack.ram=shared") != NULL);
  spec.ram = VM_RAM_TEMPLATE_CLONE;
  spec.cmdline_extra = "x=1";
  CHECK(qemu_build_argv(&spec, &kvm, "/k", "/s/c.log", &b, NULL) == 0);
  _cleanup_free_ char *jb = joined(b);
  CHECK(strstr(jb, "mem-path=/t/ram,,1,share=off,readonly=on,rom=off|") != NULL);
  CHECK(strstr(jb, "|-M|microvm,accel=kvm,acpi=off,pit=off,memory-backend=ram|") != NULL);
  CHECK(strstr(jb, " stack.ram=shared x=1|") != NULL);
  char **bad = NULL;
  spec.ram_file = "/t/\nram";
  CHECK(qemu_build_argv(&spec, &kvm, "/k", "/s/c.log", &bad, NULL) == -EINVAL);
  spec.ram_file = NULL;
  CHECK(qemu_build_argv(&spec, &kvm, "/k", "/s/c.log", &bad, NULL) == -EINVAL);
}

static void test_version(void) {
  CHECK_INTEQ(qemu_parse_version("QEMU emulator version 7.2.22 (Debian 1:7.2+dfsg-7+deb12u18+b3)"),
              QEMU_VERSION(7, 2, 22));
  CHECK_INTEQ(qemu_parse_version("QEMU emulator version 10.0.2 (Debian 1:10.0.2+ds-2)"), 100002);
  CHECK_INTEQ(qemu_parse_version("QEMU emulator version 8.2.0"), QEMU_VERSION(8, 2, 0));
  CHECK_INTEQ(qemu_parse_version("QEMU emulator version 9.1"), QEMU_VERSION(9, 1, 0));
  CHECK(qemu_parse_version("QEMU emulator version 8.1.5") < QEMU_VERSION_SHARED_RAM);
  CHECK(qemu_parse_version("QEMU emulator version 8.2.1") >= QEMU_VERSION_SHARED_RAM);
  CHECK_INTEQ(qemu_parse_version("QEMU emulator version x"), 0);
  CHECK_INTEQ(qemu_parse_version("QEMU emulator version 9"), 0);
  CHECK_INTEQ(qemu_parse_version("QEMU emulator version 9.100.1"), 0);
  CHECK_INTEQ(qemu_parse_version(""), 0);
  CHECK_INTEQ(qemu_parse_version(NULL), 0);
}

static void test_rejects(void) {
  _cleanup_error_ struct stack_error *err = NULL;
  char **argv = NULL;
  /* more devices than microvm's virtio slots: refused with the reason */
  struct vm_net three[] = {{.tap = "t1"}, {.tap = "t2"}, {.tap = "t3"}};
  struct vm_share two[] = {{"/h", "vol0", false, VM_SHARE_PASSTHROUGH},
                           {"/g", "vol1", false, VM_SHARE_MAPPED}};
  struct vm_spec full = {.state_dir = "/s", .root_disk = "/r", .data_disk = "/d",
                         .control_socket = "/c", .nets = three, .n_nets = 3};
  CHECK(qemu_build_argv(&full, &tcg, "/k", "/s/c", &argv, NULL) == 0);
  strv_free(argv);
  argv = NULL;
  full.shares = two;
  full.n_shares = 1;
  CHECK(qemu_build_argv(&full, &tcg, "/k", "/s/c", &argv, NULL) == 0);
  strv_free(argv);
  argv = NULL;
  full.n_shares = 2;
  CHECK(qemu_build_argv(&full, &tcg, "/k", "/s/c", &argv, &err) == -E2BIG);
  CHECK(err && strstr(err->msg, "3 networks and 2 shared directories") &&
        strstr(err->msg, "at most 4 together"));
  CHECK(argv == NULL);
  stack_error_free(err);
  err = NULL;

  struct vm_net bad_tap[] = {{.tap = "tap0,script=/x"}};
  struct vm_spec spec = {.state_dir = "/s", .nets = bad_tap, .n_nets = 1};
  CHECK(qemu_build_argv(&spec, &tcg, "/k", "/s/c", &argv, &err) == -EINVAL);
  CHECK(err && strstr(err->msg, "tap"));
  CHECK(argv == NULL);

  struct vm_net long_tap[] = {{.tap = "abcdefghijklmnop"}};
  spec.nets = long_tap;
  CHECK(qemu_build_argv(&spec, &tcg, "/k", "/s/c", &argv, NULL) == -EINVAL);

  const char *bad_macs[] = {"52:54:00:12:34", "53:54:00:12:34:56", "52:54:00:12:34:5g",
                            "52-54-00-12-34-56", "52:54:00:12:34:56,x"};
  for (size_t i = 0; i < sizeof(bad_macs) / sizeof(*bad_macs); i++) {
    struct vm_net n[] = {{.tap = "t0", .mac = bad_macs[i]}};
    spec.nets = n;
    CHECK_MSG(qemu_build_argv(&spec, &tcg, "/k", "/s/c", &argv, NULL) == -EINVAL, "%s",
              bad_macs[i]);
  }
  struct vm_spec nl = {.state_dir = "/s", .root_disk = "/a\nb"};
  CHECK(qemu_build_argv(&nl, &tcg, "/k", "/s/c", &argv, NULL) == -EINVAL);

  /* a share's tag goes into the device options unescaped: only safe
   * characters */
  const char *bad_tags[] = {"", "a,b", "x=y", "01234567890123456789012345678901"};
  for (size_t i = 0; i < sizeof(bad_tags) / sizeof(*bad_tags); i++) {
    struct vm_share sh[] = {{.path = "/v", .tag = bad_tags[i]}};
    struct vm_spec ss = {.state_dir = "/s", .shares = sh, .n_shares = 1};
    CHECK_MSG(qemu_build_argv(&ss, &tcg, "/k", "/s/c", &argv, NULL) == -EINVAL, "%s",
              bad_tags[i]);
  }
}

static void test_shares(void) {
  struct vm_share sh[] = {{.path = "/srv/a,b", .tag = "vol0"},
                          {.path = "/d", .tag = "vol1", .readonly = true},
                          {.path = "/v", .tag = "vol2", .model = VM_SHARE_MAPPED},
                          {.path = "/w", .tag = "vol3", .model = VM_SHARE_MAPPED_FILE}};
  struct vm_spec spec = {.state_dir = "/s", .shares = sh, .n_shares = 4, .incoming = "/t/state"};
  char **argv = NULL;
  CHECK(qemu_build_argv(&spec, &tcg, "/k", "/s/c", &argv, NULL) == 0);
  bool fs0 = false, fs1 = false, dev1 = false, incoming = false, fs2 = false, fs3 = false;
  for (size_t i = 0; argv && argv[i]; i++) {
    /* a comma in a path is doubled, as QemuOpts wants */
    if (strcmp(argv[i], "local,id=fs0,path=/srv/a,,b,security_model=passthrough") == 0)
      fs0 = true;
    if (strcmp(argv[i], "local,id=fs1,path=/d,security_model=passthrough,readonly=on") == 0)
      fs1 = true;
    if (strcmp(argv[i], "virtio-9p-device,fsdev=fs1,mount_tag=vol1") == 0)
      dev1 = true;
    /* volumes keep the guest's owners and modes in xattrs (or files) */
    if (strcmp(argv[i], "local,id=fs2,path=/v,security_model=mapped-xattr") == 0)
      fs2 = true;
    if (strcmp(argv[i], "local,id=fs3,path=/w,security_model=mapped-file") == 0)
      fs3 = true;
    if (strcmp(argv[i], "-incoming") == 0 && argv[i + 1] && strcmp(argv[i + 1], "defer") == 0)
      incoming = true;
  }
  CHECK(fs0 && fs1 && dev1 && incoming && fs2 && fs3);
  strv_free(argv);
}

int main(void) {
  test_shares();
  test_cmdline();
  test_full();
  test_minimal_kvm();
  test_tcg_thread();
  test_tcg_cache();
  test_ram_file();
  test_version();
  test_rejects();
  TEST_DONE();
}
