/* Network interfaces over rtnetlink (no ip(8) in the guest): loopback up,
 * then each interface the host names by MAC address gets its name, MTU and
 * addresses, then the routes. */
#include <arpa/inet.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <net/if.h>
#include <linux/netlink.h>
#include <linux/rtnetlink.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "init.h"

struct nlreq {
  struct nlmsghdr h;
  char buf[1024];
};

static void nl_attr(struct nlreq *q, unsigned short type, const void *data, size_t len) {
  struct rtattr *a = (struct rtattr *)((char *)&q->h + NLMSG_ALIGN(q->h.nlmsg_len));
  a->rta_type = type;
  a->rta_len = (unsigned short)RTA_LENGTH(len);
  memcpy(RTA_DATA(a), data, len);
  q->h.nlmsg_len = NLMSG_ALIGN(q->h.nlmsg_len) + RTA_ALIGN(a->rta_len);
}

/* Sends one request and waits for its acknowledgement. */
static int nl_talk(int fd, struct nlreq *q) {
  /* one request at a time on a private socket: the pid and a clock tick
   * are enough to tell the ack apart from stale replies */
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  q->h.nlmsg_seq = (uint32_t)ts.tv_nsec ^ (uint32_t)ts.tv_sec;
  q->h.nlmsg_flags |= NLM_F_REQUEST | NLM_F_ACK;
  if (send(fd, q, q->h.nlmsg_len, 0) < 0)
    return -errno;
  char buf[4096];
  for (;;) {
    ssize_t n = recv(fd, buf, sizeof buf, 0);
    if (n < 0) {
      if (errno == EINTR)
        continue;
      return -errno;
    }
    for (struct nlmsghdr *h = (struct nlmsghdr *)buf; NLMSG_OK(h, (size_t)n);
         h = NLMSG_NEXT(h, n)) {
      if (h->nlmsg_seq != q->h.nlmsg_seq)
        continue;
      if (h->nlmsg_type == NLMSG_ERROR) {
        struct nlmsgerr *e = NLMSG_DATA(h);
        return e->error;
      }
    }
  }
}

static void nl_init(struct nlreq *q, unsigned short type, unsigned short flags, size_t hdrlen) {
  memset(q, 0, sizeof *q);
  q->h.nlmsg_len = (uint32_t)NLMSG_LENGTH(hdrlen);
  q->h.nlmsg_type = type;
  q->h.nlmsg_flags = flags;
}

/* "xx:xx:xx:xx:xx:xx" -> 6 bytes. */
static int parse_mac(const char *s, unsigned char mac[6]) {
  unsigned v[6];
  char end;
  if (sscanf(s, "%2x:%2x:%2x:%2x:%2x:%2x%c", &v[0], &v[1], &v[2], &v[3], &v[4], &v[5], &end) != 6)
    return -EINVAL;
  for (int i = 0; i < 6; i++)
    mac[i] = (unsigned char)v[i];
  return (mac[0] & 1) ? -EINVAL : 0;
}

static int link_set(int fd, int ifindex, int up, uint32_t mtu, const char *rename_to,
                    const char *set_mac) {
  struct nlreq q;
  nl_init(&q, RTM_NEWLINK, 0, sizeof(struct ifinfomsg));
  struct ifinfomsg *ifi = NLMSG_DATA(&q.h);
  ifi->ifi_family = AF_UNSPEC;
  ifi->ifi_index = ifindex;
  ifi->ifi_change = IFF_UP;
  ifi->ifi_flags = up ? IFF_UP : 0;
  if (mtu)
    nl_attr(&q, IFLA_MTU, &mtu, sizeof mtu);
  if (rename_to && rename_to[0])
    nl_attr(&q, IFLA_IFNAME, rename_to, strlen(rename_to) + 1);
  if (set_mac && set_mac[0]) {
    /* the kernel applies the address before bringing the link up, and
     * virtio-net passes it to the device, whose receive filter follows */
    unsigned char mac[6];
    if (parse_mac(set_mac, mac) < 0)
      return -EINVAL;
    nl_attr(&q, IFLA_ADDRESS, mac, sizeof mac);
  }
  return nl_talk(fd, &q);
}

