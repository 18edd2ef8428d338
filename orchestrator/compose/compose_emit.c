/* `stack config` output.  YAML goes through libyaml's emitter and JSON
 * through cJSON; both list mapping keys in compose-go's order (the field
 * order of its Go structs, then extensions; dictionaries sorted). */
#include "compose_emit.h"

#include <cjson/cJSON.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <yaml.h>

#include "compose_path.h"
#include "compose_scalar.h"
#include "runtime/util/cleanup.h"
#include "runtime/util/error.h"
#include "runtime/util/sbuf.h"
#include "runtime/util/xalloc.h"

struct order {
  const char *pattern;
  const char *keys; /* space-separated, in output order */
};

static const struct order orders[] = {
    {"", "name services networks volumes secrets configs models"},
    {"services.*",
     "name profiles annotations attach build develop blkio_config cap_add cap_drop cgroup_parent "
     "cgroup cpu_count cpu_percent cpu_period cpu_quota cpu_rt_period cpu_rt_runtime cpus cpuset "
     "cpu_shares command configs container_name credential_spec depends_on deploy "
     "device_cgroup_rules devices dns dns_opt dns_search dockerfile domainname entrypoint "
     "provider environment env_file expose extends external_links extra_hosts group_add gpus "
     "hostname healthcheck image init ipc isolation labels label_file links logging mem_limit "
     "mem_reservation memswap_limit mem_swappiness mac_address models network_mode networks "
     "oom_kill_disable oom_score_adj pid pids_limit platform ports privileged pull_policy "
     "pull_refresh_after read_only restart runtime scale secrets security_opt shm_size stdin_open "
     "stop_grace_period stop_signal storage_opt sysctls tmpfs tty ulimits use_api_socket user "
     "userns_mode uts volumes volumes_from working_dir post_start pre_stop"},
    {"services.*.build",
     "context dockerfile dockerfile_inline entitlements args ssh labels cache_from cache_to "
     "no_cache additional_contexts network provenance sbom pull target shm_size extra_hosts "
     "isolation privileged secrets tags ulimits platforms"},
    {"services.*.ports.[]", "name mode host_ip target published protocol app_protocol"},
    {"services.*.volumes.[]", "type source target read_only consistency bind volume tmpfs image"},
    {"services.*.volumes.[].bind", "propagation create_host_path selinux recursive"},
    {"services.*.volumes.[].volume", "nocopy subpath labels"},
    {"services.*.volumes.[].tmpfs", "size mode"},
    {"services.*.healthcheck",
     "test timeout interval retries start_period start_interval disable"},
    {"services.*.deploy",
     "mode replicas labels update_config rollback_config resources restart_policy placement "
     "endpoint_mode"},
    {"services.*.deploy.update_config|rollback_config",
     "parallelism delay failure_action monitor max_failure_ratio order"},
    {"services.*.deploy.resources", "limits reservations"},
    {"services.*.deploy.resources.limits|reservations",
     "cpus memory pids generic_resources devices"},
    {"services.*.deploy.restart_policy", "condition delay max_attempts window"},
    {"services.*.deploy.placement", "constraints preferences max_replicas_per_node"},
    {"services.*.depends_on.*", "condition restart required"},
    {"services.*.secrets|configs.[]", "source target uid gid mode"},
    {"services.*.build.secrets.[]", "source target uid gid mode"},
    {"services.*.env_file.[]", "path required format"},
    {"services.*.networks.*",
     "aliases interface_name ipv4_address ipv6_address link_local_ips mac_address driver_opts "
     "priority gw_priority"},
    {"services.*.devices.[]", "source target permissions"},
    {"services.*.logging", "driver options"},
    {"services.*.ulimits.*", "soft hard"},
    {"services.*.extends", "service file"},
    {"networks.*",
     "name driver driver_opts ipam external internal attachable enable_ipv4 enable_ipv6 labels"},
    {"networks.*.ipam", "driver config options"},
    {"networks.*.ipam.config.[]", "subnet gateway ip_range aux_addresses"},
    {"volumes.*", "name driver driver_opts external labels"},
    {"secrets.*",
     "name file environment content external labels driver driver_opts template_driver"},
    {"configs.*", "name file environment content external labels template_driver"},
};

#define N_ORDERS (sizeof(orders) / sizeof(orders[0]))

/* Pattern depths of orders[], computed once per output. */
struct order_depths {
  size_t d[N_ORDERS];
};

