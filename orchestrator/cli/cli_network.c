/* `stack network ls|inspect|rm|prune`: the Compose projects' networks
 * (each project's network.json, net/net_state.h), printed as `docker
 * network ...` prints them (`ls`: every project's; one project's with `-f
 * label=com.docker.compose.project=NAME`).  A project's networks live and
 * go together: `rm` and `prune`
 * remove them once no container is attached to any (through the project's
 * supervisor when one runs), and the next start makes them again. */
#include <cjson/cJSON.h>
#include <dirent.h>
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>

#include "cli.h"
#include "cli_args.h"
#include "cli_host.h"
#include "cli_prompt.h"
#include "cli_table.h"
#include "net/net_names.h"
#include "net/net_project.h"
#include "net/net_state.h"
#include "orchestrator/supervisor/project_state.h"
#include "orchestrator/supervisor/sup_client.h"
#include "orchestrator/supervisor/sup_paths.h"
#include "runtime/image/blobstore.h"
#include "runtime/util/cjson_cleanup.h"
#include "runtime/util/cleanup.h"
#include "runtime/util/error.h"
#include "runtime/util/json_print.h"
#include "runtime/util/sbuf.h"
#include "runtime/util/xalloc.h"

struct network {
  char *project, *key, *name;
  char id[65];
  char *subnet, *gateway, *bridge;
  bool external;
  int64_t created;
  char **endpoints; /* "container=ip" of the containers attached */
};

struct net_list {
  struct network *v;
  size_t n;
};

static void net_list_free(struct net_list *l) {
  for (size_t i = 0; i < l->n; i++) {
    struct network *n = &l->v[i];
    free(n->project);
    free(n->key);
    free(n->name);
    free(n->subnet);
    free(n->gateway);
    free(n->bridge);
    strv_free(n->endpoints);
  }
  free(l->v);
}

static bool in_list(char **v, const char *s) {
  for (; v && *v; v++)
    if (strcmp(*v, s) == 0)
      return true;
  return false;
}

static void strv_push(char ***v, size_t *n, char *owned) {
  *v = xrealloc(*v, (*n + 2) * sizeof(char *));
  (*v)[(*n)++] = owned;
  (*v)[*n] = NULL;
}

/* One project's networks, from its network.json (nothing when it has none). */
static void load_project(const char *project, struct net_list *l, size_t *cap) {
  _cleanup_free_ char *path = NULL;
  struct net_state st = {0};
  bool exists = false;
  if (net_state_default_path(project, &path, NULL) < 0 ||
      net_state_load(path, &st, &exists, NULL) < 0 || !exists) {
    net_state_free(&st);
    return;
  }
  struct stat sb;
  int64_t created = stat(path, &sb) == 0 ? (int64_t)sb.st_mtime : 0;
  for (char **e = st.subnets; e && *e; e++) {
    const char *eq = strchr(*e, '=');
    if (eq == NULL)
      continue;
    l->v = xgrow(l->v, cap, l->n + 1, sizeof(*l->v));
    struct network *n = &l->v[l->n++];
    *n = (struct network){.project = xstrdup(project), .key = xstrndup(*e, (size_t)(eq - *e))};
    char cidr[64] = "", gw[64] = "";
    sscanf(eq + 1, "%63s %63s", cidr, gw);
    n->subnet = xstrdup(cidr);
    n->gateway = xstrdup(gw);
    char br[NET_IFNAME_SIZE];
    net_bridge_name(project, n->key, br);
    n->external = !in_list(st.bridges, br);
    n->bridge = xstrdup(br);
    n->name = n->external ? xstrdup(n->key) : xasprintf("%s_%s", project, n->key);
    /* a stable id, as Docker's 64 hex digits (its first 12 in ls) */
    _cleanup_free_ char *seed = xasprintf("stack-network:%s/%s", project, n->key);
    _cleanup_free_ char *digest = blobstore_digest_of(seed, strlen(seed));
    snprintf(n->id, sizeof(n->id), "%s", digest + strlen("sha256:"));
    n->created = created;
    size_t ne = 0;
    size_t kl = strlen(n->key);
    for (char **a = st.addresses; a && *a; a++) {
      const char *slash = strchr(*a, '/'), *aeq = strchr(*a, '=');
      if (slash && aeq && aeq > slash && (size_t)(aeq - slash - 1) == kl &&
          strncmp(slash + 1, n->key, kl) == 0)
        strv_push(&n->endpoints, &ne,
                  xasprintf("%.*s=%s", (int)(slash - *a), *a, aeq + 1));
    }
  }
  net_state_free(&st);
}

