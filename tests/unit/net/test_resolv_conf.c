/* The guest's resolv.conf on stack run's default network, made from the
 * host's as Docker's default bridge makes it. */
#include <stdlib.h>
#include <string.h>

#include "net/resolv_conf.h"
#include "test.h"

static void check(const char *host, const char *const *dns, const char *const *search,
                  const char *const *opts, const char *want) {
  char *got = resolv_conf_for_guest(host, dns, search, opts);
  CHECK_STREQ(got, want);
  free(got);
}

int main(void) {
  /* localhost and IPv6 nameservers go; search (the last line) and options
   * (every line) stay; comments and other keywords go */
  check("# by hand\nnameserver 127.0.0.1\nnameserver 10.0.0.2 # office\nnameserver ::1\n"
        "nameserver 2001:db8::1\nnameserver 192.0.2.53\nsearch a.example b.example\n"
        "search c.example\ndomain x.example\noptions ndots:2\noptions\trotate\n",
        NULL, NULL, NULL,
        "nameserver 10.0.0.2\nnameserver 192.0.2.53\nsearch c.example\n"
        "options ndots:2 rotate\n");
  /* nothing usable left (systemd-resolved's stub, no file): Docker's
   * defaults */
  check("nameserver 127.0.0.53\noptions edns0 trust-ad\nsearch lan\n", NULL, NULL, NULL,
        "nameserver 8.8.8.8\nnameserver 8.8.4.4\nsearch lan\noptions edns0 trust-ad\n");
  check(NULL, NULL, NULL, NULL, "nameserver 8.8.8.8\nnameserver 8.8.4.4\n");
  check("", NULL, NULL, NULL, "nameserver 8.8.8.8\nnameserver 8.8.4.4\n");
  /* --dns, --dns-search, --dns-option each replace their own part (a
   * --dns on localhost is the user's choice: kept) */
  const char *dns[] = {"10.9.9.9", "127.0.0.1", NULL};
  const char *search[] = {"corp.example", NULL};
  const char *opts[] = {"ndots:1", "timeout:1", NULL};
  const char *host = "nameserver 10.0.0.2\nsearch lan\noptions rotate\n";
  check(host, dns, NULL, NULL,
        "nameserver 10.9.9.9\nnameserver 127.0.0.1\nsearch lan\noptions rotate\n");
  check(host, NULL, search, NULL, "nameserver 10.0.0.2\nsearch corp.example\noptions rotate\n");
  check(host, NULL, NULL, opts, "nameserver 10.0.0.2\nsearch lan\noptions ndots:1 timeout:1\n");
  const char *none[] = {NULL};
  check(host, none, none, none, "nameserver 10.0.0.2\nsearch lan\noptions rotate\n");
  /* malformed lines are skipped */
  check("nameserver\nnameserver \nnameserverx 10.1.1.1\nnameserver 10.1.1.1\r\n"
        "nameserver 999.1.1.1\nsearch\n",
        NULL, NULL, NULL, "nameserver 8.8.8.8\nnameserver 8.8.4.4\n");
  TEST_DONE();
}