static void order_depths_init(struct order_depths *od) {
  for (size_t i = 0; i < N_ORDERS; i++)
    od->d[i] = cpath_pattern_depth(orders[i].pattern);
}

static int field_rank(const char *keys, const char *k) {
  size_t kl = strlen(k);
  int rank = 0;
  for (const char *p = keys; *p;) {
    const char *sp = strchr(p, ' ');
    size_t l = sp ? (size_t)(sp - p) : strlen(p);
    if (l == kl && memcmp(p, k, l) == 0)
      return rank;
    rank++;
    p += l + (sp ? 1 : 0);
  }
  return -1;
}

struct keyed {
  const struct cnode_pair *pair;
  int rank; /* struct field position; INT_MAX-ish for others */
};

static int cmp_keyed(const void *a, const void *b) {
  const struct keyed *x = a, *y = b;
  if (x->rank != y->rank)
    return x->rank < y->rank ? -1 : 1;
  return strcmp(x->pair->key->str, y->pair->key->str);
}

/* The pairs of map in output order (caller frees the array). */
static struct keyed *ordered(const struct cnode *map, const struct cpath *path,
                             const struct order_depths *od) {
  const char *keys = NULL;
  for (size_t i = 0; i < N_ORDERS && !keys; i++)
    if (od->d[i] == path->depth &&
        (path->depth == 0 || cpath_match(orders[i].pattern, path)))
      keys = orders[i].keys;
  struct keyed *k = xcalloc(map->n + 1, sizeof(*k));
  for (size_t i = 0; i < map->n; i++) {
    const char *name = map->pairs[i].key->str;
    int r = keys ? field_rank(keys, name) : -1;
    if (r < 0)
      r = strncmp(name, "x-", 2) == 0 ? 100001 : (keys ? 100000 : 0);
    k[i] = (struct keyed){&map->pairs[i], r};
  }
  qsort(k, map->n, sizeof(*k), cmp_keyed);
  return k;
}

static char *escaped(const char *s, bool escape_dollar) {
  if (!escape_dollar || strchr(s, '$') == NULL)
    return xstrdup(s);
  struct sbuf b = SBUF_INIT;
  for (; *s; s++) {
    if (*s == '$')
      sbuf_putc(&b, '$');
    sbuf_putc(&b, *s);
  }
  return sbuf_steal(&b);
}

/* ---- YAML ---------------------------------------------------------------- */

struct yemit {
  yaml_emitter_t em;
  bool escape_dollar;
  struct cpath path;
  struct order_depths od;
  struct stack_error **err;
};

static int emit_event(struct yemit *y, yaml_event_t *ev) {
  if (!yaml_emitter_emit(&y->em, ev))
    return stack_error_set(y->err, -EIO, "writing YAML: %s",
                           y->em.problem ? y->em.problem : "emitter error");
  return 0;
}

/* Strings that YAML 1.1 readers (docker-compose 1.x, PyYAML) would take
 * for booleans or sexagesimal numbers are quoted too, as yaml.v3 does. */
static bool reads_as_yaml11(const char *s) {
  static const char *const words[] = {"y",  "Y",  "yes", "Yes", "YES", "n",   "N",   "no",
                                      "No", "NO", "on",  "On",  "ON",  "off", "Off", "OFF"};
  for (size_t i = 0; i < sizeof(words) / sizeof(words[0]); i++)
    if (strcmp(s, words[i]) == 0)
      return true;
  /* base 60: [-+]?[0-9][0-9_]*(:[0-5]?[0-9])+(\.[0-9_]*)? */
  const char *p = s + (*s == '+' || *s == '-');
  if (!(*p >= '0' && *p <= '9'))
    return false;
  while ((*p >= '0' && *p <= '9') || *p == '_')
    p++;
  bool colon = false;
  while (*p == ':') {
    p++;
    const char *start = p;
    while (*p >= '0' && *p <= '9')
      p++;
    if (p == start || p - start > 2 || (p - start == 2 && start[0] > '5'))
      return false;
    colon = true;
  }
  if (*p == '.')
    for (p++; (*p >= '0' && *p <= '9') || *p == '_'; p++)
      ;
  return colon && *p == '\0';
}