static int cmp_net(const void *a, const void *b) {
  return strcmp(((const struct network *)a)->name, ((const struct network *)b)->name);
}

/* Every project's networks, sorted by name. */
static void load_all(struct net_list *l) {
  size_t cap = 0;
  _cleanup_free_ char *dir = sup_projects_dir();
  DIR *d = opendir(dir);
  for (struct dirent *e; d && (e = readdir(d));)
    if (e->d_name[0] != '.')
      load_project(e->d_name, l, &cap);
  if (d)
    closedir(d);
  if (l->n > 1)
    qsort(l->v, l->n, sizeof(*l->v), cmp_net);
}

/* The network a NAME or ID (prefix) names, or NULL. */
static struct network *find(struct net_list *l, const char *what) {
  for (size_t i = 0; i < l->n; i++)
    if (strcmp(l->v[i].name, what) == 0)
      return &l->v[i];
  size_t n = strlen(what);
  struct network *hit = NULL;
  for (size_t i = 0; n >= 3 && i < l->n; i++)
    if (strncmp(l->v[i].id, what, n) == 0) {
      if (hit)
        return NULL; /* ambiguous */
      hit = &l->v[i];
    }
  return hit;
}

/* Docker's label filters (KEY or KEY=VALUE, all must match) against the
 * labels Compose gives a project's network. */
static bool labels_match(const struct network *n, char **filters) {
  for (char **f = filters; f && *f; f++) {
    const char *eq = strchr(*f, '=');
    size_t kl = eq ? (size_t)(eq - *f) : strlen(*f);
    const char *have = NULL;
    if (n->external)
      have = NULL;
    else if (kl == strlen("com.docker.compose.network") &&
             strncmp(*f, "com.docker.compose.network", kl) == 0)
      have = n->key;
    else if (kl == strlen("com.docker.compose.project") &&
             strncmp(*f, "com.docker.compose.project", kl) == 0)
      have = n->project;
    if (have == NULL || (eq && strcmp(have, eq + 1) != 0))
      return false;
  }
  return true;
}

