/* The grammar follows distribution/reference: a domain of hostname labels
 * with an optional port, path components of [a-z0-9] joined by one '.', '_',
 * "__" or any number of '-', a tag of [A-Za-z0-9_.-] (at most 128, not
 * starting with '.' or '-'), and a sha256 digest. */
#include "runtime/image/reference.h"

#include <arpa/inet.h>
#include <ctype.h>
#include <errno.h>
#include <string.h>

#include "runtime/util/cleanup.h"
#include "runtime/util/error.h"
#include "runtime/util/xalloc.h"

#define REF_MAX_NAME 255

static bool is_lower_alnum(char c) { return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9'); }

static bool valid_path_component(const char *s, size_t n) {
  if (n == 0 || !is_lower_alnum(s[0]) || !is_lower_alnum(s[n - 1]))
    return false;
  for (size_t i = 1; i < n; i++) {
    char c = s[i];
    if (is_lower_alnum(c))
      continue;
    if (c == '.' || c == '_') {
      /* one '.', one '_' or "__" */
      size_t run = 1;
      while (i + run < n && s[i + run] == '_' && c == '_')
        run++;
      if (run > 2 || !is_lower_alnum(s[i + run]))
        return false;
      i += run - 1;
      continue;
    }
    if (c == '-') {
      while (i + 1 < n && s[i + 1] == '-')
        i++;
      if (!is_lower_alnum(s[i + 1]))
        return false;
      continue;
    }
    return false;
  }
  return true;
}

static bool valid_domain(const char *s, size_t n) {
  if (n == 0)
    return false;
  const char *colon = memchr(s, ':', n);
  size_t host_len = colon ? (size_t)(colon - s) : n;
  if (colon) {
    size_t plen = n - host_len - 1;
    if (plen == 0 || plen > 5)
      return false;
    for (size_t i = host_len + 1; i < n; i++)
      if (!isdigit((unsigned char)s[i]))
        return false;
  }
  if (host_len == 0)
    return false;
  size_t label = 0;
  for (size_t i = 0; i < host_len; i++) {
    char c = s[i];
    if (c == '.') {
      if (label == 0 || s[i - 1] == '-')
        return false;
      label = 0;
      continue;
    }
    if (!isalnum((unsigned char)c) && c != '-')
      return false;
    if (label == 0 && c == '-')
      return false;
    label++;
  }
  return label > 0 && s[host_len - 1] != '-';
}

static bool valid_tag(const char *s) {
  size_t n = strlen(s);
  if (n == 0 || n > 128 || s[0] == '.' || s[0] == '-')
    return false;
  for (size_t i = 0; i < n; i++)
    if (!isalnum((unsigned char)s[i]) && s[i] != '_' && s[i] != '.' && s[i] != '-')
      return false;
  return true;
}

static bool valid_digest(const char *s) {
  if (strncmp(s, "sha256:", 7) != 0 || strlen(s) != 7 + 64)
    return false;
  for (const char *p = s + 7; *p; p++)
    if (!((*p >= '0' && *p <= '9') || (*p >= 'a' && *p <= 'f')))
      return false;
  return true;
}

void image_ref_clear(struct image_ref *r) {
  free(r->domain);
  free(r->path);
  free(r->tag);
  free(r->digest);
  *r = (struct image_ref){0};
}

int image_ref_parse(const char *s, struct image_ref *out, struct stack_error **err) {
  *out = (struct image_ref){0};
  if (s == NULL || *s == '\0')
    return stack_error_set(err, -EINVAL, "invalid image reference \"\": it is empty");
  _cleanup_free_ char *work = xstrdup(s);

  _cleanup_free_ char *digest = NULL;
  char *at = strchr(work, '@');
  if (at) {
    *at = '\0';
    if (!valid_digest(at + 1))
      return stack_error_set(err, -EINVAL,
                             "invalid image reference \"%s\": the digest must be sha256: and 64 "
                             "lowercase hex digits",
                             s);
    digest = xstrdup(at + 1);
  }

  /* The tag is after the last ':' that comes after the last '/', so that a
   * registry port is not mistaken for a tag. */
  _cleanup_free_ char *tag = NULL;
  char *slash = strrchr(work, '/');
  char *colon = strrchr(slash ? slash : work, ':');
  if (colon) {
    *colon = '\0';
    if (!valid_tag(colon + 1))
      return stack_error_set(err, -EINVAL,
                             "invalid image reference \"%s\": bad tag \"%s\" (use letters, digits, "
                             "'_', '.', '-', at most 128, not starting with '.' or '-')",
                             s, colon + 1);
    tag = xstrdup(colon + 1);
  }

  const char *name = work;
  const char *first_slash = strchr(name, '/');
  _cleanup_free_ char *domain = NULL;
  const char *path = name;
  if (first_slash) {
    size_t n = (size_t)(first_slash - name);
    bool is_domain = memchr(name, '.', n) || memchr(name, ':', n) ||
                     (n == 9 && strncmp(name, "localhost", 9) == 0);
    for (size_t i = 0; i < n && !is_domain; i++)
      if (isupper((unsigned char)name[i]))
        is_domain = true;
    if (is_domain) {
      if (!valid_domain(name, n))
        return stack_error_set(err, -EINVAL,
                               "invalid image reference \"%s\": bad registry host \"%.*s\"", s,
                               (int)n, name);
      domain = xstrndup(name, n);
      path = first_slash + 1;
    }
  }
  if (domain == NULL)
    domain = xstrdup("docker.io");
  if (strcmp(domain, "index.docker.io") == 0) {
    free(domain);
    domain = xstrdup("docker.io");
  }

  if (*path == '\0')
    return stack_error_set(err, -EINVAL, "invalid image reference \"%s\": the name is empty", s);
  for (const char *p = path; *p;) {
    const char *e = strchr(p, '/');
    size_t n = e ? (size_t)(e - p) : strlen(p);
    if (!valid_path_component(p, n)) {
      bool upper = false;
      for (size_t i = 0; i < n; i++)
        upper |= isupper((unsigned char)p[i]) != 0;
      return stack_error_set(err, -EINVAL,
                             "invalid image reference \"%s\": bad name component \"%.*s\"%s", s,
                             (int)n, p,
                             upper ? " (repository names must be lowercase)"
                                   : " (use lowercase letters and digits separated by '.', '_', "
                                     "'__' or '-')");
    }
    if (!e)
      break;
    p = e + 1;
    if (*p == '\0')
      return stack_error_set(err, -EINVAL, "invalid image reference \"%s\": trailing '/'", s);
  }

  _cleanup_free_ char *full_path = NULL;
  if (strcmp(domain, "docker.io") == 0 && strchr(path, '/') == NULL)
    full_path = xasprintf("library/%s", path);
  else
    full_path = xstrdup(path);
  if (strlen(domain) + 1 + strlen(full_path) > REF_MAX_NAME)
    return stack_error_set(err, -EINVAL,
                           "invalid image reference \"%s\": the name is longer than %d characters",
                           s, REF_MAX_NAME);

  if (tag == NULL && digest == NULL)
    tag = xstrdup("latest");
  out->domain = steal_pointer(&domain);
  out->path = steal_pointer(&full_path);
  out->tag = steal_pointer(&tag);
  out->digest = steal_pointer(&digest);
  return 0;
}

char *image_ref_name(const struct image_ref *r) { return xasprintf("%s/%s", r->domain, r->path); }

char *image_ref_string(const struct image_ref *r) {
  return xasprintf("%s/%s%s%s%s%s", r->domain, r->path, r->tag ? ":" : "", r->tag ? r->tag : "",
                   r->digest ? "@" : "", r->digest ? r->digest : "");
}

const char *image_ref_reference(const struct image_ref *r) {
  return r->digest ? r->digest : r->tag;
}

const char *image_ref_api_host(const struct image_ref *r) {
  return strcmp(r->domain, "docker.io") == 0 ? "registry-1.docker.io" : r->domain;
}

bool image_ref_host_is_loopback(const char *host) {
  if (host[0] == '[')
    return strncmp(host, "[::1]", 5) == 0 && (host[5] == '\0' || host[5] == ':');
  size_t n = strcspn(host, ":");
  if (n == 9 && strncmp(host, "localhost", 9) == 0)
    return true;
  /* A numeric 127.0.0.0/8 address only: "127.example.com" is a name. */
  char addr[INET_ADDRSTRLEN];
  struct in_addr a;
  if (n >= sizeof(addr))
    return false;
  memcpy(addr, host, n);
  addr[n] = '\0';
  return inet_pton(AF_INET, addr, &a) == 1 && (ntohl(a.s_addr) >> 24) == 127;
}
