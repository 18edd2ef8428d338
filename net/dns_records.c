#include "dns_records.h"

#include <ctype.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "runtime/util/error.h"
#include "runtime/util/xalloc.h"

struct rec_network {
  char *name;
  uint32_t subnet, mask; /* host order */
};

struct rec_endpoint {
  char *network, *container;
  struct in_addr addr;
};

struct rec_name {
  char *name;     /* lower-case, no trailing dot */
  char *network;  /* visible on this network, or NULL when private */
  char *owner;    /* the container it came from (for removal) */
  bool priv;      /* only `owner` sees it */
  struct in_addr addr;
};

struct dns_records {
  struct rec_network *nets;
  size_t n_nets, cap_nets;
  struct rec_endpoint *eps;
  size_t n_eps, cap_eps;
  struct rec_name *names;
  size_t n_names, cap_names;
  unsigned rotate; /* advances on every answer with several addresses */
};

struct dns_records *dns_records_new(void) { return xcalloc(1, sizeof(struct dns_records)); }

void dns_records_free(struct dns_records *r) {
  if (r == NULL)
    return;
  for (size_t i = 0; i < r->n_nets; i++)
    free(r->nets[i].name);
  for (size_t i = 0; i < r->n_eps; i++) {
    free(r->eps[i].network);
    free(r->eps[i].container);
  }
  for (size_t i = 0; i < r->n_names; i++) {
    free(r->names[i].name);
    free(r->names[i].network);
    free(r->names[i].owner);
  }
  free(r->nets);
  free(r->eps);
  free(r->names);
  free(r);
}

static uint32_t prefix_mask(int prefix) {
  return prefix <= 0 ? 0 : prefix >= 32 ? 0xffffffffu : ~((1u << (32 - prefix)) - 1);
}

/* Lower-cases and strips one trailing dot; NULL if it cannot be a DNS name. */
static char *normalize_name(const char *name) {
  size_t n = strlen(name);
  if (n > 0 && name[n - 1] == '.')
    n--;
  if (n == 0 || n > 253)
    return NULL;
  char *s = xstrndup(name, n);
  for (char *p = s; *p; p++) {
    if ((unsigned char)*p <= 0x20 || (unsigned char)*p >= 0x7f)
      return free(s), NULL;
    *p = (char)tolower((unsigned char)*p);
  }
  return s;
}

int dns_records_add_network(struct dns_records *r, const char *network, struct in_addr subnet,
                            int prefix, struct stack_error **err) {
  if (prefix < 0 || prefix > 32)
    return stack_error_set(err, -EINVAL, "network %s: invalid prefix length /%d", network, prefix);
  for (size_t i = 0; i < r->n_nets; i++)
    if (strcmp(r->nets[i].name, network) == 0)
      return stack_error_set(err, -EEXIST, "network %s is already in the DNS table", network);
  r->nets = xgrow(r->nets, &r->cap_nets, r->n_nets + 1, sizeof(*r->nets));
  uint32_t mask = prefix_mask(prefix);
  r->nets[r->n_nets++] = (struct rec_network){xstrdup(network), ntohl(subnet.s_addr) & mask, mask};
  return 0;
}

static bool have_network(const struct dns_records *r, const char *network) {
  for (size_t i = 0; i < r->n_nets; i++)
    if (strcmp(r->nets[i].name, network) == 0)
      return true;
  return false;
}

static int add_name(struct dns_records *r, const char *name, const char *network,
                    const char *owner, bool priv, struct in_addr addr, struct stack_error **err) {
  char *norm = normalize_name(name);
  if (norm == NULL)
    return stack_error_set(err, -EINVAL,
                           "\"%s\" cannot be a DNS name (empty, too long or has spaces or "
                           "control characters): rename the service, alias or host",
                           name);
  for (size_t i = 0; i < r->n_names; i++) {
    struct rec_name *e = &r->names[i];
    if (e->addr.s_addr == addr.s_addr && e->priv == priv && strcmp(e->name, norm) == 0 &&
        strcmp(e->owner, owner) == 0 &&
        (network == NULL ? e->network == NULL : e->network && strcmp(e->network, network) == 0)) {
      free(norm);
      return 0;
    }
  }
  r->names = xgrow(r->names, &r->cap_names, r->n_names + 1, sizeof(*r->names));
  r->names[r->n_names++] = (struct rec_name){norm, network ? xstrdup(network) : NULL,
                                             xstrdup(owner), priv, addr};
  return 0;
}

