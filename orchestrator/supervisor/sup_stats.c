/* `stats`: what each running container's VM costs the host, sampled from
 * its QEMU process now.  CPU is cumulative: the client turns two samples
 * into a percentage, as Docker does with its previous reading. */
#include "sup_stats.h"

#include <cjson/cJSON.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "proc_usage.h"
#include "procinfo.h"
#include "runtime/util/cleanup.h"
#include "runtime/util/error.h"
#include "runtime/util/fsutil.h"
#include "runtime/vm/vm.h"
#include "sup_net.h"
#include "sup_proto.h"
#include "sup_select.h"

/* The guest's RAM: QEMU's "-m <n>M" (qemu.c writes it so), which holds
 * also for a VM an earlier supervisor started. */
static uint64_t vm_mem_bytes(pid_t pid) {
  char path[64];
  snprintf(path, sizeof(path), "/proc/%d/cmdline", (int)pid);
  _cleanup_free_ char *text = NULL;
  size_t len = 0;
  if (fs_read_file(path, 1 << 20, &text, &len, NULL) == 0) {
    for (size_t i = 0; i < len;) {
      const char *arg = text + i;
      size_t n = strnlen(arg, len - i);
      if (strcmp(arg, "-m") == 0 && i + n + 1 < len) {
        char *end;
        unsigned long long v = strtoull(text + i + n + 1, &end, 10);
        if (*end == 'M' && v > 0 && v < (1ULL << 40))
          return v << 20;
      }
      i += n + 1;
    }
  }
  return (uint64_t)VM_DEFAULT_MEM_MIB << 20;
}

int sup_stats(struct supervisor *s, struct sup_conn *c, const struct sup_request *req,
              cJSON **result, struct stack_error **err) {
  (void)c;
  _cleanup_free_ bool *sel = NULL;
  int r = sup_select_containers(s, req->params, &sel, err);
  if (r < 0)
    return r;
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  *result = cJSON_CreateObject();
  cJSON_AddNumberToObject(*result, "time_ns", (double)ts.tv_sec * 1e9 + (double)ts.tv_nsec);
  cJSON *arr = cJSON_AddArrayToObject(*result, "containers");
  for (size_t i = 0; i < s->state->n_containers; i++) {
    const struct ps_container *ct = &s->state->containers[i];
    struct proc_usage u;
    if (!sel[i] || ct->qemu_pid <= 0 || !proc_is_same(ct->qemu_pid, ct->qemu_start_time) ||
        proc_usage_read(ct->qemu_pid, &u, NULL) < 0)
      continue;
    cJSON *o = cJSON_CreateObject();
    cJSON_AddStringToObject(o, "name", ct->name);
    cJSON_AddStringToObject(o, "id", ct->id);
    cJSON_AddStringToObject(o, "service", ct->service);
    cJSON_AddStringToObject(o, "status", ctr_status_name(ct->status));
    cJSON_AddNumberToObject(o, "cpu_ns", (double)u.cpu_ns);
    cJSON_AddNumberToObject(o, "mem_bytes", (double)u.pss_bytes);
    cJSON_AddNumberToObject(o, "mem_limit", (double)vm_mem_bytes(ct->qemu_pid));
    cJSON_AddNumberToObject(o, "read_bytes", (double)u.read_bytes);
    cJSON_AddNumberToObject(o, "write_bytes", (double)u.write_bytes);
    unsigned long long rx, tx;
    sup_net_io(s, ct->name, &rx, &tx);
    cJSON_AddNumberToObject(o, "net_rx_bytes", (double)rx);
    cJSON_AddNumberToObject(o, "net_tx_bytes", (double)tx);
    cJSON_AddItemToArray(arr, o);
  }
  return 0;
}