static int network_ls(struct cli_globals *g, int argc, char **argv) {
  static const struct option opts[] = {
      {"filter", required_argument, NULL, 'f'}, {"format", required_argument, NULL, 'F'},
      {"no-trunc", no_argument, NULL, 'T'},     {"quiet", no_argument, NULL, 'q'},
      {"help", no_argument, NULL, 'h'},         {NULL, 0, NULL, 0},
  };
  bool quiet = false, json = false, no_trunc = false;
  const char *name_filter = NULL;
  _cleanup_strv_ char **label_filters = NULL;
  size_t nlabels = 0;
  int c;
  while ((c = getopt_long(argc, argv, "f:qh", opts, NULL)) != -1) {
    if (c == 'q') {
      quiet = true;
    } else if (c == 'T') {
      no_trunc = true;
    } else if (c == 'F' && (strcmp(optarg, "json") == 0 || strcmp(optarg, "{{json .}}") == 0)) {
      json = true;
    } else if (c == 'F' && strcmp(optarg, "table") == 0) {
      json = false;
    } else if (c == 'f' && strncmp(optarg, "name=", 5) == 0) {
      name_filter = optarg + 5;
    } else if (c == 'f' && strncmp(optarg, "label=", 6) == 0 && optarg[6]) {
      strv_push(&label_filters, &nlabels, xstrdup(optarg + 6));
    } else if (c == 'f' && (strcmp(optarg, "driver=bridge") == 0 ||
                            strcmp(optarg, "scope=local") == 0 ||
                            strcmp(optarg, "type=custom") == 0)) {
      continue; /* every network of stack's is one of those */
    } else {
      if (c == 'f')
        fprintf(stderr, "stack network ls: unsupported filter \"%s\" (name=, driver=bridge, "
                        "label=, scope=local, type=custom)\n", optarg);
      else if (c == 'F')
        fprintf(stderr, "stack network ls: unsupported format \"%s\": use table or json\n",
                optarg);
      fprintf(c == 'h' ? stdout : stderr,
              "Usage:  %s network ls [OPTIONS]\n\n"
              "List networks\n\n"
              "Aliases:\n  %s network ls, %s network list\n\n"
              "Options:\n"
              "  -f, --filter filter   Provide filter values (e.g. \"name=web\")\n"
              "      --format string   Format output: table (default) or json\n"
              "      --no-trunc        Do not truncate the output\n"
              "  -q, --quiet           Only display network IDs\n",
              g->progname, g->progname, g->progname);
      return c == 'h' ? 0 : 1;
    }
  }
  __attribute__((cleanup(net_list_free))) struct net_list l = {0};
  load_all(&l);
  struct cli_table t;
  static const char *const header[] = {"NETWORK ID", "NAME", "DRIVER", "SCOPE"};
  cli_table_init(&t, 4, header);
  t.minwidth = 10;
  for (size_t i = 0; i < l.n; i++) {
    const struct network *n = &l.v[i];
    if ((name_filter && strstr(n->name, name_filter) == NULL) || !labels_match(n, label_filters))
      continue;
    char id[65];
    snprintf(id, no_trunc ? sizeof(id) : 13, "%s", n->id);
    if (quiet) {
      printf("%s\n", id);
    } else if (json) {
      _cleanup_cjson_ cJSON *o = cJSON_CreateObject();
      char when[64];
      time_t tt = (time_t)n->created;
      struct tm tm;
      localtime_r(&tt, &tm);
      strftime(when, sizeof(when), "%Y-%m-%d %H:%M:%S %z %Z", &tm);
      cJSON_AddStringToObject(o, "CreatedAt", when);
      cJSON_AddStringToObject(o, "Driver", "bridge");
      cJSON_AddStringToObject(o, "ID", id);
      cJSON_AddStringToObject(o, "IPv6", "false");
      cJSON_AddStringToObject(o, "Internal", "false");
      _cleanup_free_ char *labels =
          xasprintf("com.docker.compose.network=%s,com.docker.compose.project=%s", n->key,
                    n->project);
      cJSON_AddStringToObject(o, "Labels", labels);
      cJSON_AddStringToObject(o, "Name", n->name);
      cJSON_AddStringToObject(o, "Scope", "local");
      _cleanup_free_ char *line = cJSON_PrintUnformatted(o);
      printf("%s\n", line);
    } else {
      const char *row[] = {id, n->name, "bridge", "local"};
      cli_table_add(&t, row);
    }
  }
  if (!quiet && !json)
    cli_table_print(&t, stdout);
  cli_table_free(&t);
  return 0;
}

