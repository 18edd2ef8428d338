/* The DNS record table: visibility by source address, rotation, removal.
 * Table-driven: (asker, name, expected result, expected addresses). */
#include <arpa/inet.h>
#include <string.h>

#include "net/dns_cache.h"
#include "net/dns_records.h"
#include "runtime/util/error.h"
#include "test.h"

static struct in_addr ip(const char *s) {
  struct in_addr a;
  inet_pton(AF_INET, s, &a);
  return a;
}

struct row {
  const char *from, *name;
  enum dns_lookup_result want;
  const char *addrs; /* space-separated, any order */
};

static void check_row(struct dns_records *r, const struct row *w) {
  struct in_addr out[8];
  size_t n = 0;
  enum dns_lookup_result got = dns_records_lookup(r, ip(w->from), w->name, out, 8, &n);
  CHECK_MSG(got == w->want, "from %s name %s: result %d, want %d", w->from, w->name, got, w->want);
  size_t want_n = 0;
  if (w->addrs) {
    char buf[128];
    snprintf(buf, sizeof(buf), "%s", w->addrs);
    char *save = NULL;
    for (char *t = strtok_r(buf, " ", &save); t; t = strtok_r(NULL, " ", &save)) {
      want_n++;
      bool found = false;
      for (size_t i = 0; i < n; i++)
        found = found || out[i].s_addr == ip(t).s_addr;
      CHECK_MSG(found, "from %s name %s: %s missing", w->from, w->name, t);
    }
  }
  CHECK_MSG(n == want_n, "from %s name %s: %zu addresses, want %zu", w->from, w->name, n, want_n);
}

