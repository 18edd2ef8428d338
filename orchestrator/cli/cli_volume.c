/* `stack volume ls|inspect|rm|prune|create`: the named volumes of this host
 * (volume_store.h), printed as `docker volume ...` prints them: every
 * volume, whatever project applies (a project's: `-f
 * label=com.docker.compose.project=NAME`). */
#include <cjson/cJSON.h>
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "cli.h"
#include "cli_args.h"
#include "cli_host.h"
#include "cli_prompt.h"
#include "cli_table.h"
#include "orchestrator/supervisor/volume_store.h"
#include "runtime/util/bytesize.h"
#include "runtime/util/cjson_cleanup.h"
#include "runtime/util/cleanup.h"
#include "runtime/util/du.h"
#include "runtime/util/error.h"
#include "runtime/util/json_print.h"
#include "runtime/util/xalloc.h"

struct vol_list {
  struct volume_info *v;
  size_t n;
};

static void vol_list_free(struct vol_list *l) {
  for (size_t i = 0; i < l->n; i++)
    volume_info_clear(&l->v[i]);
  free(l->v);
}

static const char *label_value(const struct volume_info *v, const char *key) {
  size_t n = strlen(key);
  for (char **l = v->labels; l && *l; l++)
    if (strncmp(*l, key, n) == 0 && (*l)[n] == '=')
      return *l + n + 1;
  return NULL;
}

/* Docker's filters: dangling=true|false, name=SUBSTRING, label=KEY or
 * label=KEY=VALUE, driver=local.  Each key given must match (values of
 * one key: any of them). */
struct vol_filter {
  char **f; /* "key=value" */
  size_t n;
};

static void vol_filter_free(struct vol_filter *vf) { strv_free(vf->f); }

static int filter_add(struct vol_filter *vf, const char *arg, const char *verb) {
  const char *eq = strchr(arg, '=');
  if (eq == NULL || eq == arg) {
    fprintf(stderr, "stack volume %s: bad format of filter (expected name=value)\n", verb);
    return -1;
  }
  size_t k = (size_t)(eq - arg);
  if (!(k == 8 && strncmp(arg, "dangling", k) == 0) && !(k == 4 && strncmp(arg, "name", k) == 0) &&
      !(k == 5 && strncmp(arg, "label", k) == 0) && !(k == 6 && strncmp(arg, "driver", k) == 0)) {
    fprintf(stderr, "stack volume %s: invalid filter '%.*s'\n", verb, (int)k, arg);
    return -1;
  }
  if (k == 8 && strcmp(eq + 1, "true") != 0 && strcmp(eq + 1, "false") != 0 &&
      strcmp(eq + 1, "1") != 0 && strcmp(eq + 1, "0") != 0) {
    fprintf(stderr, "stack volume %s: invalid filter 'dangling=%s'\n", verb, eq + 1);
    return -1;
  }
  vf->f = xrealloc(vf->f, (vf->n + 2) * sizeof(char *));
  vf->f[vf->n++] = xstrdup(arg);
  vf->f[vf->n] = NULL;
  return 0;
}

static bool label_matches(const struct volume_info *v, const char *want) {
  const char *eq = strchr(want, '=');
  _cleanup_free_ char *key = eq ? xstrndup(want, (size_t)(eq - want)) : xstrdup(want);
  const char *have = label_value(v, key);
  return have && (eq == NULL || strcmp(have, eq + 1) == 0);
}

static bool filter_match(const struct vol_filter *vf, const struct volume_info *v) {
  static const char *const keys[] = {"dangling", "name", "label", "driver"};
  for (size_t k = 0; k < 4; k++) {
    size_t kl = strlen(keys[k]);
    bool given = false, any = false;
    for (size_t i = 0; i < vf->n; i++) {
      if (strncmp(vf->f[i], keys[k], kl) != 0 || vf->f[i][kl] != '=')
        continue;
      given = true;
      const char *val = vf->f[i] + kl + 1;
      if (k == 0) {
        _cleanup_strv_ char **users = volume_store_users(v->name);
        bool want = strcmp(val, "true") == 0 || strcmp(val, "1") == 0;
        any |= (users == NULL) == want;
      } else if (k == 1) {
        any |= strstr(v->name, val) != NULL;
      } else if (k == 2) {
        any |= label_matches(v, val);
      } else {
        any |= strcmp(val, "local") == 0;
      }
    }
    /* label filters must all match (Docker ANDs them) */
    if (k == 2)
      for (size_t i = 0; i < vf->n; i++)
        if (strncmp(vf->f[i], "label=", 6) == 0 && !label_matches(v, vf->f[i] + 6))
          return false;
    if (given && !any)
      return false;
  }
  return true;
}