/* The containers of the network's project, for their ids and MACs. */
static cJSON *containers_json(const struct network *n) {
  cJSON *o = cJSON_CreateObject();
  __attribute__((cleanup(sup_paths_clear))) struct sup_paths p = {0};
  _cleanup_project_state_ struct project_state *st = NULL;
  if (sup_paths_init(&p, n->project, NULL) < 0 ||
      project_state_load(p.state_file, n->project, &st, NULL) < 0)
    st = NULL;
  char prefix[8];
  unsigned bits = 0;
  const char *slash = strchr(n->subnet, '/');
  if (slash)
    bits = (unsigned)atoi(slash + 1);
  snprintf(prefix, sizeof(prefix), "/%u", bits);
  for (char **e = n->endpoints; e && *e; e++) {
    const char *eq = strchr(*e, '=');
    _cleanup_free_ char *name = xstrndup(*e, (size_t)(eq - *e));
    struct ps_container *ct = st ? project_state_find(st, name) : NULL;
    const char *mac = "";
    for (size_t i = 0; ct && i < ct->n_addresses; i++)
      if (ct->addresses[i].network && strcmp(ct->addresses[i].network, n->key) == 0 &&
          ct->addresses[i].mac)
        mac = ct->addresses[i].mac;
    cJSON *c = cJSON_AddObjectToObject(o, ct ? ct->id : name);
    cJSON_AddStringToObject(c, "Name", name);
    cJSON_AddStringToObject(c, "EndpointID", "");
    cJSON_AddStringToObject(c, "MacAddress", mac);
    _cleanup_free_ char *ip = xasprintf("%s%s", eq + 1, prefix);
    cJSON_AddStringToObject(c, "IPv4Address", ip);
    cJSON_AddStringToObject(c, "IPv6Address", "");
  }
  return o;
}

static cJSON *inspect_json(const struct network *n) {
  cJSON *o = cJSON_CreateObject();
  cJSON_AddStringToObject(o, "Name", n->name);
  cJSON_AddStringToObject(o, "Id", n->id);
  char when[40];
  time_t tt = (time_t)n->created;
  struct tm tm;
  gmtime_r(&tt, &tm);
  strftime(when, sizeof(when), "%Y-%m-%dT%H:%M:%SZ", &tm);
  cJSON_AddStringToObject(o, "Created", when);
  cJSON_AddStringToObject(o, "Scope", "local");
  cJSON_AddStringToObject(o, "Driver", "bridge");
  cJSON_AddBoolToObject(o, "EnableIPv6", false);
  cJSON *ipam = cJSON_AddObjectToObject(o, "IPAM");
  cJSON_AddStringToObject(ipam, "Driver", "default");
  cJSON_AddNullToObject(ipam, "Options");
  cJSON *cfg = cJSON_AddArrayToObject(ipam, "Config");
  cJSON *c0 = cJSON_CreateObject();
  cJSON_AddStringToObject(c0, "Subnet", n->subnet);
  cJSON_AddStringToObject(c0, "Gateway", n->gateway);
  cJSON_AddItemToArray(cfg, c0);
  cJSON_AddBoolToObject(o, "Internal", false);
  cJSON_AddBoolToObject(o, "Attachable", false);
  cJSON_AddBoolToObject(o, "Ingress", false);
  cJSON *from = cJSON_AddObjectToObject(o, "ConfigFrom");
  cJSON_AddStringToObject(from, "Network", "");
  cJSON_AddBoolToObject(o, "ConfigOnly", false);
  cJSON_AddItemToObject(o, "Containers", containers_json(n));
  cJSON *opts = cJSON_AddObjectToObject(o, "Options");
  cJSON_AddStringToObject(opts, "com.docker.network.bridge.name", n->bridge);
  cJSON *labels = cJSON_AddObjectToObject(o, "Labels");
  if (!n->external) {
    cJSON_AddStringToObject(labels, "com.docker.compose.network", n->key);
    cJSON_AddStringToObject(labels, "com.docker.compose.project", n->project);
  }
  return o;
}

