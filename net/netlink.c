#include "netlink.h"

#include <errno.h>
#include <fcntl.h>
#include <net/if.h> /* before the linux/ headers, which then skip their copy */
#include <linux/if_link.h>
#include <linux/if_tun.h>
#include <linux/netlink.h>
#include <linux/rtnetlink.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <unistd.h>

#include "runtime/util/cleanup.h"
#include "runtime/util/error.h"
#include "runtime/util/xalloc.h"

struct netlink {
  int fd;
  uint32_t seq;
};

/* A request under construction: header, fixed part, attributes. */
struct nlreq {
  union {
    struct nlmsghdr nh;
    char buf[1024];
  };
};

static void *req_tail(struct nlreq *r) { return r->buf + NLMSG_ALIGN(r->nh.nlmsg_len); }

static struct rtattr *attr_put(struct nlreq *r, unsigned short type, const void *data, size_t len) {
  struct rtattr *a = req_tail(r);
  a->rta_type = type;
  a->rta_len = (unsigned short)RTA_LENGTH(len);
  if (len)
    memcpy(RTA_DATA(a), data, len);
  r->nh.nlmsg_len = NLMSG_ALIGN(r->nh.nlmsg_len) + RTA_ALIGN(a->rta_len);
  return a;
}

static struct rtattr *nest_start(struct nlreq *r, unsigned short type) {
  return attr_put(r, type, NULL, 0);
}

static void nest_end(struct nlreq *r, struct rtattr *a) {
  a->rta_len = (unsigned short)((char *)req_tail(r) - (char *)a);
}

static void req_init(struct nlreq *r, uint16_t type, uint16_t flags, size_t fixed) {
  memset(r, 0, sizeof(*r));
  r->nh.nlmsg_len = (uint32_t)NLMSG_LENGTH(fixed);
  r->nh.nlmsg_type = type;
  r->nh.nlmsg_flags = NLM_F_REQUEST | NLM_F_ACK | flags;
}

int netlink_open(struct netlink **out, struct stack_error **err) {
  int fd = socket(AF_NETLINK, SOCK_RAW | SOCK_CLOEXEC, NETLINK_ROUTE);
  if (fd < 0)
    return stack_error_errno(err, -errno, "cannot open a rtnetlink socket");
  struct sockaddr_nl sa = {.nl_family = AF_NETLINK};
  if (bind(fd, (struct sockaddr *)&sa, sizeof(sa)) < 0) {
    int e = -errno;
    close(fd);
    return stack_error_errno(err, e, "cannot bind a rtnetlink socket");
  }
  int one = 1;
  /* Extended acks carry the kernel's own explanation of a refusal. */
  (void)setsockopt(fd, SOL_NETLINK, NETLINK_EXT_ACK, &one, sizeof(one));
  struct netlink *nl = xcalloc(1, sizeof(*nl));
  nl->fd = fd;
  nl->seq = 1;
  *out = nl;
  return 0;
}

void netlink_close(struct netlink *nl) {
  if (nl == NULL)
    return;
  close(nl->fd);
  free(nl);
}

/* Sends a request and waits for its ack; returns 0 or the kernel's -errno. */
static int transact(struct netlink *nl, struct nlreq *r) {
  r->nh.nlmsg_seq = ++nl->seq;
  struct sockaddr_nl to = {.nl_family = AF_NETLINK};
  if (sendto(nl->fd, r->buf, r->nh.nlmsg_len, 0, (struct sockaddr *)&to, sizeof(to)) < 0)
    return -errno;
  char buf[8192];
  for (;;) {
    ssize_t n = recv(nl->fd, buf, sizeof(buf), 0);
    if (n < 0) {
      if (errno == EINTR)
        continue;
      return -errno;
    }
    for (struct nlmsghdr *h = (struct nlmsghdr *)buf; NLMSG_OK(h, (size_t)n);
         h = NLMSG_NEXT(h, n)) {
      if (h->nlmsg_seq != nl->seq)
        continue; /* a stale answer to an earlier, abandoned request */
      if (h->nlmsg_type == NLMSG_ERROR) {
        const struct nlmsgerr *e = NLMSG_DATA(h);
        return e->error;
      }
    }
  }
}

