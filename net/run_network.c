#include "run_network.h"

#include <arpa/inet.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <unistd.h>

#include "net/ipam.h"
#include "net/net_names.h"
#include "net/net_state.h"
#include "net/netlink.h"
#include "net/nft.h"
#include "runtime/util/cleanup.h"
#include "runtime/util/error.h"
#include "runtime/util/fsutil.h"
#include "runtime/util/paths.h"
#include "runtime/util/xalloc.h"

/* The names of the default network come from net_names.h as a project's
 * do, under a name no Compose project can have (project names are
 * lowercase letters, digits, '-' and '_'). */
#define RUN_PROJECT " run"
#define RUN_NETWORK "default"
#define RUN_MTU 1500

struct run_network_lease {
  char *lease_path;
  int lease_fd; /* flock()ed while the run lives */
  char tap[NET_IFNAME_SIZE];
};

/* What network.json says, or what was just made. */
struct run_net {
  char bridge[NET_IFNAME_SIZE], table[32];
  struct ipam_subnet subnet;
  char gateway[INET_ADDRSTRLEN];
  char **taps; /* every tap made on it, for whoever removes it */
};

static int save(const char *path, const struct run_net *n, struct stack_error **err) {
  struct net_state st = {0};
  st.project = xstrdup(RUN_PROJECT);
  st.table = xstrdup(n->table);
  net_state_add(&st.bridges, n->bridge);
  for (size_t i = 0; n->taps && n->taps[i]; i++)
    net_state_add(&st.taps, n->taps[i]);
  char cidr[20], rec[64];
  ipam_format_cidr(&n->subnet, cidr, sizeof cidr);
  snprintf(rec, sizeof rec, "%s %s", cidr, n->gateway);
  net_state_set(&st.subnets, RUN_NETWORK, rec);
  int r = net_state_save(path, &st, err);
  net_state_free(&st);
  return r;
}

/* The network as network.json describes it, when its bridge exists. */
static bool load(const char *path, struct run_net *n) {
  struct net_state st = {0};
  bool exists = false;
  struct stack_error *e = NULL;
  bool ok = false;
  if (net_state_load(path, &st, &exists, &e) == 0 && exists && st.bridges && st.bridges[0] &&
      st.table) {
    const char *rec = net_state_get(st.subnets, RUN_NETWORK);
    char cidr[32];
    ok = rec && sscanf(rec, "%31s %15s", cidr, n->gateway) == 2 &&
         ipam_parse_cidr(cidr, &n->subnet, NULL) == 0 &&
         snprintf(n->bridge, sizeof n->bridge, "%s", st.bridges[0]) < (int)sizeof n->bridge &&
         snprintf(n->table, sizeof n->table, "%s", st.table) < (int)sizeof n->table &&
         netlink_link_exists(n->bridge);
    if (ok) {
      n->taps = st.taps;
      st.taps = NULL;
    }
  }
  stack_error_free(e);
  net_state_free(&st);
  return ok;
}

/* Removes what network.json lists, then the file. */
static void remove_network(struct netlink *nl, const char *state) {
  struct net_state st = {0};
  bool exists = false;
  if (net_state_load(state, &st, &exists, NULL) == 0 && exists) {
    for (size_t i = 0; st.taps && st.taps[i]; i++)
      (void)netlink_link_delete(nl, st.taps[i], NULL);
    if (st.table)
      (void)net_nft_remove(st.table, NULL);
    for (size_t i = 0; st.bridges && st.bridges[i]; i++)
      (void)netlink_link_delete(nl, st.bridges[i], NULL);
  }
  net_state_free(&st);
  unlink(state);
}

/* Makes the bridge and its table: the subnet is picked from the pool as
 * a project network's, avoiding what the host routes. */