static int network_inspect(struct cli_globals *g, int argc, char **argv) {
  static const struct option opts[] = {
      {"format", required_argument, NULL, 'f'}, {"verbose", no_argument, NULL, 'v'},
      {"help", no_argument, NULL, 'h'},         {NULL, 0, NULL, 0},
  };
  int c;
  while ((c = getopt_long(argc, argv, "f:vh", opts, NULL)) != -1) {
    if (c == 'v' || (c == 'f' && (strcmp(optarg, "json") == 0 || strcmp(optarg, "{{json .}}") == 0)))
      continue;
    if (c == 'f')
      fprintf(stderr, "stack network inspect: unsupported format \"%s\": only json\n", optarg);
    fprintf(c == 'h' ? stdout : stderr,
            "Usage:  %s network inspect [OPTIONS] NETWORK [NETWORK...]\n\n"
            "Display detailed information on one or more networks\n\n"
            "Options:\n"
            "  -f, --format string   Format output: json (the default)\n",
            g->progname);
    return c == 'h' ? 0 : 1;
  }
  if (!cli_need_args(g->progname, argc, optind, "network inspect",
                     "[OPTIONS] NETWORK [NETWORK...]"))
    return 1;
  __attribute__((cleanup(net_list_free))) struct net_list l = {0};
  load_all(&l);
  _cleanup_cjson_ cJSON *arr = cJSON_CreateArray();
  int rc = 0;
  for (int i = optind; i < argc; i++) {
    struct network *n = find(&l, argv[i]);
    if (n)
      cJSON_AddItemToArray(arr, inspect_json(n));
    else
      rc = 1;
  }
  _cleanup_free_ char *text = json_print_indented(arr, "    ");
  printf("%s\n", text);
  for (int i = optind; i < argc; i++)
    if (find(&l, argv[i]) == NULL)
      fprintf(stderr, "Error: No such network: %s\n", argv[i]);
  return rc;
}

/* Removes the networks of n's project: through its supervisor when one
 * runs, else from the state file; 0, or 1 after printing why not. */
static int release_project(const struct network *n) {
  __attribute__((cleanup(sup_paths_clear))) struct sup_paths paths = {0};
  _cleanup_sup_client_ struct sup_client *client = NULL;
  _cleanup_error_ struct stack_error *err = NULL;
  if (sup_paths_init(&paths, n->project, &err) < 0) {
    fprintf(stderr, "Error response from daemon: %s\n", err->msg);
    return 1;
  }
  if (sup_client_connect(&paths, &client, NULL) == 0) {
    cJSON *res = NULL;
    if (sup_client_call(client, "network_rm", NULL, NULL, NULL, &res, &err) < 0) {
      if (err->code == -EBUSY)
        fprintf(stderr,
                "Error response from daemon: error while removing network: network %s %s\n",
                n->name, err->msg);
      else
        fprintf(stderr, "Error response from daemon: %s\n", err->msg);
      return 1;
    }
    cJSON_Delete(res);
    return 0;
  }
  if (n->endpoints) {
    /* a dead supervisor's attachments (its VMs may still run): left to
     * the next one, which adopts or removes them */
    const char *eq = strchr(n->endpoints[0], '=');
    fprintf(stderr,
            "Error response from daemon: error while removing network: network %s has active "
            "endpoints (name:\"%.*s\")\n",
            n->name, (int)(eq - n->endpoints[0]), n->endpoints[0]);
    return 1;
  }
  if (net_project_down_from_state(n->project, NULL, &err) < 0) {
    fprintf(stderr, "Error response from daemon: %s\n", err->msg);
    return 1;
  }
  return 0;
}

static int network_rm(struct cli_globals *g, int argc, char **argv) {
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
            "Usage:  %s network rm NETWORK [NETWORK...]\n\n"
            "Remove one or more networks (a project's networks go together)\n\n"
            "Aliases:\n  %s network rm, %s network remove\n\n"
            "Options:\n"
            "  -f, --force   Do not error if the network does not exist\n",
            g->progname, g->progname, g->progname);
    return c == 'h' ? 0 : 1;
  }
  if (!cli_need_args(g->progname, argc, optind, "network rm",
                     "NETWORK [NETWORK...]"))
    return 1;
  int rc = 0;
  for (int i = optind; i < argc; i++) {
    __attribute__((cleanup(net_list_free))) struct net_list l = {0};
    load_all(&l);
    struct network *n = find(&l, argv[i]);
    if (n == NULL) {
      if (!force) {
        fprintf(stderr, "Error response from daemon: network %s not found\n", argv[i]);
        rc = 1;
      }
      continue;
    }
    if (n->external) {
      fprintf(stderr,
              "Error response from daemon: network %s is external to stack (its project uses "
              "an existing bridge): remove the bridge itself\n",
              argv[i]);
      rc = 1;
      continue;
    }
    if (release_project(n) == 0)
      printf("%s\n", argv[i]);
    else
      rc = 1;
  }
  return rc;
}