static int emit_scalar(struct yemit *y, const char *text, bool string) {
  yaml_event_t ev;
  yaml_scalar_style_t style = YAML_PLAIN_SCALAR_STYLE;
  _cleanup_free_ char *s = string ? escaped(text, y->escape_dollar) : xstrdup(text);
  if (string) {
    /* a string that would read back as something else is quoted, as Go's
     * yaml.v3 does; libyaml picks quoting for the rest as needed */
    if (cscalar_type_of(s) != CSCALAR_STRING || reads_as_yaml11(s))
      style = YAML_DOUBLE_QUOTED_SCALAR_STYLE;
    else if (strchr(s, '\n'))
      style = YAML_LITERAL_SCALAR_STYLE;
    else
      style = YAML_ANY_SCALAR_STYLE;
  }
  yaml_scalar_event_initialize(&ev, NULL, NULL, (yaml_char_t *)s, (int)strlen(s), 1, 1, style);
  return emit_event(y, &ev);
}

static int emit_node(struct yemit *y, const struct cnode *n) {
  yaml_event_t ev;
  int r;
  if (n == NULL || n->kind == CNODE_NULL || (n->kind == CNODE_SCALAR && !n->quoted &&
                                             cnode_is_null(n)))
    return emit_scalar(y, "null", false);
  if (n->kind == CNODE_SCALAR)
    return emit_scalar(y, n->str, n->quoted);
  if (y->path.depth >= CPATH_MAX_DEPTH)
    return stack_error_set(y->err, -E2BIG, "the project is nested too deeply to print");
  if (n->kind == CNODE_SEQ) {
    yaml_sequence_start_event_initialize(&ev, NULL, NULL, 1,
                                         n->n ? YAML_BLOCK_SEQUENCE_STYLE
                                              : YAML_FLOW_SEQUENCE_STYLE);
    if ((r = emit_event(y, &ev)) < 0)
      return r;
    y->path.segs[y->path.depth++] = NULL;
    for (size_t i = 0; i < n->n; i++)
      if ((r = emit_node(y, n->items[i])) < 0)
        return r;
    y->path.depth--;
    yaml_sequence_end_event_initialize(&ev);
    return emit_event(y, &ev);
  }
  yaml_mapping_start_event_initialize(&ev, NULL, NULL, 1,
                                      n->n ? YAML_BLOCK_MAPPING_STYLE : YAML_FLOW_MAPPING_STYLE);
  if ((r = emit_event(y, &ev)) < 0)
    return r;
  _cleanup_free_ struct keyed *k = ordered(n, &y->path, &y->od);
  for (size_t i = 0; i < n->n; i++) {
    const char *key = k[i].pair->key->str;
    if ((r = emit_scalar(y, key, true)) < 0)
      return r;
    y->path.segs[y->path.depth++] = key;
    r = emit_node(y, k[i].pair->value);
    y->path.depth--;
    if (r < 0)
      return r;
  }
  yaml_mapping_end_event_initialize(&ev);
  return emit_event(y, &ev);
}

static int write_handler(void *data, unsigned char *buffer, size_t size) {
  sbuf_append(data, buffer, size);
  return 1;
}

static int emit_yaml(struct sbuf *out, const struct cnode *project, bool escape_dollar,
                     struct stack_error **err) {
  struct yemit y = {.escape_dollar = escape_dollar, .err = err};
  order_depths_init(&y.od);
  yaml_emitter_initialize(&y.em);
  yaml_emitter_set_output(&y.em, write_handler, out);
  yaml_emitter_set_unicode(&y.em, 1);
  yaml_emitter_set_width(&y.em, -1);
  yaml_emitter_set_indent(&y.em, 2);
  yaml_event_t ev;
  yaml_stream_start_event_initialize(&ev, YAML_UTF8_ENCODING);
  int r = emit_event(&y, &ev);
  if (r == 0) {
    yaml_document_start_event_initialize(&ev, NULL, NULL, NULL, 1);
    r = emit_event(&y, &ev);
  }
  if (r == 0)
    r = emit_node(&y, project);
  if (r == 0) {
    yaml_document_end_event_initialize(&ev, 1);
    r = emit_event(&y, &ev);
  }
  if (r == 0) {
    yaml_stream_end_event_initialize(&ev);
    r = emit_event(&y, &ev);
  }
  yaml_emitter_delete(&y.em);
  return r;
}

/* ---- JSON ---------------------------------------------------------------- */

