/* The guest's side of how its RAM is backed on the host.
 *
 * A VM restored from a template whose RAM is one file its clones map
 * read-only (the host put PROTO_CMDLINE_SHARED_RAM on the kernel command
 * line) cannot give freed pages back: QEMU refuses to discard pages of a
 * read-only file, and says so on every report.  So free page reporting is
 * turned off, by raising its order beyond the largest the page allocator
 * has (MAX_ORDER, 11 in Linux 6.1, whose virtio-balloon driver resets the
 * order when it probes, so the kernel command line cannot set it). */
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "init.h"

#define REPORTING_ORDER "/sys/module/page_reporting/parameters/page_reporting_order"
#define REPORTING_OFF "11"

/* Whether word is one of the space-separated words of text. */
static int has_word(const char *text, const char *word) {
  size_t n = strlen(word);
  for (const char *p = strstr(text, word); p; p = strstr(p + 1, word))
    if ((p == text || p[-1] == ' ') && (p[n] == ' ' || p[n] == '\n' || p[n] == '\0'))
      return 1;
  return 0;
}

void memory_setup(void) {
  char cmdline[4096];
  int fd = open("/proc/cmdline", O_RDONLY | O_CLOEXEC);
  if (fd < 0)
    return;
  ssize_t n = read(fd, cmdline, sizeof cmdline - 1);
  close(fd);
  if (n <= 0)
    return;
  cmdline[n] = '\0';
  if (!has_word(cmdline, PROTO_CMDLINE_SHARED_RAM))
    return;
  fd = open(REPORTING_ORDER, O_WRONLY | O_CLOEXEC);
  if (fd < 0 || write(fd, REPORTING_OFF, strlen(REPORTING_OFF)) < 0)
    fprintf(stderr, "stack-init: cannot turn free page reporting off (%s)\n", REPORTING_ORDER);
  if (fd >= 0)
    close(fd);
}
