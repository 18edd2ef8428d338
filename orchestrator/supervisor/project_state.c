#include "project_state.h"

#include <cjson/cJSON.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>

#include "runtime/util/cleanup.h"
#include "runtime/util/error.h"
#include "runtime/util/fsutil.h"
#include "runtime/util/xalloc.h"

static void cjson_deletep(cJSON **j) { cJSON_Delete(*j); }
#define _cleanup_cjson_ __attribute__((cleanup(cjson_deletep)))

static void container_clear(struct ps_container *c) {
  free(c->name);
  free(c->id);
  free(c->service);
  free(c->config_hash);
  free(c->image);
  free(c->image_id);
  free(c->command);
  free(c->disk);
  free(c->pause_reason);
  for (size_t i = 0; i < c->n_addresses; i++) {
    free(c->addresses[i].network);
    free(c->addresses[i].ip);
    free(c->addresses[i].mac);
  }
  free(c->addresses);
  health_config_clear(&c->healthcheck);
  memset(c, 0, sizeof(*c));
}

struct project_state *project_state_new(const char *project) {
  struct project_state *s = xcalloc(1, sizeof(*s));
  s->project = xstrdup(project);
  return s;
}

void project_state_free(struct project_state *s) {
  if (s == NULL)
    return;
  for (size_t i = 0; i < s->n_containers; i++)
    container_clear(&s->containers[i]);
  free(s->containers);
  free(s->project);
  free(s->working_dir);
  strv_free(s->config_files);
  free(s);
}

void project_state_freep(struct project_state **s) { project_state_free(*s); }

/* --- reading ------------------------------------------------------------ */

struct reader {
  const char *what;
  struct stack_error **err;
};

static int bad(struct reader *rd, const char *ctx, const char *field, const char *expected) {
  return stack_error_set(rd->err, -EINVAL,
                         "%s: %s%s%s must be %s; the file is damaged: stop the project's VMs "
                         "and remove it",
                         rd->what, ctx, *ctx ? "." : "", field, expected);
}

static int get_str(struct reader *rd, const cJSON *o, const char *ctx, const char *field,
                   bool required, char **out) {
  const cJSON *j = cJSON_GetObjectItemCaseSensitive(o, field);
  if (j == NULL || cJSON_IsNull(j)) {
    if (required)
      return bad(rd, ctx, field, "present");
    return 0;
  }
  if (!cJSON_IsString(j) || j->valuestring == NULL)
    return bad(rd, ctx, field, "a string");
  *out = xstrdup(j->valuestring);
  return 0;
}

static int get_int(struct reader *rd, const cJSON *o, const char *ctx, const char *field,
                   double min, double max, double *out) {
  const cJSON *j = cJSON_GetObjectItemCaseSensitive(o, field);
  if (j == NULL)
    return 0;
  double v = cJSON_GetNumberValue(j);
  /* range first: the cast below is only defined for values that fit */
  if (!cJSON_IsNumber(j) || !(v >= min && v <= max) || v != (double)(int64_t)v)
    return bad(rd, ctx, field, "a whole number in range");
  *out = v;
  return 0;
}

static int get_bool(struct reader *rd, const cJSON *o, const char *ctx, const char *field,
                    bool *out) {
  const cJSON *j = cJSON_GetObjectItemCaseSensitive(o, field);
  if (j == NULL)
    return 0;
  if (!cJSON_IsBool(j))
    return bad(rd, ctx, field, "true or false");
  *out = cJSON_IsTrue(j);
  return 0;
}

#define MAX_MS 9.0e15 /* exactly representable in a double, ~285000 years */