static cJSON *json_node(const struct cnode *n, struct cpath *path, const struct order_depths *od,
                        bool escape_dollar) {
  if (n == NULL || n->kind == CNODE_NULL || (n->kind == CNODE_SCALAR && !n->quoted &&
                                             cnode_is_null(n)))
    return cJSON_CreateNull();
  if (n->kind == CNODE_SCALAR) {
    if (n->quoted) {
      _cleanup_free_ char *s = escaped(n->str, escape_dollar);
      return cJSON_CreateString(s);
    }
    bool b;
    int64_t i;
    double d;
    switch (cscalar_type(n)) {
    case CSCALAR_BOOL:
      cscalar_parse_bool(n->str, &b);
      return cJSON_CreateBool(b);
    case CSCALAR_INT:
      if (cscalar_parse_int(n->str, &i)) {
        char buf[32];
        snprintf(buf, sizeof(buf), "%lld", (long long)i);
        return cJSON_CreateRaw(buf); /* exact, beyond 2^53 too */
      }
      return cJSON_CreateString(n->str);
    case CSCALAR_FLOAT:
      if (cscalar_parse_float(n->str, &d) && d == d && d - d == 0)
        return cJSON_CreateNumber(d);
      return cJSON_CreateString(n->str);
    default:
      return cJSON_CreateString(n->str);
    }
  }
  if (path->depth >= CPATH_MAX_DEPTH)
    return cJSON_CreateNull();
  if (n->kind == CNODE_SEQ) {
    cJSON *a = cJSON_CreateArray();
    path->segs[path->depth++] = NULL;
    for (size_t i = 0; i < n->n; i++)
      cJSON_AddItemToArray(a, json_node(n->items[i], path, od, escape_dollar));
    path->depth--;
    return a;
  }
  cJSON *o = cJSON_CreateObject();
  /* od NULL: the tree's own order */
  _cleanup_free_ struct keyed *k = od ? ordered(n, path, od) : NULL;
  for (size_t i = 0; i < n->n; i++) {
    const struct cnode_pair *pair = k ? k[i].pair : &n->pairs[i];
    const char *key = pair->key->str;
    path->segs[path->depth++] = key;
    cJSON_AddItemToObject(o, key, json_node(pair->value, path, od, escape_dollar));
    path->depth--;
  }
  return o;
}

cJSON *compose_emit_json_tree(const struct cnode *n, bool escape_dollar) {
  struct cpath path = {.depth = 0};
  return json_node(n, &path, NULL, escape_dollar);
}

static int emit_json(struct sbuf *out, const struct cnode *project, bool escape_dollar,
                     struct stack_error **err) {
  struct cpath path = {.depth = 0};
  struct order_depths od;
  order_depths_init(&od);
  cJSON *j = json_node(project, &path, &od, escape_dollar);
  char *text = cJSON_Print(j);
  cJSON_Delete(j);
  if (text == NULL)
    return stack_error_set(err, -ENOMEM, "formatting JSON failed");
  /* cJSON indents with tabs and writes "key":<tab>value; print it the way
   * `docker compose config --format json` does (two spaces, "key": value).
   * Tabs inside strings are escaped by cJSON, so every tab is layout. */
  for (const char *p = text; *p; p++) {
    if (*p != '\t')
      sbuf_putc(out, *p);
    else if (p > text && p[-1] == ':')
      sbuf_putc(out, ' ');
    else
      sbuf_puts(out, "  ");
  }
  sbuf_putc(out, '\n');
  cJSON_free(text);
  return 0;
}

int compose_emit_string(char **text, const struct cnode *project, enum compose_emit_format fmt,
                        bool escape_dollar, struct stack_error **err) {
  _cleanup_sbuf_ struct sbuf b = SBUF_INIT;
  static const struct cnode empty = {.kind = CNODE_MAP};
  if (project == NULL)
    project = &empty;
  int r = fmt == COMPOSE_EMIT_JSON ? emit_json(&b, project, escape_dollar, err)
                                   : emit_yaml(&b, project, escape_dollar, err);
  if (r < 0)
    return r;
  *text = sbuf_steal(&b);
  return 0;
}

int compose_emit(FILE *out, const struct cnode *project, enum compose_emit_format fmt,
                 bool escape_dollar, struct stack_error **err) {
  _cleanup_free_ char *text = NULL;
  int r = compose_emit_string(&text, project, fmt, escape_dollar, err);
  if (r < 0)
    return r;
  size_t len = strlen(text);
  if (fwrite(text, 1, len, out) != len || fflush(out) != 0)
    return stack_error_errno(err, -errno, "writing the configuration");
  return 0;
}