void cli_network_prune_unused(struct sbuf *names) {
  __attribute__((cleanup(net_list_free))) struct net_list l = {0};
  load_all(&l);
  /* one project at a time: its networks go together */
  for (size_t i = 0; i < l.n; i++) {
    struct network *n = &l.v[i];
    bool busy = false, first = true;
    for (size_t j = 0; j < l.n; j++)
      if (strcmp(l.v[j].project, n->project) == 0) {
        busy |= l.v[j].endpoints != NULL;
        first &= j >= i;
      }
    if (busy || !first)
      continue;
    __attribute__((cleanup(sup_paths_clear))) struct sup_paths paths = {0};
    _cleanup_sup_client_ struct sup_client *client = NULL;
    _cleanup_error_ struct stack_error *err = NULL;
    cJSON *res = NULL;
    if (sup_paths_init(&paths, n->project, NULL) < 0)
      continue;
    if (sup_client_connect(&paths, &client, NULL) == 0
            ? sup_client_call(client, "network_rm", NULL, NULL, NULL, &res, &err) < 0
            : net_project_down_from_state(n->project, NULL, &err) < 0)
      continue; /* in use after all (a container starts) */
    cJSON_Delete(res);
    for (size_t j = 0; j < l.n; j++) {
      if (strcmp(l.v[j].project, n->project) == 0 && !l.v[j].external)
        sbuf_printf(names, "%s\n", l.v[j].name);
    }
  }
}

static int network_prune(struct cli_globals *g, int argc, char **argv) {
  static const struct option opts[] = {
      {"force", no_argument, NULL, 'f'},
      {"filter", required_argument, NULL, 'F'},
      {"help", no_argument, NULL, 'h'},
      {NULL, 0, NULL, 0},
  };
  bool force = false;
  int c;
  while ((c = getopt_long(argc, argv, "fh", opts, NULL)) != -1) {
    if (c == 'f') {
      force = true;
      continue;
    }
    if (c == 'F')
      fprintf(stderr, "stack network prune: filters are not supported\n");
    fprintf(c == 'h' ? stdout : stderr,
            "Usage:  %s network prune [OPTIONS]\n\n"
            "Remove all unused networks\n\n"
            "Options:\n"
            "  -f, --force   Do not prompt for confirmation\n",
            g->progname);
    return c == 'h' ? 0 : 1;
  }
  if (!force && !cli_confirm("WARNING! This will remove all custom networks not used by at "
                             "least one container.\n"))
    return 0;
  _cleanup_sbuf_ struct sbuf names = SBUF_INIT;
  cli_network_prune_unused(&names);
  if (names.len)
    printf("Deleted Networks:\n%s\n", names.data);
  return 0;
}

static void usage(FILE *f, const char *prog) {
  fprintf(f,
          "Usage:  %s network COMMAND\n\n"
          "Manage networks\n\n"
          "Commands:\n"
          "  inspect     Display detailed information on one or more networks\n"
          "  ls          List networks\n"
          "  prune       Remove all unused networks\n"
          "  rm          Remove one or more networks\n\n"
          "Run '%s network COMMAND --help' for more information on a command.\n",
          prog, prog);
}

int cli_network(struct cli_globals *g, int argc, char **argv) {
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
    return network_ls(g, argc, argv);
  if (strcmp(sub, "inspect") == 0)
    return network_inspect(g, argc, argv);
  if (strcmp(sub, "rm") == 0 || strcmp(sub, "remove") == 0)
    return network_rm(g, argc, argv);
  if (strcmp(sub, "prune") == 0)
    return network_prune(g, argc, argv);
  fprintf(stderr, "%s: unknown command \"network %s\"\n\n", g->progname, sub);
  usage(stderr, g->progname);
  return 1;
}