static char *labels_joined(const struct volume_info *v) {
  size_t len = 1;
  for (char **l = v->labels; l && *l; l++)
    len += strlen(*l) + 1;
  char *s = xcalloc(1, len);
  for (char **l = v->labels; l && *l; l++) {
    if (*s)
      strcat(s, ",");
    strcat(s, *l);
  }
  return s;
}

static void print_created(int64_t t, char *buf, size_t len) {
  time_t tt = (time_t)t;
  struct tm tm;
  gmtime_r(&tt, &tm);
  strftime(buf, len, "%Y-%m-%dT%H:%M:%SZ", &tm);
}

static void ls_usage(FILE *f, const char *prog) {
  fprintf(f,
          "Usage:  %s volume ls [OPTIONS]\n\n"
          "List volumes\n\n"
          "Aliases:\n  %s volume ls, %s volume list\n\n"
          "Options:\n"
          "  -f, --filter filter   Provide filter values (e.g. \"dangling=true\")\n"
          "      --format string   Format output: table (default) or json\n"
          "  -q, --quiet           Only display volume names\n",
          prog, prog, prog);
}

static int volume_ls(struct cli_globals *g, int argc, char **argv) {
  static const struct option opts[] = {
      {"filter", required_argument, NULL, 'f'}, {"format", required_argument, NULL, 'F'},
      {"quiet", no_argument, NULL, 'q'},        {"help", no_argument, NULL, 'h'},
      {NULL, 0, NULL, 0},
  };
  bool quiet = false, json = false;
  __attribute__((cleanup(vol_filter_free))) struct vol_filter vf = {0};
  int c;
  while ((c = getopt_long(argc, argv, "f:qh", opts, NULL)) != -1) {
    switch (c) {
    case 'f':
      if (filter_add(&vf, optarg, "ls") < 0)
        return 1;
      break;
    case 'F':
      if (strcmp(optarg, "json") == 0 || strcmp(optarg, "{{json .}}") == 0)
        json = true;
      else if (strcmp(optarg, "table") != 0) {
        fprintf(stderr, "stack volume ls: unsupported format \"%s\": use table or json\n",
                optarg);
        return 1;
      }
      break;
    case 'q':
      quiet = true;
      break;
    case 'h':
      ls_usage(stdout, g->progname);
      return 0;
    default:
      ls_usage(stderr, g->progname);
      return 1;
    }
  }
  if (optind < argc) {
    fprintf(stderr, "stack volume ls: accepts no arguments\n");
    return 1;
  }
  __attribute__((cleanup(vol_list_free))) struct vol_list l = {0};
  _cleanup_error_ struct stack_error *err = NULL;
  if (volume_store_list(&l.v, &l.n, &err) < 0) {
    stack_error_print(err);
    return 1;
  }
  struct cli_table t;
  static const char *const header[] = {"DRIVER", "VOLUME NAME"};
  cli_table_init(&t, 2, header);
  t.minwidth = 10;
  for (size_t i = 0; i < l.n; i++) {
    const struct volume_info *v = &l.v[i];
    if (!filter_match(&vf, v))
      continue;
    if (quiet) {
      printf("%s\n", v->name);
    } else if (json) {
      _cleanup_cjson_ cJSON *o = cJSON_CreateObject();
      _cleanup_free_ char *labels = labels_joined(v);
      cJSON_AddStringToObject(o, "Availability", "N/A");
      cJSON_AddStringToObject(o, "Driver", "local");
      cJSON_AddStringToObject(o, "Group", "N/A");
      cJSON_AddStringToObject(o, "Labels", labels);
      cJSON_AddStringToObject(o, "Links", "N/A");
      cJSON_AddStringToObject(o, "Mountpoint", v->mountpoint);
      cJSON_AddStringToObject(o, "Name", v->name);
      cJSON_AddStringToObject(o, "Scope", "local");
      cJSON_AddStringToObject(o, "Size", "N/A");
      cJSON_AddStringToObject(o, "Status", "N/A");
      _cleanup_free_ char *line = cJSON_PrintUnformatted(o);
      printf("%s\n", line);
    } else {
      const char *row[] = {"local", v->name};
      cli_table_add(&t, row);
    }
  }
  if (!quiet && !json)
    cli_table_print(&t, stdout);
  cli_table_free(&t);
  return 0;
}

