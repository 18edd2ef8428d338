/* /etc/resolv.conf for a guest that has no embedded DNS server on its
 * network (`stack run`'s default network), made from the host's as
 * Docker's default bridge makes it: the host's nameservers without the
 * ones on localhost (the guest has its own loopback) and without IPv6
 * ones (its network has no IPv6), Google's 8.8.8.8 and 8.8.4.4 when none
 * is left, the host's search domains and options.  --dns, --dns-search
 * and --dns-option each replace their own part. */
#ifndef STACK_NET_RESOLV_CONF_H
#define STACK_NET_RESOLV_CONF_H

/* Reads the host's resolv.conf: /etc/resolv.conf, or systemd-resolved's
 * list of upstream servers when /etc/resolv.conf names only its local listener (127.0.0.53)
 * (127.0.0.53), as Docker does.  path NULL: /etc/resolv.conf.  NULL when
 * none can be read (the guest then gets the defaults). */
char *resolv_conf_host(const char *path);

/* The guest's file from the host's text (may be NULL) and the run's
 * options (NULL-terminated lists, each may be NULL or empty); caller
 * frees. */
char *resolv_conf_for_guest(const char *host, const char *const *dns, const char *const *search,
                            const char *const *options);

#endif