static int link_index(const char *name, struct stack_error **err) {
  unsigned idx = if_nametoindex(name);
  if (idx == 0)
    return stack_error_errno(err, -ENODEV, "network interface %s", name);
  return (int)idx;
}

static int check_name(const char *name, struct stack_error **err) {
  size_t n = strlen(name);
  if (n == 0 || n >= IFNAMSIZ || strchr(name, '/') || strchr(name, ' '))
    return stack_error_set(err, -EINVAL, "\"%s\" is not a valid interface name (1-15 characters)",
                           name);
  return 0;
}

int netlink_bridge_create(struct netlink *nl, const char *name, const uint8_t mac[6],
                          unsigned mtu, struct stack_error **err) {
  int r = check_name(name, err);
  if (r < 0)
    return r;
  struct nlreq q;
  req_init(&q, RTM_NEWLINK, NLM_F_CREATE | NLM_F_EXCL, sizeof(struct ifinfomsg));
  attr_put(&q, IFLA_IFNAME, name, strlen(name) + 1);
  if (mtu)
    attr_put(&q, IFLA_MTU, &mtu, sizeof(mtu));
  if (mac)
    attr_put(&q, IFLA_ADDRESS, mac, 6);
  struct rtattr *li = nest_start(&q, IFLA_LINKINFO);
  attr_put(&q, IFLA_INFO_KIND, "bridge", 6);
  nest_end(&q, li);
  r = transact(nl, &q);
  if (r == -EEXIST)
    return stack_error_set(err, r,
                           "bridge %s already exists: another project or a crashed run owns it "
                           "(`stack down` of that project removes it)",
                           name);
  if (r < 0)
    return stack_error_errno(err, r, "cannot create bridge %s", name);
  return 0;
}

int netlink_tap_create(const char *name, uid_t owner_uid, struct stack_error **err) {
  int r = check_name(name, err);
  if (r < 0)
    return r;
  if (netlink_link_exists(name))
    return stack_error_set(err, -EEXIST, "tap %s already exists", name);
  _cleanup_close_ int fd = open("/dev/net/tun", O_RDWR | O_CLOEXEC);
  if (fd < 0)
    return stack_error_errno(err, -errno, "cannot open /dev/net/tun to create tap %s", name);
  struct ifreq ifr = {0};
  ifr.ifr_flags = IFF_TAP | IFF_NO_PI | IFF_VNET_HDR;
  memcpy(ifr.ifr_name, name, strlen(name));
  if (ioctl(fd, TUNSETIFF, &ifr) < 0)
    return stack_error_errno(err, -errno, "cannot create tap %s", name);
  if (owner_uid != (uid_t)-1 && ioctl(fd, TUNSETOWNER, (unsigned long)owner_uid) < 0)
    return stack_error_errno(err, -errno, "cannot set the owner of tap %s", name);
  /* Persistent: it outlives this fd, so QEMU can open it by name later. */
  if (ioctl(fd, TUNSETPERSIST, 1) < 0)
    return stack_error_errno(err, -errno, "cannot make tap %s persistent", name);
  return 0;
}

int netlink_link_delete(struct netlink *nl, const char *name, struct stack_error **err) {
  unsigned idx = if_nametoindex(name);
  if (idx == 0)
    return 0;
  struct nlreq q;
  req_init(&q, RTM_DELLINK, 0, sizeof(struct ifinfomsg));
  struct ifinfomsg *ifi = NLMSG_DATA(&q.nh);
  ifi->ifi_index = (int)idx;
  int r = transact(nl, &q);
  if (r < 0 && r != -ENODEV)
    return stack_error_errno(err, r, "cannot delete network interface %s", name);
  return 0;
}

bool netlink_link_exists(const char *name) { return if_nametoindex(name) != 0; }