static int create_network(struct netlink *nl, const char *state, struct run_net *n,
                          struct stack_error **err) {
  remove_network(nl, state); /* a half-made or damaged one */
  struct ipam_pool pool;
  const char *spool = getenv("STACK_NET_POOL");
  int r = ipam_parse_pool(spool && *spool ? spool : IPAM_DEFAULT_POOL, &pool, err);
  if (r < 0)
    return r;
  net_bridge_name(RUN_PROJECT, RUN_NETWORK, n->bridge);
  net_table_name(RUN_PROJECT, n->table);
  _cleanup_free_ char *root = stack_data_root();
  uint64_t seed = ipam_seed(root, RUN_NETWORK);
  for (int attempt = 0;; attempt++) {
    struct netlink_route *routes = NULL;
    size_t n_routes = 0;
    if ((r = netlink_routes_v4(nl, &routes, &n_routes, err)) < 0)
      return r;
    _cleanup_free_ struct ipam_subnet *avoid = xcalloc(n_routes + 1, sizeof(*avoid));
    for (size_t i = 0; i < n_routes; i++)
      avoid[i] = (struct ipam_subnet){routes[i].dst, routes[i].prefix};
    free(routes);
    if ((r = ipam_pick_subnet(&pool, 1, avoid, n_routes, seed + (uint64_t)attempt, &n->subnet,
                              err)) < 0)
      return r;
    struct ipam_net ipam;
    if ((r = ipam_net_init(&ipam, &n->subnet, NULL, err)) < 0)
      return r;
    inet_ntop(AF_INET, &ipam.gateway, n->gateway, sizeof n->gateway);
    struct in_addr gw = ipam.gateway;
    ipam_net_free(&ipam);
    /* recorded before it is made, so that a crash leaves nothing unknown */
    if ((r = save(state, n, err)) < 0)
      return r;
    uint8_t mac[6];
    net_bridge_mac(RUN_PROJECT, RUN_NETWORK, mac);
    if ((r = netlink_bridge_create(nl, n->bridge, mac, RUN_MTU, err)) < 0 ||
        (r = netlink_addr_add(nl, n->bridge, gw, n->subnet.prefix, err)) < 0 ||
        (r = netlink_link_set_up(nl, n->bridge, true, err)) < 0)
      return r;
    if (attempt >= 8 || !net_subnet_contested(nl, n->bridge, &n->subnet))
      break;
    /* a project or another data root took it at the same moment */
    if ((r = netlink_link_delete(nl, n->bridge, err)) < 0)
      return r;
  }
  char cidr[20];
  ipam_format_cidr(&n->subnet, cidr, sizeof cidr);
  struct net_nft_network nn = {.bridge = n->bridge, .subnet = cidr};
  if ((r = net_nft_apply(n->table, &nn, 1, true, err)) < 0 || (r = net_enable_forwarding(err)) < 0)
    return r;
  return 0;
}

/* Whether a lease's run is gone: its lock can be taken.  A lease file
 * being made is locked before it is written, so it never looks dead. */
