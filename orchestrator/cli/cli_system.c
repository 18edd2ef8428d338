/* `stack system info`: what VMs run with on this host (kernel, accelerator
 * and why, TSC rate, QEMU version, store root); `system df` and `system
 * prune` live in their own files. */
#include <cjson/cJSON.h>
#include <stdio.h>
#include <string.h>

#include "cli.h"
#include "cli_host.h"
#include "runtime/util/cleanup.h"
#include "runtime/util/error.h"
#include "runtime/util/paths.h"
#include "runtime/vm/accel.h"
#include "runtime/vm/jail_cgroup.h"
#include "runtime/vm/kernel.h"
#include "runtime/vm/qemu.h"
#include "runtime/vm/template.h"
#include "runtime/vm/vm.h"

static void usage(FILE *f, const char *prog) {
  fprintf(f,
          "Usage: %s system info [--format text|json] [--kernel PATH]\n"
          "       %s system ksm [status | on [--pages N] [--sleep-ms MS] | off [--unmerge]]\n"
          "       %s system df [--format table|json]\n"
          "       %s system prune [-a] [-f] [--volumes]\n\n"
          "info:  the guest kernel, the accelerator chosen and why, the host TSC rate,\n"
          "       the QEMU version, how VM templates share memory and where stack keeps\n"
          "       its files.\n"
          "ksm:   show or set the host's kernel samepage merging (stack system ksm --help).\n"
          "df:    the disk used by images, containers, volumes and VM templates.\n"
          "prune: remove stopped containers, unused networks, images and VM templates.\n",
          prog, prog, prog, prog);
}