static int setlink(struct netlink *nl, const char *name, unsigned flags, unsigned change,
                   int attr, const void *data, size_t len, const char *what,
                   struct stack_error **err) {
  int idx = link_index(name, err);
  if (idx < 0)
    return idx;
  struct nlreq q;
  req_init(&q, RTM_NEWLINK, 0, sizeof(struct ifinfomsg));
  struct ifinfomsg *ifi = NLMSG_DATA(&q.nh);
  ifi->ifi_index = idx;
  ifi->ifi_flags = flags;
  ifi->ifi_change = change;
  if (attr >= 0)
    attr_put(&q, (unsigned short)attr, data, len);
  int r = transact(nl, &q);
  if (r < 0)
    return stack_error_errno(err, r, "cannot %s on %s", what, name);
  return 0;
}

int netlink_link_pin_mac(struct netlink *nl, const char *name, struct stack_error **err) {
  int idx = link_index(name, err);
  if (idx < 0)
    return idx;
  struct nlreq q;
  req_init(&q, RTM_GETLINK, 0, sizeof(struct ifinfomsg));
  q.nh.nlmsg_flags = NLM_F_REQUEST;
  ((struct ifinfomsg *)NLMSG_DATA(&q.nh))->ifi_index = idx;
  q.nh.nlmsg_seq = ++nl->seq;
  struct sockaddr_nl to = {.nl_family = AF_NETLINK};
  if (sendto(nl->fd, q.buf, q.nh.nlmsg_len, 0, (struct sockaddr *)&to, sizeof(to)) < 0)
    return stack_error_errno(err, -errno, "cannot read the MAC of %s", name);
  _cleanup_free_ char *buf = xmalloc(32768);
  uint8_t mac[6];
  bool found = false;
  for (bool done = false; !done;) {
    ssize_t len = recv(nl->fd, buf, 32768, 0);
    if (len < 0) {
      if (errno == EINTR)
        continue;
      return stack_error_errno(err, -errno, "cannot read the MAC of %s", name);
    }
    for (struct nlmsghdr *h = (struct nlmsghdr *)buf; NLMSG_OK(h, (size_t)len);
         h = NLMSG_NEXT(h, len)) {
      if (h->nlmsg_seq != nl->seq)
        continue;
      done = true;
      if (h->nlmsg_type == NLMSG_ERROR) {
        int e = ((struct nlmsgerr *)NLMSG_DATA(h))->error;
        return stack_error_errno(err, e ? e : -EIO, "cannot read the MAC of %s", name);
      }
      if (h->nlmsg_type != RTM_NEWLINK)
        continue;
      struct ifinfomsg *ifi = NLMSG_DATA(h);
      int alen = (int)IFLA_PAYLOAD(h);
      for (struct rtattr *a = IFLA_RTA(ifi); RTA_OK(a, alen); a = RTA_NEXT(a, alen))
        if (a->rta_type == IFLA_ADDRESS && RTA_PAYLOAD(a) == 6) {
          memcpy(mac, RTA_DATA(a), 6);
          found = true;
        }
    }
  }
  if (!found)
    return stack_error_set(err, -ENODATA, "network interface %s has no MAC address", name);
  /* the same address, but set by us: the kernel keeps it from now on */
  return setlink(nl, name, 0, 0, IFLA_ADDRESS, mac, 6, "set the MAC", err);
}

int netlink_link_set_master(struct netlink *nl, const char *name, const char *master,
                            struct stack_error **err) {
  int midx = 0;
  if (master != NULL && (midx = link_index(master, err)) < 0)
    return midx;
  return setlink(nl, name, 0, 0, IFLA_MASTER, &midx, sizeof(midx), "set the bridge", err);
}

int netlink_link_set_up(struct netlink *nl, const char *name, bool up, struct stack_error **err) {
  return setlink(nl, name, up ? IFF_UP : 0, IFF_UP, -1, NULL, 0, up ? "bring up" : "bring down",
                 err);
}

int netlink_link_set_mtu(struct netlink *nl, const char *name, unsigned mtu,
                         struct stack_error **err) {
  return setlink(nl, name, 0, 0, IFLA_MTU, &mtu, sizeof(mtu), "set the MTU", err);
}