static cJSON *inspect_json(const struct volume_info *v) {
  cJSON *o = cJSON_CreateObject();
  char when[32];
  print_created(v->created, when, sizeof(when));
  cJSON_AddStringToObject(o, "CreatedAt", when);
  cJSON_AddStringToObject(o, "Driver", "local");
  if (v->labels) {
    cJSON *l = cJSON_AddObjectToObject(o, "Labels");
    for (char **p = v->labels; *p; p++) {
      const char *eq = strchr(*p, '=');
      _cleanup_free_ char *key = xstrndup(*p, (size_t)(eq - *p));
      cJSON_AddStringToObject(l, key, eq + 1);
    }
  } else {
    cJSON_AddNullToObject(o, "Labels");
  }
  cJSON_AddStringToObject(o, "Mountpoint", v->mountpoint);
  cJSON_AddStringToObject(o, "Name", v->name);
  cJSON_AddNullToObject(o, "Options");
  cJSON_AddStringToObject(o, "Scope", "local");
  return o;
}

static int volume_inspect(struct cli_globals *g, int argc, char **argv) {
  static const struct option opts[] = {
      {"format", required_argument, NULL, 'f'}, {"help", no_argument, NULL, 'h'},
      {NULL, 0, NULL, 0},
  };
  int c;
  while ((c = getopt_long(argc, argv, "f:h", opts, NULL)) != -1) {
    if (c == 'f' && (strcmp(optarg, "json") == 0 || strcmp(optarg, "{{json .}}") == 0))
      continue;
    FILE *f = c == 'h' ? stdout : stderr;
    if (c == 'f')
      fprintf(stderr, "stack volume inspect: unsupported format \"%s\": only json\n", optarg);
    fprintf(f,
            "Usage:  %s volume inspect [OPTIONS] VOLUME [VOLUME...]\n\n"
            "Display detailed information on one or more volumes\n\n"
            "Options:\n"
            "  -f, --format string   Format output: json (the default)\n",
            g->progname);
    return c == 'h' ? 0 : 1;
  }
  if (!cli_need_args(g->progname, argc, optind, "volume inspect",
                     "[OPTIONS] VOLUME [VOLUME...]"))
    return 1;
  _cleanup_cjson_ cJSON *arr = cJSON_CreateArray();
  int rc = 0;
  _cleanup_strv_ char **missing = NULL;
  size_t nmissing = 0;
  for (int i = optind; i < argc; i++) {
    struct volume_info v;
    if (volume_store_get(argv[i], &v, NULL) < 0) {
      missing = xrealloc(missing, (nmissing + 2) * sizeof(char *));
      missing[nmissing++] = xstrdup(argv[i]);
      missing[nmissing] = NULL;
      rc = 1;
      continue;
    }
    cJSON_AddItemToArray(arr, inspect_json(&v));
    volume_info_clear(&v);
  }
  _cleanup_free_ char *text = json_print_indented(arr, "    ");
  printf("%s\n", text);
  for (size_t i = 0; i < nmissing; i++)
    fprintf(stderr, "Error: No such volume: %s\n", missing[i]);
  return rc;
}

/* Removes one volume unless a container uses it; 0, or 1 after printing
 * why not (as the Docker daemon words it). */
static int remove_one(const char *name, bool force, uint64_t *freed) {
  struct volume_info v;
  _cleanup_error_ struct stack_error *err = NULL;
  if (volume_store_get(name, &v, &err) < 0) {
    if (force)
      return 0;
    fprintf(stderr, "Error response from daemon: %s\n", err->msg);
    return 1;
  }
  _cleanup_strv_ char **users = volume_store_users(name);
  if (users) {
    fprintf(stderr, "Error response from daemon: remove %s: volume is in use - [", name);
    for (char **u = users; *u; u++)
      fprintf(stderr, "%s%s", u == users ? "" : ", ", strchr(*u, '/') + 1);
    fprintf(stderr, "]\n");
    volume_info_clear(&v);
    return 1;
  }
  if (freed)
    *freed += fs_content_size(v.mountpoint);
  volume_info_clear(&v);
  if (volume_store_remove(name, &err) < 0) {
    fprintf(stderr, "Error response from daemon: %s\n", err->msg);
    return 1;
  }
  return 0;
}

