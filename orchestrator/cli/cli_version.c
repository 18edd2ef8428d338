/* `stack version`: stack's version and, as a bug report needs them, the
 * QEMU, guest kernel and accelerator this host runs VMs with.  `--short`
 * and `--format json` follow `docker compose version`. */
#include <cjson/cJSON.h>
#include <getopt.h>
#include <stdio.h>
#include <string.h>

#include "cli.h"
#include "runtime/util/cleanup.h"
#include "runtime/util/error.h"
#include "runtime/vm/kernel.h"
#include "runtime/vm/qemu.h"
#include "runtime/vm/vm.h"

static void usage(FILE *f, const char *prog) {
  fprintf(f,
          "Usage:  %s version [OPTIONS]\n\n"
          "Show the stack version information, and the QEMU, guest kernel and\n"
          "accelerator that VMs run with on this host\n\n"
          "Options:\n"
          "  -f, --format string   Format the output. Values: [pretty | json] (default \"pretty\")\n"
          "      --short           Shows only stack's version number\n",
          prog);
}

int cli_version(struct cli_globals *g, int argc, char **argv) {
  static const struct option opts[] = {{"format", required_argument, NULL, 'f'},
                                       {"short", no_argument, NULL, 's'},
                                       {"help", no_argument, NULL, 'h'},
                                       {NULL, 0, NULL, 0}};
  const char *format = "pretty";
  bool shortv = false;
  optind = 0;
  opterr = 0;
  int c;
  while ((c = getopt_long(argc, argv, "+f:h", opts, NULL)) != -1) {
    switch (c) {
    case 'f':
      format = optarg;
      break;
    case 's':
      shortv = true;
      break;
    case 'h':
      usage(stdout, g->progname);
      return 0;
    default:
      fprintf(stderr, "%s: version: unknown flag: %s\n", g->progname, argv[optind - 1]);
      fprintf(stderr, "See '%s version --help'.\n", g->progname);
      return 2;
    }
  }
  if (optind < argc) {
    fprintf(stderr, "%s: version accepts no arguments (got \"%s\")\n", g->progname, argv[optind]);
    return 2;
  }
  bool json = strcmp(format, "json") == 0;
  if (!json && strcmp(format, "pretty") != 0) {
    fprintf(stderr, "%s: version: unknown format \"%s\": use pretty or json\n", g->progname,
            format);
    return 2;
  }
  if (shortv) {
    printf("%s\n", STACK_VERSION);
    return 0;
  }

  /* What VMs would run with: a missing piece is said, not an error, so that
   * `stack version` works on a machine that is not set up yet. */
  _cleanup_error_ struct stack_error *kerr = NULL, *herr = NULL, *qerr = NULL;
  _cleanup_free_ char *kernel = NULL;
  enum kernel_source ksrc = KERNEL_FROM_CACHE;
  (void)kernel_find(NULL, &kernel, &ksrc, &kerr);
  struct vm_host host;
  bool have_host = vm_host_probe(&host, &herr) == 0;
  _cleanup_free_ char *qemu = NULL;
  (void)qemu_version(NULL, &qemu, &qerr);

  if (json) {
    cJSON *o = cJSON_CreateObject();
    cJSON_AddStringToObject(o, "version", STACK_VERSION);
    cJSON_AddStringToObject(o, "qemu", qemu ? qemu : qerr->msg);
    cJSON_AddStringToObject(o, "kernel", kernel ? kernel : kerr->msg);
    cJSON_AddStringToObject(o, "accelerator", have_host ? vm_accel_name(host.accel) : herr->msg);
    char *s = cJSON_PrintUnformatted(o);
    printf("%s\n", s);
    cJSON_free(s);
    cJSON_Delete(o);
    return 0;
  }
  printf("stack version %s\n", STACK_VERSION);
  printf(" QEMU:        %s\n", qemu ? qemu : qerr->msg);
  printf(" Kernel:      %s\n", kernel ? kernel : kerr->msg);
  if (have_host)
    printf(" Accelerator: %s (%s)\n", vm_accel_name(host.accel), host.reason);
  else
    printf(" Accelerator: unknown: %s\n", herr->msg);
  return 0;
}