/* "10.0.0.2/24" -> family, bytes, prefix length. */
static int parse_cidr(const char *s, int *family, unsigned char addr[16], int *plen) {
  char buf[64];
  if (snprintf(buf, sizeof buf, "%s", s) >= (int)sizeof buf)
    return -EINVAL;
  char *slash = strchr(buf, '/');
  if (slash)
    *slash = 0;
  if (inet_pton(AF_INET, buf, addr) == 1)
    *family = AF_INET;
  else if (inet_pton(AF_INET6, buf, addr) == 1)
    *family = AF_INET6;
  else
    return -EINVAL;
  int max = *family == AF_INET ? 32 : 128;
  *plen = max;
  if (slash) {
    char *end;
    long v = strtol(slash + 1, &end, 10);
    if (*end || end == slash + 1 || v < 0 || v > max)
      return -EINVAL;
    *plen = (int)v;
  }
  return 0;
}

static int addr_add(int fd, int ifindex, const char *cidr) {
  int family, plen;
  unsigned char a[16];
  if (parse_cidr(cidr, &family, a, &plen) < 0)
    return -EINVAL;
  struct nlreq q;
  nl_init(&q, RTM_NEWADDR, NLM_F_CREATE | NLM_F_REPLACE, sizeof(struct ifaddrmsg));
  struct ifaddrmsg *ifa = NLMSG_DATA(&q.h);
  ifa->ifa_family = (unsigned char)family;
  ifa->ifa_prefixlen = (unsigned char)plen;
  ifa->ifa_index = (unsigned)ifindex;
  size_t len = family == AF_INET ? 4 : 16;
  nl_attr(&q, IFA_LOCAL, a, len);
  nl_attr(&q, IFA_ADDRESS, a, len);
  return nl_talk(fd, &q);
}

static int route_add(int fd, const struct proto_route *rt) {
  int family = 0, plen = 0, gfamily = 0, gplen;
  unsigned char dst[16] = {0}, gw[16];
  if (rt->gw[0] && parse_cidr(rt->gw, &gfamily, gw, &gplen) < 0)
    return -EINVAL;
  if (strcmp(rt->dst, "default") == 0)
    family = gfamily ? gfamily : AF_INET;
  else if (parse_cidr(rt->dst, &family, dst, &plen) < 0)
    return -EINVAL;
  if (gfamily && gfamily != family)
    return -EINVAL;
  struct nlreq q;
  nl_init(&q, RTM_NEWROUTE, NLM_F_CREATE | NLM_F_REPLACE, sizeof(struct rtmsg));
  struct rtmsg *r = NLMSG_DATA(&q.h);
  r->rtm_family = (unsigned char)family;
  r->rtm_dst_len = (unsigned char)plen;
  r->rtm_table = RT_TABLE_MAIN;
  r->rtm_protocol = RTPROT_BOOT;
  r->rtm_scope = gfamily ? RT_SCOPE_UNIVERSE : RT_SCOPE_LINK;
  r->rtm_type = RTN_UNICAST;
  size_t len = family == AF_INET ? 4 : 16;
  if (plen)
    nl_attr(&q, RTA_DST, dst, len);
  if (gfamily)
    nl_attr(&q, RTA_GATEWAY, gw, len);
  if (rt->dev[0]) {
    int oif = (int)if_nametoindex(rt->dev);
    if (oif == 0)
      return -ENODEV;
    nl_attr(&q, RTA_OIF, &oif, sizeof oif);
  }
  return nl_talk(fd, &q);
}