static int volume_rm(struct cli_globals *g, int argc, char **argv) {
  static const struct option opts[] = {
      {"force", no_argument, NULL, 'f'}, {"help", no_argument, NULL, 'h'}, {NULL, 0, NULL, 0}};
  bool force = false;
  int c;
  while ((c = getopt_long(argc, argv, "fh", opts, NULL)) != -1) {
    if (c == 'f') {
      force = true;
      continue;
    }
    fprintf(c == 'h' ? stdout : stderr,
            "Usage:  %s volume rm [OPTIONS] VOLUME [VOLUME...]\n\n"
            "Remove one or more volumes. You cannot remove a volume that is in use by a "
            "container.\n\n"
            "Aliases:\n  %s volume rm, %s volume remove\n\n"
            "Options:\n"
            "  -f, --force   Force the removal of one or more volumes\n",
            g->progname, g->progname, g->progname);
    return c == 'h' ? 0 : 1;
  }
  if (!cli_need_args(g->progname, argc, optind, "volume rm",
                     "[OPTIONS] VOLUME [VOLUME...]"))
    return 1;
  int rc = 0;
  for (int i = optind; i < argc; i++) {
    if (remove_one(argv[i], force, NULL) == 0)
      printf("%s\n", argv[i]);
    else
      rc = 1;
  }
  return rc;
}

int cli_volume_prune_unused(bool all, char *const *label_filters, uint64_t *freed) {
  struct vol_filter vf = {.f = (char **)label_filters};
  for (char *const *f = label_filters; f && *f; f++)
    vf.n++;
  __attribute__((cleanup(vol_list_free))) struct vol_list l = {0};
  _cleanup_error_ struct stack_error *err = NULL;
  if (volume_store_list(&l.v, &l.n, &err) < 0) {
    stack_error_print(err);
    return 1;
  }
  bool header = false;
  int rc = 0;
  for (size_t i = 0; i < l.n; i++) {
    const struct volume_info *v = &l.v[i];
    if ((!all && label_value(v, VOLUME_LABEL_ANONYMOUS) == NULL) || !filter_match(&vf, v))
      continue;
    _cleanup_strv_ char **users = volume_store_users(v->name);
    if (users)
      continue;
    if (remove_one(v->name, false, freed) != 0) {
      rc = 1;
      continue;
    }
    if (!header)
      printf("Deleted Volumes:\n");
    header = true;
    printf("%s\n", v->name);
  }
  if (header)
    printf("\n");
  return rc;
}

static int volume_prune(struct cli_globals *g, int argc, char **argv) {
  static const struct option opts[] = {
      {"all", no_argument, NULL, 'a'},          {"force", no_argument, NULL, 'f'},
      {"filter", required_argument, NULL, 'F'}, {"help", no_argument, NULL, 'h'},
      {NULL, 0, NULL, 0},
  };
  bool all = false, force = false;
  __attribute__((cleanup(vol_filter_free))) struct vol_filter vf = {0};
  int c;
  while ((c = getopt_long(argc, argv, "afh", opts, NULL)) != -1) {
    if (c == 'a')
      all = true;
    else if (c == 'f')
      force = true;
    else if (c == 'F' && strncmp(optarg, "label", 5) == 0 && filter_add(&vf, optarg, "prune") == 0)
      continue;
    else {
      if (c == 'F')
        fprintf(stderr, "stack volume prune: only label filters apply here\n");
      fprintf(c == 'h' ? stdout : stderr,
              "Usage:  %s volume prune [OPTIONS]\n\n"
              "Remove unused local volumes\n\n"
              "Options:\n"
              "  -a, --all             Remove all unused volumes, not just anonymous ones\n"
              "      --filter filter   Provide filter values (e.g. \"label=<label>\")\n"
              "  -f, --force           Do not prompt for confirmation\n",
              g->progname);
      return c == 'h' ? 0 : 1;
    }
  }
  if (!force &&
      !cli_confirm(all ? "WARNING! This will remove all local volumes not used by at least one "
                         "container.\n"
                       : "WARNING! This will remove anonymous local volumes not used by at "
                         "least one container.\n"))
    return 0;
  uint64_t freed = 0;
  int rc = cli_volume_prune_unused(all, vf.f, &freed);
  _cleanup_free_ char *size = human_size_si((double)freed, 4);
  printf("Total reclaimed space: %s\n", size);
  return rc;
}