static int read_healthcheck(struct reader *rd, const cJSON *o, const char *ctx,
                            struct health_config *hc) {
  const cJSON *h = cJSON_GetObjectItemCaseSensitive(o, "healthcheck");
  if (h == NULL || cJSON_IsNull(h))
    return 0;
  const cJSON *test = cJSON_GetObjectItemCaseSensitive(h, "test");
  if (!cJSON_IsObject(h) || !cJSON_IsArray(test) || cJSON_GetArraySize(test) < 1)
    return bad(rd, ctx, "healthcheck", "an object with a non-empty test list");
  double interval = 0, timeout = 0, period = 0, start_interval = 0, retries = 0;
  int r;
  if ((r = get_int(rd, h, ctx, "interval", 0, MAX_MS, &interval)) < 0 ||
      (r = get_int(rd, h, ctx, "timeout", 0, MAX_MS, &timeout)) < 0 ||
      (r = get_int(rd, h, ctx, "start_period", 0, MAX_MS, &period)) < 0 ||
      (r = get_int(rd, h, ctx, "start_interval", 0, MAX_MS, &start_interval)) < 0 ||
      (r = get_int(rd, h, ctx, "retries", 0, 1e9, &retries)) < 0)
    return r;
  char **argv = xcalloc((size_t)cJSON_GetArraySize(test) + 1, sizeof(char *));
  size_t n = 0;
  const cJSON *a;
  cJSON_ArrayForEach(a, test) {
    if (!cJSON_IsString(a) || a->valuestring == NULL) {
      strv_free(argv);
      return bad(rd, ctx, "healthcheck.test", "a list of strings");
    }
    argv[n++] = xstrdup(a->valuestring);
  }
  *hc = (struct health_config){argv,
                               (int64_t)interval,
                               (int64_t)timeout,
                               (int64_t)period,
                               (int64_t)start_interval,
                               (unsigned)retries};
  return 0;
}

static int read_container(struct reader *rd, const cJSON *o, struct ps_container *c) {
  if (!cJSON_IsObject(o))
    return bad(rd, "", "containers[]", "objects");
  int r;
  if ((r = get_str(rd, o, "container", "name", true, &c->name)) < 0)
    return r;
  const char *ctx = c->name;
  _cleanup_free_ char *status = NULL, *health = NULL;
  double number = 0, exit_code = 0, restarts = 0, created = 0, started = 0, finished = 0;
  double pid = 0, start_time = 0;
  if ((r = get_str(rd, o, ctx, "id", true, &c->id)) < 0 ||
      (r = get_str(rd, o, ctx, "service", true, &c->service)) < 0 ||
      (r = get_str(rd, o, ctx, "config_hash", false, &c->config_hash)) < 0 ||
      (r = get_str(rd, o, ctx, "image", false, &c->image)) < 0 ||
      (r = get_str(rd, o, ctx, "image_id", false, &c->image_id)) < 0 ||
      (r = get_str(rd, o, ctx, "command", false, &c->command)) < 0 ||
      (r = get_str(rd, o, ctx, "disk", false, &c->disk)) < 0 ||
      (r = get_str(rd, o, ctx, "status", true, &status)) < 0 ||
      (r = get_str(rd, o, ctx, "pause_reason", false, &c->pause_reason)) < 0 ||
      (r = get_str(rd, o, ctx, "health", false, &health)) < 0 ||
      (r = get_int(rd, o, ctx, "number", 0, 1e9, &number)) < 0 ||
      (r = get_int(rd, o, ctx, "exit_code", -1, 255, &exit_code)) < 0 ||
      (r = get_int(rd, o, ctx, "restart_count", 0, 1e9, &restarts)) < 0 ||
      (r = get_int(rd, o, ctx, "created", 0, MAX_MS, &created)) < 0 ||
      (r = get_int(rd, o, ctx, "started", 0, MAX_MS, &started)) < 0 ||
      (r = get_int(rd, o, ctx, "finished", 0, MAX_MS, &finished)) < 0 ||
      (r = get_int(rd, o, ctx, "qemu_pid", 0, 4194304, &pid)) < 0 ||
      (r = get_int(rd, o, ctx, "qemu_start_time", 0, MAX_MS, &start_time)) < 0 ||
      (r = get_bool(rd, o, ctx, "user_stopped", &c->user_stopped)) < 0)
    return r;
  int st = ctr_status_parse(status);
  if (st < 0)
    return bad(rd, ctx, "status", "a container status (created, running, exited, ...)");
  int h = health ? health_status_parse(health) : HEALTH_NONE;
  if (h < 0)
    return bad(rd, ctx, "health", "starting, healthy, unhealthy or empty");
  c->status = (enum ctr_status)st;
  c->health = (enum health_status)h;
  c->number = (unsigned)number;
  c->exit_code = (int)exit_code;
  c->restart_count = (unsigned)restarts;
  c->created_ms = (int64_t)created;
  c->started_ms = (int64_t)started;
  c->finished_ms = (int64_t)finished;
  c->qemu_pid = (pid_t)pid;
  c->qemu_start_time = (uint64_t)start_time;

  if ((r = read_healthcheck(rd, o, ctx, &c->healthcheck)) < 0)
    return r;
  const cJSON *addrs = cJSON_GetObjectItemCaseSensitive(o, "addresses");
  if (addrs != NULL) {
    if (!cJSON_IsArray(addrs))
      return bad(rd, ctx, "addresses", "a list");
    int n = cJSON_GetArraySize(addrs);
    c->addresses = xcalloc((size_t)n + 1, sizeof(*c->addresses));
    const cJSON *a;
    cJSON_ArrayForEach(a, addrs) {
      struct ps_address *pa = &c->addresses[c->n_addresses++];
      if (!cJSON_IsObject(a))
        return bad(rd, ctx, "addresses[]", "objects");
      if ((r = get_str(rd, a, ctx, "network", true, &pa->network)) < 0 ||
          (r = get_str(rd, a, ctx, "ip", false, &pa->ip)) < 0 ||
          (r = get_str(rd, a, ctx, "mac", false, &pa->mac)) < 0)
        return r;
    }
  }
  return 0;
}