static int system_info(struct cli_globals *g, int argc, char **argv) {
  const char *format = "text";
  const char *kernel_opt = NULL;
  for (int i = 1; i < argc; i++) {
    if ((strcmp(argv[i], "--format") == 0 || strcmp(argv[i], "-f") == 0) && i + 1 < argc) {
      format = argv[++i];
    } else if (strncmp(argv[i], "--format=", 9) == 0) {
      format = argv[i] + 9;
    } else if (strcmp(argv[i], "--kernel") == 0 && i + 1 < argc) {
      kernel_opt = argv[++i];
    } else if (strncmp(argv[i], "--kernel=", 9) == 0) {
      kernel_opt = argv[i] + 9;
    } else if (strcmp(argv[i], "-h") == 0 || strcmp(argv[i], "--help") == 0) {
      usage(stdout, g->progname);
      return 0;
    } else {
      fprintf(stderr, "%s: system info: unknown argument \"%s\"\n", g->progname, argv[i]);
      usage(stderr, g->progname);
      return 2;
    }
  }
  bool json = strcmp(format, "json") == 0;
  if (!json && strcmp(format, "text") != 0) {
    fprintf(stderr, "%s: system info: unknown format \"%s\": use text or json\n", g->progname,
            format);
    return 2;
  }

  int rc = 0;
  _cleanup_error_ struct stack_error *kerr = NULL, *herr = NULL, *qerr = NULL;
  _cleanup_free_ char *kernel = NULL;
  enum kernel_source ksrc = KERNEL_FROM_CACHE;
  if (kernel_find(kernel_opt, &kernel, &ksrc, &kerr) < 0)
    rc = 1;
  struct vm_host host;
  if (vm_host_probe(&host, &herr) < 0)
    rc = 1;
  _cleanup_free_ char *qemu = NULL;
  if (qemu_version(NULL, &qemu, &qerr) < 0)
    rc = 1;
  _cleanup_free_ char *root = stack_data_root();
  _cleanup_free_ char *run = stack_run_dir();
  _cleanup_free_ char *cache = stack_cache_dir();
  _cleanup_free_ char *config = stack_config_path();
  size_t tcount;
  unsigned long long tbytes;
  template_stats(&tcount, &tbytes);

  if (json) {
    cJSON *o = cJSON_CreateObject();
    cJSON *k = cJSON_AddObjectToObject(o, "kernel");
    if (kernel) {
      cJSON_AddStringToObject(k, "path", kernel);
      cJSON_AddStringToObject(k, "source", kernel_source_name(ksrc));
    } else {
      cJSON_AddStringToObject(k, "error", kerr->msg);
    }
    cJSON *a = cJSON_AddObjectToObject(o, "accelerator");
    if (herr) {
      cJSON_AddStringToObject(a, "error", herr->msg);
    } else {
      cJSON_AddStringToObject(a, "name", vm_accel_name(host.accel));
      cJSON_AddStringToObject(a, "reason", host.reason);
      if (host.accel == VM_ACCEL_TCG)
        cJSON_AddStringToObject(a, "tcg_thread", vm_tcg_thread_name(host.tcg_thread));
      cJSON_AddNumberToObject(o, "tsc_khz", (double)host.tsc_khz);
      cJSON_AddStringToObject(o, "tsc_source", host.tsc_source);
      cJSON_AddNumberToObject(o, "host_cpus", host.ncpus);
      cJSON *j = cJSON_AddObjectToObject(o, "vm_jail");
      cJSON_AddBoolToObject(j, "enabled", host.jail);
      if (host.jail)
        cJSON_AddNumberToObject(j, "uid_base", host.uid_base);
      cJSON *cg = cJSON_AddObjectToObject(o, "vm_cgroups");
      if (host.cgroup[0]) {
        cJSON_AddStringToObject(cg, "dir", host.cgroup);
        cJSON_AddBoolToObject(cg, "memory", host.cgroup_memory);
        cJSON_AddBoolToObject(cg, "pids", host.cgroup_pids);
        if (host.cgroup_pids)
          cJSON_AddNumberToObject(cg, "pids_max", JAIL_CGROUP_PIDS_MAX);
      }
      if (host.cgroup_note[0])
        cJSON_AddStringToObject(cg, "note", host.cgroup_note);
    }
    cJSON_AddStringToObject(o, "qemu", qemu ? qemu : qerr->msg);
    if (!herr) {
      cJSON *m = cJSON_AddObjectToObject(o, "memory");
      cJSON_AddStringToObject(m, "template_ram", host.shared_ram ? "shared" : "private");
      cJSON_AddStringToObject(m, "template_ram_note", host.shared_ram_note);
      if (host.accel == VM_ACCEL_TCG) {
        cJSON_AddNumberToObject(m, "tcg_cache_mib", host.tcg_cache_mib);
        cJSON_AddStringToObject(m, "tcg_cache_source", host.tcg_cache_src);
      }
    }
    cJSON_AddNumberToObject(o, "default_cpus", vm_default_cpus());
    cJSON_AddNumberToObject(o, "default_memory_mib", VM_DEFAULT_MEM_MIB);
    cJSON_AddStringToObject(o, "store_root", root);
    cJSON_AddStringToObject(o, "run_dir", run);
    cJSON_AddStringToObject(o, "cache_dir", cache);
    cJSON_AddStringToObject(o, "config_file", config);
    cJSON *t = cJSON_AddObjectToObject(o, "templates");
    cJSON_AddBoolToObject(t, "enabled", template_enabled());
    cJSON_AddNumberToObject(t, "count", (double)tcount);
    cJSON_AddNumberToObject(t, "bytes", (double)tbytes);
    char *s = cJSON_Print(o);
    printf("%s\n", s);
    cJSON_free(s);
    cJSON_Delete(o);
    return rc;
  }

  if (kernel)
    printf("Kernel:        %s (from %s)\n", kernel, kernel_source_name(ksrc));
  else
    printf("Kernel:        missing: %s\n", kerr->msg);
  if (herr) {
    printf("Accelerator:   error: %s\n", herr->msg);
  } else {
    printf("Accelerator:   %s (%s)\n", vm_accel_name(host.accel), host.reason);
    if (host.accel == VM_ACCEL_TCG)
      printf("TCG threads:   %s\n",
             host.tcg_thread == VM_TCG_THREAD_SINGLE  ? "single (one host thread per VM)"
             : host.tcg_thread == VM_TCG_THREAD_MULTI ? "multi (one host thread per vCPU)"
                                                      : "auto (one host thread per vCPU; per VM "
                                                        "when VMs outnumber the cores, unless "
                                                        "cpus is set above 1)");
    if (host.tsc_khz)
      printf("TSC:           %lu kHz (from %s)\n", host.tsc_khz, host.tsc_source);
    else
      printf("TSC:           unknown (tsc_early_khz not passed)\n");
    printf("Host CPUs:     %u\n", host.ncpus);
    if (host.jail)
      printf("VM jail:       QEMU runs as uid/gid %u + its pid, in its own mount, network and "
             "IPC namespaces, with no capabilities (shared directories: DAC_OVERRIDE, FOWNER; "
             "CHOWN for bind mounts), no_new_privs and seccomp\n",
             host.uid_base);
    else
      printf("VM jail:       off: stack does not run as root (QEMU runs as this user, with "
             "no_new_privs and seccomp)\n");
    if (host.cgroup[0])
      printf("VM cgroups:    %s/vm-<pid>: memory.max %s, pids.max %s%s%s\n", host.cgroup,
             host.cgroup_memory ? "the guest's memory + QEMU's" : "unset",
             host.cgroup_pids ? "256" : "unset", host.cgroup_note[0] ? "; " : "",
             host.cgroup_note);
    else
      printf("VM cgroups:    %s\n", host.cgroup_note);
  }
  printf("QEMU:          %s\n", qemu ? qemu : qerr->msg);
  if (!herr) {
    printf("Template RAM:  %s\n", host.shared_ram_note);
    if (host.accel == VM_ACCEL_TCG)
      printf("TCG cache:     %u MiB per VM (%s; a service's x-stack-tcg-cache overrides it)\n",
             host.tcg_cache_mib, host.tcg_cache_src);
  }
  cli_print_ksm_line();
  printf("VM defaults:   %u CPUs, %d MiB\n", vm_default_cpus(), VM_DEFAULT_MEM_MIB);
  printf("Store root:    %s\n", root);
  printf("Run dir:       %s\n", run);
  printf("Cache dir:     %s\n", cache);
  printf("Config file:   %s\n", config);
  printf("VM templates:  %s, %zu in %s/templates (%.1f MB)\n",
         template_enabled() ? "on" : "off (STACK_TEMPLATES)", tcount, cache, tbytes / 1e6);
  return rc;
}

int cli_system(struct cli_globals *g, int argc, char **argv) {
  if (argc >= 2 && strcmp(argv[1], "info") == 0)
    return system_info(g, argc - 1, argv + 1);
  if (argc >= 2 && strcmp(argv[1], "ksm") == 0)
    return cli_system_ksm(g, argc - 1, argv + 1);
  if (argc >= 2 && strcmp(argv[1], "df") == 0)
    return cli_system_df(g, argc - 1, argv + 1);
  if (argc >= 2 && strcmp(argv[1], "prune") == 0)
    return cli_system_prune(g, argc - 1, argv + 1);
  if (argc >= 2 && (strcmp(argv[1], "-h") == 0 || strcmp(argv[1], "--help") == 0)) {
    usage(stdout, g->progname);
    return 0;
  }
  usage(stderr, g->progname);
  return 2;
}
