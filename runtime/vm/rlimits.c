#include "rlimits.h"

#include <errno.h>
#include <string.h>
#include <sys/resource.h>

#include "guest/proto.h"

int rlimit_from_name(const char *name, size_t len) {
  static const struct {
    const char *name;
    int res;
  } names[] = {{"core", RLIMIT_CORE},         {"cpu", RLIMIT_CPU},       {"data", RLIMIT_DATA},
               {"fsize", RLIMIT_FSIZE},       {"locks", RLIMIT_LOCKS},   {"memlock", RLIMIT_MEMLOCK},
               {"msgqueue", RLIMIT_MSGQUEUE}, {"nice", RLIMIT_NICE},     {"nofile", RLIMIT_NOFILE},
               {"nproc", RLIMIT_NPROC},       {"rss", RLIMIT_RSS},       {"rtprio", RLIMIT_RTPRIO},
               {"rttime", RLIMIT_RTTIME},     {"sigpending", RLIMIT_SIGPENDING},
               {"stack", RLIMIT_STACK},       {"as", RLIMIT_AS}};
  for (size_t i = 0; i < sizeof names / sizeof names[0]; i++)
    if (strlen(names[i].name) == len && strncmp(name, names[i].name, len) == 0)
      return names[i].res;
  return -EINVAL;
}

int rlimit_set(int resource, long long soft, long long hard, struct proto_rlimit *out) {
  if (soft < -1 || hard < -1 || (hard != -1 && (soft == -1 || soft > hard)))
    return -EINVAL;
  out->resource = (uint32_t)resource;
  out->soft = soft < 0 ? (uint64_t)RLIM_INFINITY : (uint64_t)soft;
  out->hard = hard < 0 ? (uint64_t)RLIM_INFINITY : (uint64_t)hard;
  return 0;
}
