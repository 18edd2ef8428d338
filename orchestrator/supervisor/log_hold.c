#include "log_hold.h"

#include <errno.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

/* Writes all of p at the end of fd; on failure the file is cut back to
 * *size and -errno returned. */
static int append(int fd, uint64_t *size, const char *p, size_t len) {
  size_t done = 0;
  while (done < len) {
    ssize_t n = write(fd, p + done, len - done);
    if (n < 0 && errno == EINTR)
      continue;
    if (n <= 0) {
      int e = n < 0 ? errno : ENOSPC; /* a write that takes nothing: no room */
      if (done && ftruncate(fd, (off_t)*size) < 0) {
        /* the partial line stays: count it as written, so later lines
         * still start at their own offset */
        *size += done;
      }
      return -e;
    }
    done += (size_t)n;
  }
  *size += len;
  return 0;
}

static uint64_t count_lines(const char *p, size_t len) {
  uint64_t n = 0;
  for (const char *e = p + len; (p = memchr(p, '\n', (size_t)(e - p))) != NULL; p++)
    n++;
  return n;
}

/* text could not be written: it waits, or is counted as lost */
static void keep(struct log_hold *h, const char *text, size_t len) {
  if (h->held.len + len <= LOG_HOLD_MAX)
    sbuf_append(&h->held, text, len);
  else
    h->lost += count_lines(text, len);
}

static enum log_hold_result failed(struct log_hold *h, int error, const char *text, size_t len) {
  bool first = h->error == 0;
  h->error = error;
  keep(h, text, len);
  return first ? LOG_HOLD_FAILED : LOG_HOLD_FAILING;
}

enum log_hold_result log_hold_write(struct log_hold *h, int fd, uint64_t *size, const char *text,
                                    size_t len, log_hold_lost_fn lost_line, void *ctx) {
  if (fd < 0)
    return failed(h, -fd, text, len);
  bool was_failing = h->error != 0;
  int r;
  if (h->held.len) {
    if ((r = append(fd, size, h->held.data, h->held.len)) < 0)
      return failed(h, -r, text, len);
    sbuf_reset(&h->held);
  }
  if (h->lost) {
    char *line = lost_line(ctx, h->lost, h->error ? h->error : ENOSPC);
    r = append(fd, size, line, strlen(line));
    free(line);
    if (r < 0)
      return failed(h, -r, text, len);
    h->lost = 0;
  }
  if (len && (r = append(fd, size, text, len)) < 0)
    return failed(h, -r, text, len);
  h->error = 0;
  return was_failing ? LOG_HOLD_RECOVERED : LOG_HOLD_OK;
}

uint64_t log_hold_waiting_lines(const struct log_hold *h) {
  return h->lost + (h->held.len ? count_lines(h->held.data, h->held.len) : 0);
}

void log_hold_clear(struct log_hold *h) {
  sbuf_free(&h->held);
  h->lost = 0;
  h->error = 0;
}