int main(void) {
  struct stack_error *err = NULL;
  struct dns_records *r = dns_records_new();
  /* front: web + proxy; back: web + api (two instances), db with alias. */
  CHECK_INTEQ(dns_records_add_network(r, "front", ip("10.1.0.0"), 24, &err), 0);
  CHECK_INTEQ(dns_records_add_network(r, "back", ip("10.2.0.0"), 24, &err), 0);
  CHECK(dns_records_add_network(r, "back", ip("10.3.0.0"), 24, &err) < 0);
  stack_error_free(err), err = NULL;
  const char *web[] = {"web", "p-web-1"};
  const char *web_back[] = {"web", "p-web-1", "backend-alias"};
  const char *proxy[] = {"proxy", "p-proxy-1", "edge"};
  const char *api1[] = {"api", "p-api-1"};
  const char *api2[] = {"api", "p-api-2"};
  CHECK_INTEQ(dns_records_add_endpoint(r, "front", "p-web-1", ip("10.1.0.2"), web, 2, &err), 0);
  CHECK_INTEQ(dns_records_add_endpoint(r, "back", "p-web-1", ip("10.2.0.2"), web_back, 3, &err), 0);
  CHECK_INTEQ(dns_records_add_endpoint(r, "front", "p-proxy-1", ip("10.1.0.3"), proxy, 3, &err), 0);
  CHECK_INTEQ(dns_records_add_endpoint(r, "back", "p-api-1", ip("10.2.0.3"), api1, 2, &err), 0);
  CHECK_INTEQ(dns_records_add_endpoint(r, "back", "p-api-2", ip("10.2.0.4"), api2, 2, &err), 0);
  CHECK_INTEQ(dns_records_add_private(r, "p-proxy-1", "host.internal", ip("192.0.2.9"), &err), 0);
  CHECK(dns_records_add_endpoint(r, "nope", "x", ip("10.9.0.2"), web, 1, &err) < 0);
  stack_error_free(err), err = NULL;
  const char *bad[] = {"has space"};
  CHECK(dns_records_add_endpoint(r, "front", "x", ip("10.1.0.9"), bad, 1, &err) < 0);
  CHECK(err && strstr(err->msg, "has space"));
  stack_error_free(err), err = NULL;

  const struct row rows[] = {
      /* proxy is on front only */
      {"10.1.0.3", "web", DNS_LOOKUP_FOUND, "10.1.0.2"},
      {"10.1.0.3", "WEB.", DNS_LOOKUP_FOUND, "10.1.0.2"},
      {"10.1.0.3", "api", DNS_LOOKUP_HIDDEN, NULL},
      {"10.1.0.3", "backend-alias", DNS_LOOKUP_HIDDEN, NULL},
      {"10.1.0.3", "host.internal", DNS_LOOKUP_FOUND, "192.0.2.9"},
      {"10.1.0.3", "debian.org", DNS_LOOKUP_UNKNOWN, NULL},
      /* web is on both: sees both of its own addresses and everyone */
      {"10.1.0.2", "web", DNS_LOOKUP_FOUND, "10.1.0.2 10.2.0.2"},
      {"10.2.0.2", "api", DNS_LOOKUP_FOUND, "10.2.0.3 10.2.0.4"},
      {"10.2.0.2", "edge", DNS_LOOKUP_FOUND, "10.1.0.3"},
      {"10.2.0.2", "backend-alias", DNS_LOOKUP_FOUND, "10.2.0.2"},
      /* another container's extra_hosts are not project names: forwarded */
      {"10.2.0.2", "host.internal", DNS_LOOKUP_UNKNOWN, NULL},
      /* api (back only) */
      {"10.2.0.3", "web", DNS_LOOKUP_FOUND, "10.2.0.2"},
      {"10.2.0.3", "proxy", DNS_LOOKUP_HIDDEN, NULL},
      {"10.2.0.3", "p-api-2", DNS_LOOKUP_FOUND, "10.2.0.4"},
      /* unknown asker inside back's subnet sees back */
      {"10.2.0.77", "api", DNS_LOOKUP_FOUND, "10.2.0.3 10.2.0.4"},
      {"10.2.0.77", "proxy", DNS_LOOKUP_HIDDEN, NULL},
      /* outsiders see nothing of the project */
      {"192.168.5.5", "web", DNS_LOOKUP_HIDDEN, NULL},
  };
  for (size_t i = 0; i < sizeof(rows) / sizeof(rows[0]); i++)
    check_row(r, &rows[i]);

  /* Rotation: the first answer alternates between the two api instances. */
  struct in_addr out[8];
  size_t n;
  uint32_t first[4];
  for (int i = 0; i < 4; i++) {
    dns_records_lookup(r, ip("10.2.0.2"), "api", out, 8, &n);
    first[i] = out[0].s_addr;
  }
  CHECK(first[0] != first[1] && first[0] == first[2] && first[1] == first[3]);

  /* Removing an instance removes its records and its visibility. */
  dns_records_remove_container(r, "p-api-2");
  check_row(r, &(struct row){"10.2.0.3", "api", DNS_LOOKUP_FOUND, "10.2.0.3"});
  dns_records_remove_container(r, "p-proxy-1");
  check_row(r, &(struct row){"10.2.0.2", "edge", DNS_LOOKUP_UNKNOWN, NULL});
  /* Its old address is now an unknown asker on front. */
  check_row(r, &(struct row){"10.1.0.3", "api", DNS_LOOKUP_HIDDEN, NULL});
  check_row(r, &(struct row){"10.1.0.3", "web", DNS_LOOKUP_FOUND, "10.1.0.2"});
  dns_records_free(r);

  /* The forwarder's cache: expiry, ageing, eviction of the oldest. */
  struct dns_cache *c = dns_cache_new(2);
  const uint8_t msg[] = {0, 1, 0x81, 0x80, 0, 0, 0, 0, 0, 0, 0, 0};
  uint8_t buf[64];
  size_t len;
  dns_cache_put(c, "1/1/a", msg, sizeof(msg), 5, 1000);
  CHECK_INTEQ(dns_cache_get(c, "1/1/a", 5999, buf, sizeof(buf), &len), 0);
  CHECK_INTEQ(len, sizeof(msg));
  CHECK(dns_cache_get(c, "1/1/a", 6000, buf, sizeof(buf), &len) < 0);
  CHECK_INTEQ(dns_cache_size(c), 0);
  dns_cache_put(c, "1/1/a", msg, sizeof(msg), 5, 0);
  dns_cache_put(c, "1/1/b", msg, sizeof(msg), 5, 0);
  dns_cache_put(c, "1/1/c", msg, sizeof(msg), 5, 0);
  CHECK_INTEQ(dns_cache_size(c), 2);
  CHECK(dns_cache_get(c, "1/1/a", 1, buf, sizeof(buf), &len) < 0);
  CHECK_INTEQ(dns_cache_get(c, "1/1/c", 1, buf, sizeof(buf), &len), 0);
  CHECK(dns_cache_get(c, "1/1/c", 1, buf, 4, &len) < 0);
  dns_cache_free(c);
  TEST_DONE();
}