int project_state_parse(const char *text, size_t len, const char *what, struct project_state **out,
                        struct stack_error **err) {
  struct reader rd = {what, err};
  _cleanup_cjson_ cJSON *root = cJSON_ParseWithLength(text, len);
  if (root == NULL)
    return stack_error_set(err, -EINVAL,
                           "%s: not valid JSON; the file is damaged: stop the project's VMs and "
                           "remove it",
                           what);
  if (!cJSON_IsObject(root))
    return bad(&rd, "", "the document", "an object");
  double version = 0;
  int r = get_int(&rd, root, "", "version", 0, 1e9, &version);
  if (r < 0)
    return r;
  if (version != PROJECT_STATE_VERSION)
    return stack_error_set(err, -EPROTO,
                           "%s: state version %.0f is not %d: it was written by another version "
                           "of stack; use that version to bring the project down",
                           what, version, PROJECT_STATE_VERSION);
  _cleanup_free_ char *project = NULL;
  if ((r = get_str(&rd, root, "", "project", true, &project)) < 0)
    return r;
  _cleanup_project_state_ struct project_state *s = project_state_new(project);
  if ((r = get_str(&rd, root, "", "working_dir", false, &s->working_dir)) < 0)
    return r;
  const cJSON *files = cJSON_GetObjectItemCaseSensitive(root, "config_files");
  if (files != NULL) {
    if (!cJSON_IsArray(files))
      return bad(&rd, "", "config_files", "a list of strings");
    size_t n = 0;
    s->config_files = xcalloc((size_t)cJSON_GetArraySize(files) + 1, sizeof(char *));
    const cJSON *f;
    cJSON_ArrayForEach(f, files) {
      if (!cJSON_IsString(f) || f->valuestring == NULL)
        return bad(&rd, "", "config_files", "a list of strings");
      s->config_files[n++] = xstrdup(f->valuestring);
    }
  }
  const cJSON *ctrs = cJSON_GetObjectItemCaseSensitive(root, "containers");
  if (ctrs != NULL) {
    if (!cJSON_IsArray(ctrs))
      return bad(&rd, "", "containers", "a list");
    s->containers = xcalloc((size_t)cJSON_GetArraySize(ctrs) + 1, sizeof(*s->containers));
    const cJSON *c;
    cJSON_ArrayForEach(c, ctrs) {
      struct ps_container *pc = &s->containers[s->n_containers++];
      if ((r = read_container(&rd, c, pc)) < 0)
        return r;
      for (size_t i = 0; i + 1 < s->n_containers; i++)
        if (strcmp(s->containers[i].name, pc->name) == 0)
          return stack_error_set(err, -EINVAL, "%s: container %s is listed twice", what,
                                 pc->name);
    }
  }
  *out = steal_pointer(&s);
  return 0;
}