int dns_records_add_endpoint(struct dns_records *r, const char *network, const char *container,
                             struct in_addr addr, const char *const *names, size_t n_names,
                             struct stack_error **err) {
  if (!have_network(r, network))
    return stack_error_set(err, -ENOENT, "container %s: network %s is not in the DNS table",
                           container, network);
  bool have = false;
  for (size_t i = 0; i < r->n_eps && !have; i++)
    have = r->eps[i].addr.s_addr == addr.s_addr && strcmp(r->eps[i].network, network) == 0 &&
           strcmp(r->eps[i].container, container) == 0;
  if (!have) {
    r->eps = xgrow(r->eps, &r->cap_eps, r->n_eps + 1, sizeof(*r->eps));
    r->eps[r->n_eps++] = (struct rec_endpoint){xstrdup(network), xstrdup(container), addr};
  }
  for (size_t i = 0; i < n_names; i++) {
    int rc = add_name(r, names[i], network, container, false, addr, err);
    if (rc < 0)
      return stack_error_prefix(err, "container %s on network %s", container, network);
  }
  return 0;
}

int dns_records_add_private(struct dns_records *r, const char *container, const char *name,
                            struct in_addr addr, struct stack_error **err) {
  int rc = add_name(r, name, NULL, container, true, addr, err);
  return rc < 0 ? stack_error_prefix(err, "container %s", container) : 0;
}

void dns_records_remove_container(struct dns_records *r, const char *container) {
  size_t j = 0;
  for (size_t i = 0; i < r->n_eps; i++) {
    if (strcmp(r->eps[i].container, container) == 0) {
      free(r->eps[i].network);
      free(r->eps[i].container);
    } else {
      r->eps[j++] = r->eps[i];
    }
  }
  r->n_eps = j;
  j = 0;
  for (size_t i = 0; i < r->n_names; i++) {
    if (strcmp(r->names[i].owner, container) == 0) {
      free(r->names[i].name);
      free(r->names[i].network);
      free(r->names[i].owner);
    } else {
      r->names[j++] = r->names[i];
    }
  }
  r->n_names = j;
}

/* Whether the asker (its container, else the networks around its address)
 * may see network. */
static bool network_visible(const struct dns_records *r, const char *asker, uint32_t src,
                            const char *network) {
  if (asker != NULL) {
    for (size_t i = 0; i < r->n_eps; i++)
      if (strcmp(r->eps[i].container, asker) == 0 && strcmp(r->eps[i].network, network) == 0)
        return true;
    return false;
  }
  for (size_t i = 0; i < r->n_nets; i++)
    if (strcmp(r->nets[i].name, network) == 0 && (src & r->nets[i].mask) == r->nets[i].subnet)
      return true;
  return false;
}

enum dns_lookup_result dns_records_lookup(struct dns_records *r, struct in_addr src,
                                          const char *name, struct in_addr *out, size_t max,
                                          size_t *n) {
  *n = 0;
  char buf[256];
  size_t len = strlen(name);
  if (len > 0 && name[len - 1] == '.')
    len--;
  if (len == 0 || len >= sizeof(buf))
    return DNS_LOOKUP_UNKNOWN;
  for (size_t i = 0; i < len; i++)
    buf[i] = (char)tolower((unsigned char)name[i]);
  buf[len] = '\0';

  const char *asker = NULL;
  for (size_t i = 0; i < r->n_eps && asker == NULL; i++)
    if (r->eps[i].addr.s_addr == src.s_addr)
      asker = r->eps[i].container;
  uint32_t src_h = ntohl(src.s_addr);

  bool known = false;
  for (size_t i = 0; i < r->n_names; i++) {
    const struct rec_name *e = &r->names[i];
    if (strcmp(e->name, buf) != 0)
      continue;
    bool visible = e->priv ? asker != NULL && strcmp(e->owner, asker) == 0
                           : network_visible(r, asker, src_h, e->network);
    /* Another container's extra_hosts say nothing about the project's own
     * names, so they do not turn a forwarded name into NXDOMAIN. */
    known = known || visible || !e->priv;
    if (!visible)
      continue;
    bool dup = false;
    for (size_t k = 0; k < *n && !dup; k++)
      dup = out[k].s_addr == e->addr.s_addr;
    if (!dup && *n < max)
      out[(*n)++] = e->addr;
  }
  if (*n == 0)
    return known ? DNS_LOOKUP_HIDDEN : DNS_LOOKUP_UNKNOWN;
  if (*n > 1) {
    /* Rotate so that successive askers start with different instances. */
    size_t k = r->rotate++ % *n;
    struct in_addr tmp[64];
    size_t cnt = *n < 64 ? *n : 64;
    for (size_t i = 0; i < cnt; i++)
      tmp[i] = out[(i + k) % cnt];
    memcpy(out, tmp, cnt * sizeof(*out));
  }
  return DNS_LOOKUP_FOUND;
}