/* The interface whose MAC address is mac, by its sysfs address file. */
static int find_by_mac(const char *mac, char name[IFNAMSIZ]) {
  DIR *d = opendir("/sys/class/net");
  if (d == NULL)
    return -errno;
  struct dirent *de;
  int r = -ENODEV;
  while ((de = readdir(d)) != NULL) {
    if (de->d_name[0] == '.' || strlen(de->d_name) >= IFNAMSIZ)
      continue;
    char path[300], addr[64] = {0};
    snprintf(path, sizeof path, "/sys/class/net/%s/address", de->d_name);
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0)
      continue;
    ssize_t n = read(fd, addr, sizeof addr - 1);
    close(fd);
    if (n <= 0)
      continue;
    addr[strcspn(addr, "\n")] = 0;
    if (strcasecmp(addr, mac) == 0) {
      snprintf(name, IFNAMSIZ, "%s", de->d_name);
      r = 0;
      break;
    }
  }
  closedir(d);
  return r;
}

/* An interface given no IPv6 address gets no IPv6 at all, as Docker does
 * on networks without IPv6: no link-local address, duplicate address
 * detection, router solicitations or multicast reports (timers and
 * packets a container did not ask for). */
static void no_ipv6_unless_given(const char *ifname, const struct proto_iface *f) {
  for (uint32_t j = 0; j < f->n_addrs; j++)
    if (strchr(f->addrs[j], ':'))
      return;
  char path[128];
  snprintf(path, sizeof path, "/proc/sys/net/ipv6/conf/%s/disable_ipv6", ifname);
  int fd = open(path, O_WRONLY | O_CLOEXEC);
  if (fd >= 0) {
    (void)!write(fd, "1", 1);
    close(fd);
  }
}

int net_loopback_up(void) {
  int fd = socket(AF_NETLINK, SOCK_RAW | SOCK_CLOEXEC, NETLINK_ROUTE);
  if (fd < 0)
    return -errno;
  int r = link_set(fd, (int)if_nametoindex("lo"), 1, 0, NULL, NULL);
  close(fd);
  return r;
}

int net_configure(const struct proto_configure *c, char *msg, size_t msglen) {
  int fd = socket(AF_NETLINK, SOCK_RAW | SOCK_CLOEXEC, NETLINK_ROUTE);
  if (fd < 0) {
    snprintf(msg, msglen, "netlink socket: %s", strerror(errno));
    return -errno;
  }
  int r = 0;
  for (uint32_t i = 0; i < c->n_ifaces; i++) {
    const struct proto_iface *f = &c->ifaces[i];
    char name[IFNAMSIZ];
    if ((r = find_by_mac(f->mac, name)) < 0) {
      snprintf(msg, msglen, "no network interface with MAC address %s", f->mac);
      goto out;
    }
    int idx = (int)if_nametoindex(name);
    no_ipv6_unless_given(name, f);
    const char *rename_to = f->name[0] && strcmp(f->name, name) != 0 ? f->name : NULL;
    if ((r = link_set(fd, idx, 1, f->mtu, rename_to, f->set_mac)) < 0) {
      snprintf(msg, msglen, "configure interface %s (%s): %s", name, f->mac, strerror(-r));
      goto out;
    }
    for (uint32_t j = 0; j < f->n_addrs; j++) {
      if ((r = addr_add(fd, idx, f->addrs[j])) < 0) {
        snprintf(msg, msglen, "address %s on %s: %s", f->addrs[j], name, strerror(-r));
        goto out;
      }
    }
  }
  for (uint32_t i = 0; i < c->n_routes; i++) {
    if ((r = route_add(fd, &c->routes[i])) < 0) {
      snprintf(msg, msglen, "route %s via %s: %s", c->routes[i].dst,
               c->routes[i].gw[0] ? c->routes[i].gw : "(link)", strerror(-r));
      goto out;
    }
  }
  r = 0;
out:
  close(fd);
  return r;
}
