/* `stack system ksm [status | on [--pages N] [--sleep-ms MS] | off
 * [--unmerge]]`: the host's kernel samepage merging (runtime/vm/ksm.h).
 * stack never changes it by itself: merged pages save memory across VMs
 * but are a side channel between them. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cli.h"
#include "runtime/util/cleanup.h"
#include "runtime/util/error.h"
#include "runtime/vm/ksm.h"

static void usage(FILE *f, const char *prog) {
  fprintf(f,
          "Usage: %s system ksm [status]\n"
          "       %s system ksm on [--pages N] [--sleep-ms MS]\n"
          "       %s system ksm off [--unmerge]\n\n"
          "Show or set the host's kernel samepage merging (KSM).  With KSM on, identical\n"
          "pages of different VMs (an idle guest's kernel, the same image's files) are\n"
          "kept once: idle VMs cost much less memory, at the CPU ksmd spends scanning.\n"
          "Merged pages are a timing side channel between VMs: leave it off where VMs\n"
          "of different tenants run; it is meant for local development.\n\n"
          "  on            ksmd scans N pages (default %d) every MS ms (default %d) and\n"
          "                merges zero pages with the kernel's zero page\n"
          "  off           stops merging (merged pages stay merged until written)\n"
          "  --unmerge     with off: gives every merged page its own copy again\n",
          prog, prog, prog, KSM_DEFAULT_PAGES, KSM_DEFAULT_SLEEP_MS);
}

static double mb(uint64_t pages) { return (double)pages * (double)sysconf(_SC_PAGESIZE) / 1e6; }

void cli_print_ksm_line(void) {
  struct ksm_status st;
  if (ksm_read(NULL, &st, NULL) < 0) {
    printf("KSM:           not available (this kernel has no KSM)\n");
    return;
  }
  if (st.run == 1)
    printf("KSM:           on (%llu pages every %llu ms), %.1f MB saved (stack system ksm)\n",
           (unsigned long long)st.pages_to_scan, (unsigned long long)st.sleep_ms,
           mb(st.pages_sharing));
  else
    printf("KSM:           off (stack system ksm on merges identical pages across VMs)\n");
}

static int status(void) {
  struct ksm_status st;
  _cleanup_error_ struct stack_error *e = NULL;
  if (ksm_read(NULL, &st, &e) < 0) {
    fprintf(stderr, "stack: system ksm: %s\n", e->msg);
    return 1;
  }
  printf("KSM:           %s\n", st.run == 1 ? "on" : st.run == 2 ? "off, unmerging" : "off");
  printf("Scanning:      %llu pages every %llu ms%s\n", (unsigned long long)st.pages_to_scan,
         (unsigned long long)st.sleep_ms, st.use_zero_pages ? ", zero pages merged" : "");
  printf("Merged:        %llu pages share %llu (%.1f MB saved)\n",
         (unsigned long long)st.pages_sharing, (unsigned long long)st.pages_shared,
         mb(st.pages_sharing));
  if (st.general_profit >= 0)
    printf("Profit:        %.1f MB (saved minus KSM's own metadata)\n",
           (double)st.general_profit / 1e6);
  printf("Full scans:    %llu\n", (unsigned long long)st.full_scans);
  if (st.ksmd_cpu_s >= 0)
    printf("ksmd CPU:      %.1f s since the host booted\n", st.ksmd_cpu_s);
  return 0;
}

static int number(const char *prog, const char *opt, const char *v, unsigned max, unsigned *out) {
  char *end = NULL;
  errno = 0;
  unsigned long n = v ? strtoul(v, &end, 10) : 0;
  if (!v || !*v || *end || errno || n == 0 || n > max) {
    fprintf(stderr, "%s: system ksm: %s wants a number from 1 to %u\n", prog, opt, max);
    return -1;
  }
  *out = (unsigned)n;
  return 0;
}

int cli_system_ksm(struct cli_globals *g, int argc, char **argv) {
  const char *what = argc >= 2 ? argv[1] : "status";
  if (strcmp(what, "-h") == 0 || strcmp(what, "--help") == 0) {
    usage(stdout, g->progname);
    return 0;
  }
  unsigned pages = 0, sleep_ms = 0;
  bool unmerge = false;
  bool on = strcmp(what, "on") == 0, off = strcmp(what, "off") == 0;
  if (!on && !off && strcmp(what, "status") != 0) {
    fprintf(stderr, "%s: system ksm: unknown argument \"%s\"\n", g->progname, what);
    usage(stderr, g->progname);
    return 2;
  }
  for (int i = 2; i < argc; i++) {
    if (on && strcmp(argv[i], "--pages") == 0) {
      if (number(g->progname, "--pages", i + 1 < argc ? argv[++i] : NULL, 100000, &pages) < 0)
        return 2;
    } else if (on && strcmp(argv[i], "--sleep-ms") == 0) {
      if (number(g->progname, "--sleep-ms", i + 1 < argc ? argv[++i] : NULL, 60000, &sleep_ms) <
          0)
        return 2;
    } else if (off && strcmp(argv[i], "--unmerge") == 0) {
      unmerge = true;
    } else {
      fprintf(stderr, "%s: system ksm %s: unknown argument \"%s\"\n", g->progname, what, argv[i]);
      usage(stderr, g->progname);
      return 2;
    }
  }
  if (!on && !off)
    return status();
  _cleanup_error_ struct stack_error *e = NULL;
  int r = on ? ksm_on(NULL, pages, sleep_ms, &e) : ksm_off(NULL, unmerge, &e);
  if (r < 0) {
    fprintf(stderr, "stack: system ksm %s: %s%s\n", what, e->msg,
            r == -EACCES || r == -EPERM ? " (changing KSM needs root)" : "");
    return 1;
  }
  return status();
}