int netlink_addr_add(struct netlink *nl, const char *name, struct in_addr addr, int prefix,
                     struct stack_error **err) {
  int idx = link_index(name, err);
  if (idx < 0)
    return idx;
  struct nlreq q;
  req_init(&q, RTM_NEWADDR, NLM_F_CREATE | NLM_F_REPLACE, sizeof(struct ifaddrmsg));
  struct ifaddrmsg *ifa = NLMSG_DATA(&q.nh);
  ifa->ifa_family = AF_INET;
  ifa->ifa_prefixlen = (unsigned char)prefix;
  ifa->ifa_index = (unsigned)idx;
  attr_put(&q, IFA_LOCAL, &addr, 4);
  attr_put(&q, IFA_ADDRESS, &addr, 4);
  if (prefix < 31) {
    uint32_t host = prefix == 0 ? 0xffffffffu : (1u << (32 - prefix)) - 1;
    struct in_addr brd = {addr.s_addr | htonl(host)};
    attr_put(&q, IFA_BROADCAST, &brd, 4);
  }
  int r = transact(nl, &q);
  if (r < 0)
    return stack_error_errno(err, r, "cannot add an address to %s", name);
  return 0;
}

int netlink_routes_v4(struct netlink *nl, struct netlink_route **out, size_t *n,
                      struct stack_error **err) {
  struct nlreq q;
  req_init(&q, RTM_GETROUTE, NLM_F_DUMP, sizeof(struct rtmsg));
  q.nh.nlmsg_flags = NLM_F_REQUEST | NLM_F_DUMP;
  struct rtmsg *rtm = NLMSG_DATA(&q.nh);
  rtm->rtm_family = AF_INET;
  q.nh.nlmsg_seq = ++nl->seq;
  struct sockaddr_nl to = {.nl_family = AF_NETLINK};
  if (sendto(nl->fd, q.buf, q.nh.nlmsg_len, 0, (struct sockaddr *)&to, sizeof(to)) < 0)
    return stack_error_errno(err, -errno, "cannot read the routing table");
  struct netlink_route *v = NULL;
  size_t cnt = 0, cap = 0;
  _cleanup_free_ char *buf = xmalloc(32768);
  for (;;) {
    ssize_t len = recv(nl->fd, buf, 32768, 0);
    if (len < 0) {
      if (errno == EINTR)
        continue;
      int e = -errno;
      free(v);
      return stack_error_errno(err, e, "cannot read the routing table");
    }
    for (struct nlmsghdr *h = (struct nlmsghdr *)buf; NLMSG_OK(h, (size_t)len);
         h = NLMSG_NEXT(h, len)) {
      if (h->nlmsg_seq != nl->seq)
        continue;
      if (h->nlmsg_type == NLMSG_DONE) {
        *out = v;
        *n = cnt;
        return 0;
      }
      if (h->nlmsg_type == NLMSG_ERROR) {
        int e = ((struct nlmsgerr *)NLMSG_DATA(h))->error;
        free(v);
        return stack_error_errno(err, e ? e : -EIO, "cannot read the routing table");
      }
      if (h->nlmsg_type != RTM_NEWROUTE)
        continue;
      struct rtmsg *rm = NLMSG_DATA(h);
      if (rm->rtm_family != AF_INET || rm->rtm_dst_len == 0 ||
          (rm->rtm_table != RT_TABLE_MAIN && rm->rtm_table != RT_TABLE_LOCAL) ||
          rm->rtm_type == RTN_BROADCAST)
        continue;
      int alen = (int)RTM_PAYLOAD(h);
      struct netlink_route route = {.prefix = rm->rtm_dst_len};
      bool have_dst = false;
      for (struct rtattr *a = RTM_RTA(rm); RTA_OK(a, alen); a = RTA_NEXT(a, alen)) {
        if (a->rta_type == RTA_DST && RTA_PAYLOAD(a) == 4) {
          memcpy(&route.dst, RTA_DATA(a), 4);
          have_dst = true;
        } else if (a->rta_type == RTA_OIF && RTA_PAYLOAD(a) == 4) {
          memcpy(&route.oif, RTA_DATA(a), 4);
        }
      }
      if (have_dst) {
        v = xgrow(v, &cap, cnt + 1, sizeof(*v));
        v[cnt++] = route;
      }
    }
  }
}
