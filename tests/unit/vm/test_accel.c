/* Accelerator choice and host TSC parsing, from fake /proc/cpuinfo and
 * kernel log text. */
#include <errno.h>
#include <string.h>

#include "runtime/util/cleanup.h"
#include "runtime/util/error.h"
#include "runtime/vm/accel.h"
#include "test.h"

static const char cpuinfo_nested_less[] =
    "processor\t: 0\nvendor_id\t: AuthenticAMD\nmodel name\t: AMD EPYC\n"
    "cpu MHz\t\t: 2596.096\n"
    "flags\t\t: fpu vme de pse tsc msr constant_tsc nonstop_tsc tsc_known_freq x2apic "
    "hypervisor lahf_lm svm_lock\n\nprocessor\t: 1\nflags\t\t: fpu svm\n";

static const char cpuinfo_vmx[] = "processor\t: 0\ncpu MHz\t\t: 800.000\n"
                                  "flags\t\t: fpu vme tsc vmx smx est\n";

static const char cpuinfo_svm_no_constant[] = "processor\t: 0\ncpu MHz\t\t: 3400.5\n"
                                              "flags\t\t: fpu tsc svm\n";

static void test_decide(void) {
  struct vm_host h;
  _cleanup_error_ struct stack_error *err = NULL;

  memset(&h, 0, sizeof(h));
  CHECK(vm_accel_decide(cpuinfo_nested_less, true, NULL, NULL, &h, &err) == 0);
  CHECK_INTEQ(h.accel, VM_ACCEL_TCG);
  CHECK(strstr(h.reason, "vmx/svm") != NULL);
  /* "svm_lock" is not "svm", and only the first flags line counts. */

  CHECK(vm_accel_decide(cpuinfo_vmx, true, NULL, NULL, &h, &err) == 0);
  CHECK_INTEQ(h.accel, VM_ACCEL_KVM);
  CHECK(strstr(h.reason, "vmx") != NULL);

  CHECK(vm_accel_decide(cpuinfo_svm_no_constant, true, NULL, NULL, &h, &err) == 0);
  CHECK_INTEQ(h.accel, VM_ACCEL_KVM);

  CHECK(vm_accel_decide(cpuinfo_vmx, false, NULL, NULL, &h, &err) == 0);
  CHECK_INTEQ(h.accel, VM_ACCEL_TCG);
  CHECK_STREQ(h.reason, "no /dev/kvm");

  CHECK(vm_accel_decide(NULL, true, NULL, NULL, &h, &err) == 0);
  CHECK_INTEQ(h.accel, VM_ACCEL_TCG);

  CHECK(vm_accel_decide(cpuinfo_vmx, true, "tcg", "$STACK_ACCEL", &h, &err) == 0);
  CHECK_INTEQ(h.accel, VM_ACCEL_TCG);
  CHECK(strstr(h.reason, "$STACK_ACCEL") != NULL);

  CHECK(vm_accel_decide(cpuinfo_nested_less, true, "kvm", "x", &h, &err) == 0);
  CHECK_INTEQ(h.accel, VM_ACCEL_KVM);

  CHECK(vm_accel_decide(cpuinfo_vmx, false, "kvm", "x", &h, &err) == -ENODEV);
  CHECK(err && strstr(err->msg, "/dev/kvm"));
  CHECK(vm_accel_decide(cpuinfo_vmx, true, "hvf", "the config", &h, &err) == -EINVAL);
  CHECK(err && strstr(err->msg, "hvf") && strstr(err->msg, "the config"));
}

static void test_tsc(void) {
  CHECK_INTEQ(vm_tsc_parse_sysfs("2596096\n"), 2596096);
  CHECK_INTEQ(vm_tsc_parse_sysfs("abc"), 0);
  CHECK_INTEQ(vm_tsc_parse_sysfs("12x\n"), 0);
  CHECK_INTEQ(vm_tsc_parse_sysfs(""), 0);
  CHECK_INTEQ(vm_tsc_parse_sysfs(NULL), 0);

  CHECK_INTEQ(vm_tsc_parse_kmsg("tsc: Detected 2596.096 MHz processor\n"), 2596096);
  CHECK_INTEQ(vm_tsc_parse_kmsg("tsc: Fast TSC calibration using PIT\n"
                                "tsc: Detected 2900.000 MHz processor\n"
                                "tsc: Refined TSC clocksource calibration: 2899.99 MHz\n"),
              2899990);
  CHECK_INTEQ(vm_tsc_parse_kmsg("tsc: Detected 3000 MHz processor\n"), 3000000);
  CHECK_INTEQ(vm_tsc_parse_kmsg("tsc: Detected lots of MHz\n"), 0);
  CHECK_INTEQ(vm_tsc_parse_kmsg("tsc: Detected 99999999999999999999999 MHz\n"), 0);
  CHECK_INTEQ(vm_tsc_parse_kmsg("nothing here"), 0);

  CHECK_INTEQ(vm_tsc_parse_cpuinfo(cpuinfo_nested_less), 2596096);
  /* A CPU whose TSC follows the clock (no constant_tsc): "cpu MHz" is not
   * its TSC rate. */
  CHECK_INTEQ(vm_tsc_parse_cpuinfo(cpuinfo_svm_no_constant), 0);
  CHECK_INTEQ(vm_tsc_parse_cpuinfo("flags\t: constant_tsc\n"), 0);
  CHECK_INTEQ(vm_tsc_parse_cpuinfo("cpu MHz\t: 3000.0\nflags\t: constant_tsc\n"), 0);
  CHECK_INTEQ(vm_tsc_parse_cpuinfo("cpu MHz\t: 3000.0\nflags\t: tsc_known_freq\n"), 3000000);
  CHECK_INTEQ(vm_tsc_parse_cpuinfo(""), 0);
}

int main(void) {
  test_decide();
  test_tsc();
  TEST_DONE();
}