/* --- writing ------------------------------------------------------------ */

static void add_str(cJSON *o, const char *k, const char *v) {
  if (v != NULL)
    cJSON_AddStringToObject(o, k, v);
}

char *project_state_format(const struct project_state *s) {
  _cleanup_cjson_ cJSON *root = cJSON_CreateObject();
  cJSON_AddNumberToObject(root, "version", PROJECT_STATE_VERSION);
  add_str(root, "project", s->project);
  add_str(root, "working_dir", s->working_dir);
  if (s->config_files) {
    cJSON *files = cJSON_AddArrayToObject(root, "config_files");
    for (char **f = s->config_files; *f; f++)
      cJSON_AddItemToArray(files, cJSON_CreateString(*f));
  }
  cJSON *ctrs = cJSON_AddArrayToObject(root, "containers");
  for (size_t i = 0; i < s->n_containers; i++) {
    const struct ps_container *c = &s->containers[i];
    cJSON *o = cJSON_CreateObject();
    cJSON_AddItemToArray(ctrs, o);
    add_str(o, "name", c->name);
    add_str(o, "id", c->id);
    add_str(o, "service", c->service);
    cJSON_AddNumberToObject(o, "number", c->number);
    add_str(o, "config_hash", c->config_hash);
    add_str(o, "image", c->image);
    add_str(o, "image_id", c->image_id);
    add_str(o, "command", c->command);
    add_str(o, "status", ctr_status_name(c->status));
    if (c->status == CTR_PAUSED)
      add_str(o, "pause_reason", c->pause_reason);
    cJSON_AddNumberToObject(o, "exit_code", c->exit_code);
    add_str(o, "health", health_status_name(c->health));
    cJSON_AddNumberToObject(o, "restart_count", c->restart_count);
    cJSON_AddBoolToObject(o, "user_stopped", c->user_stopped);
    cJSON_AddNumberToObject(o, "created", (double)c->created_ms);
    cJSON_AddNumberToObject(o, "started", (double)c->started_ms);
    cJSON_AddNumberToObject(o, "finished", (double)c->finished_ms);
    add_str(o, "disk", c->disk);
    cJSON *addrs = cJSON_AddArrayToObject(o, "addresses");
    for (size_t k = 0; k < c->n_addresses; k++) {
      cJSON *a = cJSON_CreateObject();
      cJSON_AddItemToArray(addrs, a);
      add_str(a, "network", c->addresses[k].network);
      add_str(a, "ip", c->addresses[k].ip);
      add_str(a, "mac", c->addresses[k].mac);
    }
    if (c->healthcheck.argv) {
      const struct health_config *hc = &c->healthcheck;
      cJSON *h = cJSON_AddObjectToObject(o, "healthcheck");
      cJSON *test = cJSON_AddArrayToObject(h, "test");
      for (char **a = hc->argv; *a; a++)
        cJSON_AddItemToArray(test, cJSON_CreateString(*a));
      cJSON_AddNumberToObject(h, "interval", (double)hc->interval_ms);
      cJSON_AddNumberToObject(h, "timeout", (double)hc->timeout_ms);
      cJSON_AddNumberToObject(h, "start_period", (double)hc->start_period_ms);
      cJSON_AddNumberToObject(h, "start_interval", (double)hc->start_interval_ms);
      cJSON_AddNumberToObject(h, "retries", hc->retries);
    }
    cJSON_AddNumberToObject(o, "qemu_pid", c->qemu_pid);
    cJSON_AddNumberToObject(o, "qemu_start_time", (double)c->qemu_start_time);
  }
  char *text = cJSON_Print(root);
  if (text == NULL)
    abort(); /* cJSON fails only when out of memory */
  return text;
}

