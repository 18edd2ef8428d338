/* The host's kernel samepage merging (KSM), for `stack system ksm`.
 *
 * QEMU marks guest RAM mergeable; the kernel merges identical pages only
 * while ksmd runs (/sys/kernel/mm/ksm/run), which hosts leave off.  Idle
 * guests of one kernel hold many identical pages: 40 idle busybox VMs went
 * from 92 to 34 MB average PSS with KSM on (design.md).  But merged pages
 * are a side channel between tenants (a write to a merged page takes
 * measurably longer: a guest can tell whether another guest holds a given
 * page), and ksmd costs CPU while it scans.  So stack never turns it on by
 * itself: `stack system ksm on` does, for local development; off is the
 * default.
 *
 * Every function takes the KSM sysfs directory (NULL = /sys/kernel/mm/ksm)
 * so that tests can use a directory of their own. */
#ifndef STACK_VM_KSM_H
#define STACK_VM_KSM_H

#include <stdbool.h>
#include <stdint.h>

struct stack_error;

#define KSM_SYSFS "/sys/kernel/mm/ksm"
/* What `on` sets unless told otherwise: 1000 pages every 20 ms (200 MB/s
 * of scanning while there is memory to merge; measured in
 * docs/how-it-works.md) */
#define KSM_DEFAULT_PAGES 1000
#define KSM_DEFAULT_SLEEP_MS 20

struct ksm_status {
  int run;                 /* 0 stopped, 1 running, 2 unmerging; -1 = no KSM */
  uint64_t pages_to_scan, sleep_ms;
  uint64_t pages_shared;   /* pages that others point to */
  uint64_t pages_sharing;  /* pages merged into them: the saving */
  uint64_t pages_unshared, full_scans;
  int64_t general_profit;  /* bytes saved minus KSM's metadata; -1 = unknown (before 6.1) */
  bool use_zero_pages;
  double ksmd_cpu_s;       /* CPU ksmd used since boot; -1 = unknown */
};

/* Reads the settings and counters (and ksmd's CPU from /proc).  -ENOENT
 * when the kernel has no KSM. */
int ksm_read(const char *dir, struct ksm_status *out, struct stack_error **err);

/* Starts ksmd: pages per wake-up (0 = KSM_DEFAULT_PAGES), the pause
 * between wake-ups (0 = KSM_DEFAULT_SLEEP_MS), and zero pages merged with
 * the kernel's zero page where the kernel can. */
int ksm_on(const char *dir, unsigned pages, unsigned sleep_ms, struct stack_error **err);

/* Stops ksmd; with unmerge every merged page gets its own copy again
 * (memory use rises by pages_sharing), closing the side channel. */
int ksm_off(const char *dir, bool unmerge, struct stack_error **err);

#endif