static bool lease_dead(int dirfd, const char *name) {
  _cleanup_close_ int fd = openat(dirfd, name, O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
  if (fd < 0)
    return errno == ENOENT;
  return flock(fd, LOCK_EX | LOCK_NB) == 0;
}

/* Whether a tap is there for the taking: it exists, is up and no process
 * holds it (a tap has carrier while a QEMU has it open; reading the
 * carrier of a link that is down fails). */
static bool tap_free(const char *tap) {
  char path[64], c = 0;
  snprintf(path, sizeof path, "/sys/class/net/%s/carrier", tap);
  _cleanup_close_ int fd = open(path, O_RDONLY | O_CLOEXEC);
  return fd >= 0 && read(fd, &c, 1) == 1 && c == '0';
}

/* Reaps dead runs' leases and marks the live ones' addresses used.  The
 * tap of a dead run stays for the next run of that address unless a QEMU
 * (of a run killed a moment ago) still holds it: then it goes. */
static int scan_leases(struct netlink *nl, const char *leases, struct ipam_net *ipam,
                       struct stack_error **err) {
  DIR *d = opendir(leases);
  if (d == NULL)
    return errno == ENOENT ? 0 : stack_error_errno(err, -errno, "cannot read %s", leases);
  struct dirent *de;
  while ((de = readdir(d)) != NULL) {
    struct in_addr a;
    if (de->d_name[0] == '.' || inet_pton(AF_INET, de->d_name, &a) != 1)
      continue;
    if (!lease_dead(dirfd(d), de->d_name)) {
      (void)ipam_net_reserve(ipam, a, NULL);
      continue;
    }
    char tap[NET_IFNAME_SIZE];
    net_tap_name(RUN_PROJECT, RUN_NETWORK, de->d_name, tap);
    if (netlink_link_exists(tap) && !tap_free(tap))
      (void)netlink_link_delete(nl, tap, NULL);
    unlinkat(dirfd(d), de->d_name, 0);
  }
  closedir(d);
  return 0;
}

/* The tap of an address: the one a run before left, else a new one; on
 * the bridge and up either way (the bridge may be new). */
static int make_tap(struct netlink *nl, const char *state, struct run_net *n, const char *tap,
                    struct stack_error **err) {
  int r;
  bool reuse = tap_free(tap);
  if (!reuse) {
    bool known = false;
    for (size_t i = 0; n->taps && n->taps[i] && !known; i++)
      known = strcmp(n->taps[i], tap) == 0;
    if (!known) {
      net_state_add(&n->taps, tap);
      if ((r = save(state, n, err)) < 0)
        return r;
    }
    (void)netlink_link_delete(nl, tap, NULL); /* held by a dying QEMU, or down */
    if ((r = netlink_tap_create(tap, (uid_t)-1, err)) < 0 ||
        (r = netlink_link_set_mtu(nl, tap, RUN_MTU, err)) < 0)
      return r;
  }
  if ((r = netlink_link_set_master(nl, tap, n->bridge, err)) < 0 ||
      (r = netlink_link_set_up(nl, tap, true, err)) < 0)
    return r;
  return 0;
}

int run_network_join(const char *dir, struct run_network_lease **out, struct net_attachment *att,
                     struct stack_error **err) {
  _cleanup_free_ char *root = NULL, *base = NULL;
  if (dir == NULL) {
    root = stack_data_root();
    base = fs_path_join(root, "run-network");
  } else {
    base = xstrdup(dir);
  }
  _cleanup_free_ char *leases = fs_path_join(base, "leases");
  _cleanup_free_ char *lockp = fs_path_join(base, "lock");
  _cleanup_free_ char *state = fs_path_join(base, "network.json");
  int r = fs_mkdir_p(leases, 0700, err);
  if (r < 0)
    return r;
  _cleanup_close_ int lock = fs_lock_path(lockp, LOCK_EX, err);
  if (lock < 0)
    return lock;
  struct netlink *nl = NULL;
  if ((r = netlink_open(&nl, err)) < 0)
    return r;
  struct run_network_lease *l = xcalloc(1, sizeof(*l));
  l->lease_fd = -1;
  struct run_net n = {0};
  struct ipam_net ipam = {0};
  bool ipam_ready = false;
  struct in_addr ip;
  char ipstr[INET_ADDRSTRLEN];
  if (!load(state, &n) && (r = create_network(nl, state, &n, err)) < 0)
    goto fail;
  if ((r = ipam_net_init(&ipam, &n.subnet, n.gateway, err)) < 0)
    goto fail;
  ipam_ready = true;
  if ((r = scan_leases(nl, leases, &ipam, err)) < 0 ||
      (r = ipam_net_alloc(&ipam, &ip, err)) < 0)
    goto fail;
  inet_ntop(AF_INET, &ip, ipstr, sizeof ipstr);
  l->lease_path = fs_path_join(leases, ipstr);
  l->lease_fd = open(l->lease_path, O_RDWR | O_CREAT | O_EXCL | O_CLOEXEC | O_NOFOLLOW, 0600);
  if (l->lease_fd < 0) {
    r = stack_error_errno(err, -errno, "cannot create %s", l->lease_path);
    free(l->lease_path);
    l->lease_path = NULL;
    goto fail;
  }
  /* no other process has the lock yet: it is taken at once */
  (void)flock(l->lease_fd, LOCK_EX);
  net_tap_name(RUN_PROJECT, RUN_NETWORK, ipstr, l->tap);
  dprintf(l->lease_fd, "%d %s\n", (int)getpid(), l->tap);
  if ((r = make_tap(nl, state, &n, l->tap, err)) < 0)
    goto fail;
  memset(att, 0, sizeof(*att));
  snprintf(att->network, sizeof att->network, "%s", "bridge");
  snprintf(att->tap, sizeof att->tap, "%s", l->tap);
  snprintf(att->bridge, sizeof att->bridge, "%s", n.bridge);
  net_container_mac(RUN_PROJECT, RUN_NETWORK, ipstr, att->mac);
  net_format_mac(att->mac, att->mac_str);
  snprintf(att->ip, sizeof att->ip, "%s", ipstr);
  att->prefix = n.subnet.prefix;
  snprintf(att->gateway, sizeof att->gateway, "%s", n.gateway);
  att->mtu = RUN_MTU;
  att->default_route = true;
  ipam_net_free(&ipam);
  netlink_close(nl);
  strv_free(n.taps);
  *out = l;
  return 0;
fail:
  if (ipam_ready)
    ipam_net_free(&ipam);
  netlink_close(nl);
  strv_free(n.taps);
  run_network_leave(l);
  return stack_error_prefix(err, "stack run's default network (%s)", state);
}

void run_network_leave(struct run_network_lease *l) {
  if (l == NULL)
    return;
  /* the tap stays for the next run of this address (no QEMU holds it
   * now: ours has exited) */
  if (l->lease_path)
    unlink(l->lease_path);
  if (l->lease_fd >= 0)
    close(l->lease_fd);
  free(l->lease_path);
  free(l);
}