static int volume_create(struct cli_globals *g, int argc, char **argv) {
  static const struct option opts[] = {
      {"label", required_argument, NULL, 'l'}, {"driver", required_argument, NULL, 'd'},
      {"opt", required_argument, NULL, 'o'},   {"name", required_argument, NULL, 'n'},
      {"help", no_argument, NULL, 'h'},        {NULL, 0, NULL, 0},
  };
  _cleanup_strv_ char **labels = xcalloc(1, sizeof(char *));
  size_t nl = 0;
  const char *name = NULL;
  int c;
  while ((c = getopt_long(argc, argv, "d:o:h", opts, NULL)) != -1) {
    switch (c) {
    case 'l':
      labels = xrealloc(labels, (nl + 2) * sizeof(char *));
      labels[nl++] = xstrdup(optarg);
      labels[nl] = NULL;
      break;
    case 'd':
      if (strcmp(optarg, "local") != 0) {
        fprintf(stderr,
                "Error response from daemon: create: volume driver \"%s\" is not supported: "
                "stack keeps volumes as local directories (driver local)\n",
                optarg);
        return 1;
      }
      break;
    case 'o':
      fprintf(stderr,
              "Error response from daemon: create: driver options (-o %s) are not supported: "
              "a stack volume is a directory shared into the VMs\n",
              optarg);
      return 1;
    case 'n':
      name = optarg;
      break;
    default:
      fprintf(c == 'h' ? stdout : stderr,
              "Usage:  %s volume create [OPTIONS] [VOLUME]\n\n"
              "Create a volume\n\n"
              "Options:\n"
              "  -d, --driver string   Specify volume driver name (default \"local\")\n"
              "      --label list      Set metadata for a volume\n",
              g->progname);
      return c == 'h' ? 0 : 1;
    }
  }
  if (optind < argc && name && strcmp(name, argv[optind]) != 0) {
    fprintf(stderr, "conflicting options: either specify --name or provide positional arg, "
                    "not both\n");
    return 1;
  }
  if (optind + 1 < argc) {
    fprintf(stderr, "%s: 'volume create' requires at most 1 argument\n", g->progname);
    return 1;
  }
  if (optind < argc)
    name = argv[optind];
  _cleanup_free_ char *generated = NULL;
  if (name == NULL) {
    /* an anonymous volume: 64 hex digits, as Docker names them */
    unsigned char rnd[32];
    FILE *f = fopen("/dev/urandom", "re");
    if (f == NULL || fread(rnd, 1, sizeof(rnd), f) != sizeof(rnd)) {
      if (f)
        fclose(f);
      fprintf(stderr, "stack volume create: cannot read /dev/urandom\n");
      return 1;
    }
    fclose(f);
    generated = xcalloc(1, 65);
    for (int i = 0; i < 32; i++)
      sprintf(generated + 2 * i, "%02x", rnd[i]);
    labels = xrealloc(labels, (nl + 2) * sizeof(char *));
    labels[nl++] = xstrdup(VOLUME_LABEL_ANONYMOUS "=");
    labels[nl] = NULL;
    name = generated;
  }
  _cleanup_error_ struct stack_error *err = NULL;
  if (volume_store_check_name(name, &err) < 0 ||
      volume_store_create(name, NULL, labels, NULL, NULL, &err) < 0) {
    fprintf(stderr, "Error response from daemon: %s\n", err->msg);
    return 1;
  }
  printf("%s\n", name);
  return 0;
}

static void usage(FILE *f, const char *prog) {
  fprintf(f,
          "Usage:  %s volume COMMAND\n\n"
          "Manage volumes\n\n"
          "Commands:\n"
          "  create      Create a volume\n"
          "  inspect     Display detailed information on one or more volumes\n"
          "  ls          List volumes\n"
          "  prune       Remove unused local volumes\n"
          "  rm          Remove one or more volumes\n\n"
          "Run '%s volume COMMAND --help' for more information on a command.\n",
          prog, prog);
}

int cli_volume(struct cli_globals *g, int argc, char **argv) {
  if (argc < 2 || strcmp(argv[1], "-h") == 0 || strcmp(argv[1], "--help") == 0) {
    usage(argc < 2 ? stderr : stdout, g->progname);
    return argc < 2 ? 1 : 0;
  }
  const char *sub = argv[1];
  argc--;
  argv++;
  optind = 0;
  opterr = 1;
  if (strcmp(sub, "ls") == 0 || strcmp(sub, "list") == 0)
    return volume_ls(g, argc, argv);
  if (strcmp(sub, "inspect") == 0)
    return volume_inspect(g, argc, argv);
  if (strcmp(sub, "rm") == 0 || strcmp(sub, "remove") == 0)
    return volume_rm(g, argc, argv);
  if (strcmp(sub, "prune") == 0)
    return volume_prune(g, argc, argv);
  if (strcmp(sub, "create") == 0)
    return volume_create(g, argc, argv);
  fprintf(stderr, "%s: unknown command \"volume %s\"\n\n", g->progname, sub);
  usage(stderr, g->progname);
  return 1;
}