int project_state_load(const char *path, const char *project, struct project_state **out,
                       struct stack_error **err) {
  _cleanup_free_ char *text = NULL;
  size_t len = 0;
  int r = fs_read_file(path, PROJECT_STATE_MAX_BYTES, &text, &len, err);
  if (r == -ENOENT) {
    stack_error_free(err ? *err : NULL);
    if (err)
      *err = NULL;
    *out = project_state_new(project);
    return 0;
  }
  if (r < 0)
    return r;
  return project_state_parse(text, len, path, out, err);
}

int project_state_save(const struct project_state *s, const char *path, struct stack_error **err) {
  _cleanup_free_ char *text = project_state_format(s);
  int r = fs_write_file_atomic(path, text, strlen(text), 0600, err);
  if (r < 0)
    stack_error_prefix(err, "cannot save the project state (%s keeps its previous content)",
                       path);
  return r;
}

/* --- editing ------------------------------------------------------------ */

struct ps_container *project_state_find(struct project_state *s, const char *name) {
  for (size_t i = 0; i < s->n_containers; i++)
    if (strcmp(s->containers[i].name, name) == 0)
      return &s->containers[i];
  return NULL;
}

static char *random_id(void) {
  unsigned char b[32];
  size_t got = 0;
  while (got < sizeof(b)) {
    ssize_t n = getrandom(b + got, sizeof(b) - got, 0);
    if (n < 0 && errno != EINTR)
      abort(); /* getrandom(2) cannot fail for 32 bytes without flags */
    if (n > 0)
      got += (size_t)n;
  }
  char *id = xmalloc(65);
  for (size_t i = 0; i < sizeof(b); i++)
    snprintf(id + 2 * i, 3, "%02x", b[i]);
  return id;
}

struct ps_container *project_state_add(struct project_state *s, const char *name,
                                       const char *service, unsigned number) {
  s->containers = xrealloc(s->containers, (s->n_containers + 1) * sizeof(*s->containers));
  struct ps_container *c = &s->containers[s->n_containers++];
  *c = (struct ps_container){0};
  c->name = xstrdup(name);
  c->service = xstrdup(service);
  c->number = number;
  c->id = random_id();
  c->status = CTR_CREATED;
  return c;
}

bool project_state_remove(struct project_state *s, const char *name) {
  struct ps_container *c = project_state_find(s, name);
  if (c == NULL)
    return false;
  container_clear(c);
  size_t i = (size_t)(c - s->containers);
  memmove(c, c + 1, (s->n_containers - i - 1) * sizeof(*c));
  s->n_containers--;
  return true;
}

size_t project_state_reconcile(struct project_state *s, int64_t now_ms,
                               bool (*is_alive)(pid_t pid, uint64_t start_time, void *ctx),
                               void *ctx) {
  size_t changed = 0;
  for (size_t i = 0; i < s->n_containers; i++) {
    struct ps_container *c = &s->containers[i];
    bool has_vm = c->status == CTR_RUNNING || c->status == CTR_PAUSED ||
                  c->status == CTR_RESTARTING || c->qemu_pid > 0;
    if (!has_vm || (c->qemu_pid > 0 && is_alive(c->qemu_pid, c->qemu_start_time, ctx)))
      continue;
    if (c->status == CTR_RUNNING || c->status == CTR_PAUSED || c->status == CTR_RESTARTING) {
      c->status = CTR_EXITED;
      c->exit_code = 255;
      c->finished_ms = now_ms;
      c->health = HEALTH_NONE;
    }
    c->qemu_pid = 0;
    c->qemu_start_time = 0;
    changed++;
  }
  return changed;
}
