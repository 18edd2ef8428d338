#include "cli_logfmt.h"

#include <cjson/cJSON.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "runtime/util/cleanup.h"
#include "runtime/util/xalloc.h"

/* Compose's palette, in the order it hands colours out. */
static const char *const palette[] = {"36", "33", "32", "35", "34", "96", "93", "92", "95", "94"};

void cli_logfmt_init(struct cli_logfmt *f, const char *project, bool color, bool prefix,
                     bool timestamps) {
  *f = (struct cli_logfmt){.project = project, .color = color, .prefix = prefix,
                           .timestamps = timestamps, .out = stdout};
}

static const char *short_name(const struct cli_logfmt *f, const char *name) {
  size_t n = strlen(f->project);
  if (strncmp(name, f->project, n) == 0 && name[n] == '-' && name[n + 1])
    return name + n + 1;
  return name;
}

static long find(const struct cli_logfmt *f, const char *name) {
  for (size_t i = 0; i < f->n_names; i++)
    if (strcmp(f->names[i], name) == 0)
      return (long)i;
  return -1;
}

void cli_logfmt_add(struct cli_logfmt *f, const char *name) {
  if (find(f, name) >= 0)
    return;
  f->names = xrealloc(f->names, (f->n_names + 1) * sizeof(char *));
  f->names[f->n_names++] = xstrdup(name);
  size_t w = strlen(short_name(f, name));
  if (w > f->width)
    f->width = w;
}

static void put_prefix(struct cli_logfmt *f, const char *name) {
  cli_logfmt_add(f, name);
  const char *s = short_name(f, name);
  if (f->color)
    fprintf(f->out, "\033[%sm%-*s |\033[0m ", palette[(size_t)find(f, name) % 10], (int)f->width,
            s);
  else
    fprintf(f->out, "%-*s | ", (int)f->width, s);
}

bool cli_logfmt_event(struct cli_logfmt *f, const cJSON *ev) {
  const char *type = cJSON_GetStringValue(cJSON_GetObjectItem(ev, "type"));
  const char *name = cJSON_GetStringValue(cJSON_GetObjectItem(ev, "name"));
  if (type == NULL || name == NULL)
    return false;
  if (strcmp(type, "log") == 0) {
    const char *line = cJSON_GetStringValue(cJSON_GetObjectItem(ev, "line"));
    if (f->prefix)
      put_prefix(f, name);
    if (f->timestamps) {
      double ms = cJSON_GetNumberValue(cJSON_GetObjectItem(ev, "time"));
      time_t t = (time_t)(ms / 1000);
      struct tm tm;
      gmtime_r(&t, &tm);
      char buf[32];
      strftime(buf, sizeof(buf), "%Y-%m-%dT%H:%M:%S", &tm);
      fprintf(f->out, "%s.%03dZ ", buf, (int)((long long)ms % 1000));
    }
    fprintf(f->out, "%s\n", line ? line : "");
  } else if (strcmp(type, "exit") == 0) {
    int code = (int)cJSON_GetNumberValue(cJSON_GetObjectItem(ev, "exit_code"));
    cli_logfmt_add(f, name);
    const char *s = short_name(f, name);
    if (f->color)
      fprintf(f->out, "\033[%sm%s exited with code %d\033[0m\n",
              palette[(size_t)find(f, name) % 10], s, code);
    else
      fprintf(f->out, "%s exited with code %d\n", s, code);
  } else {
    return false;
  }
  fflush(f->out);
  return true;
}

void cli_logfmt_free(struct cli_logfmt *f) {
  for (size_t i = 0; i < f->n_names; i++)
    free(f->names[i]);
  free(f->names);
  f->names = NULL;
  f->n_names = 0;
}
