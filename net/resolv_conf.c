#include "resolv_conf.h"

#include <arpa/inet.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "runtime/util/cleanup.h"
#include "runtime/util/fsutil.h"
#include "runtime/util/sbuf.h"
#include "runtime/util/xalloc.h"

#define SYSTEMD_RESOLVED_LISTENER "127.0.0.53"
#define SYSTEMD_UPSTREAMS "/run/systemd/resolve/resolv.conf"

/* What the parts of a resolv.conf hold: the words after "nameserver",
 * the last "search" line's and every "options" line's. */
struct parsed {
  struct sbuf servers, search, options; /* space-separated words */
  size_t n_servers, n_resolved_local;
};

static void add_word(struct sbuf *b, const char *w, size_t n) {
  if (b->len)
    sbuf_puts(b, " ");
  sbuf_printf(b, "%.*s", (int)n, w);
}

/* The words of a line after its keyword, into b (replacing b's content
 * when replace). */
static void words(const char *p, const char *end, struct sbuf *b, bool replace) {
  if (replace)
    sbuf_reset(b);
  while (p < end) {
    p += strspn(p, " \t");
    size_t n = strcspn(p, " \t");
    if (p + n > end)
      n = (size_t)(end - p);
    if (n == 0)
      break;
    add_word(b, p, n);
    p += n;
  }
}

static bool keyword(const char **p, const char *end, const char *kw) {
  size_t n = strlen(kw);
  if ((size_t)(end - *p) <= n || strncmp(*p, kw, n) != 0 || ((*p)[n] != ' ' && (*p)[n] != '\t'))
    return false;
  *p += n;
  return true;
}

static void parse(const char *text, struct parsed *out) {
  for (const char *line = text; line && *line;) {
    const char *end = strchr(line, '\n');
    const char *next = end ? end + 1 : NULL;
    if (end == NULL)
      end = line + strlen(line);
    const char *p = line + strspn(line, " \t");
    if (p > end)
      p = end;
    const char *cut = memchr(p, '#', (size_t)(end - p));
    const char *cut2 = memchr(p, ';', (size_t)(end - p));
    if (cut2 && (!cut || cut2 < cut))
      cut = cut2;
    if (cut)
      end = cut;
    if (keyword(&p, end, "nameserver")) {
      p += strspn(p, " \t");
      size_t n = strcspn(p, " \t");
      if (p + n > end)
        n = (size_t)(end - p);
      char ip[64];
      if (n > 0 && n < sizeof ip) {
        memcpy(ip, p, n);
        ip[n] = '\0';
        struct in_addr a;
        if (strcmp(ip, SYSTEMD_RESOLVED_LISTENER) == 0)
          out->n_resolved_local++;
        /* only IPv4 resolvers off the host's loopback: the guest's
         * network has no IPv6, and its loopback is its own */
        if (inet_pton(AF_INET, ip, &a) == 1 && (ntohl(a.s_addr) >> 24) != 127) {
          add_word(&out->servers, ip, n);
          out->n_servers++;
        }
      }
    } else if (keyword(&p, end, "search")) {
      words(p, end, &out->search, true);
    } else if (keyword(&p, end, "options")) {
      words(p, end, &out->options, false);
    }
    line = next;
  }
}

static void parsed_free(struct parsed *p) {
  sbuf_free(&p->servers);
  sbuf_free(&p->search);
  sbuf_free(&p->options);
}

char *resolv_conf_host(const char *path) {
  char *text = NULL;
  if (fs_read_file(path ? path : "/etc/resolv.conf", 1 << 20, &text, NULL, NULL) < 0)
    return NULL;
  struct parsed p = {SBUF_INIT, SBUF_INIT, SBUF_INIT, 0, 0};
  parse(text, &p);
  /* nothing but systemd-resolved's local listener (127.0.0.53): its
   * upstreams are what a guest can use */
  bool only_resolved_local = p.n_resolved_local > 0 && p.n_servers == 0;
  parsed_free(&p);
  char *up = NULL;
  if (path == NULL && only_resolved_local &&
      fs_read_file(SYSTEMD_UPSTREAMS, 1 << 20, &up, NULL, NULL) == 0) {
    free(text);
    return up;
  }
  return text;
}

static bool empty(const char *const *v) { return v == NULL || v[0] == NULL; }

char *resolv_conf_for_guest(const char *host, const char *const *dns, const char *const *search,
                            const char *const *options) {
  struct parsed p = {SBUF_INIT, SBUF_INIT, SBUF_INIT, 0, 0};
  if (host)
    parse(host, &p);
  _cleanup_sbuf_ struct sbuf b = SBUF_INIT;
  if (!empty(dns)) {
    for (const char *const *d = dns; *d; d++)
      sbuf_printf(&b, "nameserver %s\n", *d);
  } else if (p.servers.len) {
    for (const char *s = p.servers.data; *s;) {
      size_t n = strcspn(s, " ");
      sbuf_printf(&b, "nameserver %.*s\n", (int)n, s);
      s += n + (s[n] == ' ');
    }
  } else {
    /* Docker's defaults when the host gives none the guest can use */
    sbuf_puts(&b, "nameserver 8.8.8.8\nnameserver 8.8.4.4\n");
  }
  if (!empty(search)) {
    sbuf_puts(&b, "search");
    for (const char *const *s = search; *s; s++)
      sbuf_printf(&b, " %s", *s);
    sbuf_puts(&b, "\n");
  } else if (p.search.len) {
    sbuf_printf(&b, "search %s\n", p.search.data);
  }
  if (!empty(options)) {
    sbuf_puts(&b, "options");
    for (const char *const *o = options; *o; o++)
      sbuf_printf(&b, " %s", *o);
    sbuf_puts(&b, "\n");
  } else if (p.options.len) {
    sbuf_printf(&b, "options %s\n", p.options.data);
  }
  parsed_free(&p);
  return sbuf_steal(&b);
}
