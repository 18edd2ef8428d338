#include "runtime/image/pull_progress.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "runtime/util/xalloc.h"

struct progress_row {
  char id[13]; /* short digest, as Docker shows layers */
  int64_t total, done;
  const char *status, *printed_status;
};

struct pull_progress {
  bool quiet, tty;
  struct progress_row *rows;
  size_t n, cap;
  size_t drawn; /* rows on screen from the last redraw */
  struct timespec last;
};

struct pull_progress *pull_progress_new(bool quiet) {
  struct pull_progress *p = xcalloc(1, sizeof(*p));
  p->quiet = quiet;
  p->tty = !quiet && isatty(STDERR_FILENO);
  return p;
}

void pull_progress_free(struct pull_progress *p) {
  if (p == NULL)
    return;
  free(p->rows);
  free(p);
}

size_t pull_progress_add(struct pull_progress *p, const char *digest, int64_t total) {
  p->rows = xgrow(p->rows, &p->cap, p->n + 1, sizeof(*p->rows));
  struct progress_row *r = &p->rows[p->n];
  *r = (struct progress_row){.total = total, .status = "Waiting"};
  const char *hex = strchr(digest, ':');
  snprintf(r->id, sizeof(r->id), "%s", hex ? hex + 1 : digest);
  return p->n++;
}

void pull_progress_update(struct pull_progress *p, size_t row, int64_t done, const char *status) {
  if (row >= p->n)
    return;
  p->rows[row].done = done;
  if (status)
    p->rows[row].status = status;
}

static void human(char *buf, size_t n, int64_t v) {
  if (v >= 1000 * 1000)
    snprintf(buf, n, "%.1fMB", (double)v / 1e6);
  else if (v >= 1000)
    snprintf(buf, n, "%.1fkB", (double)v / 1e3);
  else
    snprintf(buf, n, "%dB", (int)(v < 0 ? 0 : v));
}

void pull_progress_draw(struct pull_progress *p, bool force) {
  if (p->quiet)
    return;
  if (!p->tty) {
    for (size_t i = 0; i < p->n; i++) {
      struct progress_row *r = &p->rows[i];
      if (r->status != r->printed_status) {
        fprintf(stderr, "%s %s\n", r->id, r->status);
        r->printed_status = r->status;
      }
    }
    return;
  }
  struct timespec now;
  clock_gettime(CLOCK_MONOTONIC, &now);
  int64_t ms = (now.tv_sec - p->last.tv_sec) * 1000 + (now.tv_nsec - p->last.tv_nsec) / 1000000;
  if (!force && ms < 100)
    return;
  p->last = now;
  if (p->drawn)
    fprintf(stderr, "\033[%zuA", p->drawn);
  for (size_t i = 0; i < p->n; i++) {
    struct progress_row *r = &p->rows[i];
    fprintf(stderr, "\r\033[K%s %-15s", r->id, r->status);
    if (strcmp(r->status, "Downloading") == 0 && r->total > 0) {
      char bar[31], d[32], t[32];
      int fill = (int)(r->done * 30 / r->total);
      for (int k = 0; k < 30; k++)
        bar[k] = k < fill ? '=' : k == fill ? '>' : ' ';
      bar[30] = '\0';
      human(d, sizeof(d), r->done);
      human(t, sizeof(t), r->total);
      fprintf(stderr, " [%s] %s/%s", bar, d, t);
    }
    fputc('\n', stderr);
  }
  p->drawn = p->n;
  fflush(stderr);
}
