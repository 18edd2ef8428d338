#include "net_names.h"

#include <openssl/evp.h>
#include <stdio.h>
#include <string.h>

#include "runtime/util/cleanup.h"
#include "runtime/util/paths.h"

/* sha256 over the data root and the strings joined with NUL, so
 * ("ab","c") != ("a","bc"), and the same project name in two stores (two
 * users, or parallel tests) never shares a bridge. */
static void digest(const char *const *parts, int n, unsigned char md[32]) {
  EVP_MD_CTX *ctx = EVP_MD_CTX_new();
  unsigned len = 0;
  _cleanup_free_ char *root = stack_data_root();
  EVP_DigestInit_ex(ctx, EVP_sha256(), NULL);
  EVP_DigestUpdate(ctx, root, strlen(root) + 1);
  for (int i = 0; i < n; i++)
    EVP_DigestUpdate(ctx, parts[i], strlen(parts[i]) + 1);
  EVP_DigestFinal_ex(ctx, md, &len);
  EVP_MD_CTX_free(ctx);
}

static void hexname(const char *prefix, const unsigned char md[32], size_t digits, char *out,
                    size_t size) {
  static const char hex[] = "0123456789abcdef";
  size_t o = (size_t)snprintf(out, size, "%s", prefix);
  for (size_t i = 0; i < digits && o + 1 < size; i++)
    out[o++] = hex[(md[i / 2] >> (i % 2 ? 0 : 4)) & 0xf];
  out[o] = '\0';
}

void net_bridge_name(const char *project, const char *network, char out[NET_IFNAME_SIZE]) {
  unsigned char md[32];
  digest((const char *[]){"bridge", project, network}, 3, md);
  hexname("stkb", md, 11, out, NET_IFNAME_SIZE);
}

void net_tap_name(const char *project, const char *network, const char *container,
                  char out[NET_IFNAME_SIZE]) {
  unsigned char md[32];
  digest((const char *[]){"tap", project, network, container}, 4, md);
  hexname("stkt", md, 11, out, NET_IFNAME_SIZE);
}

/* The first 6 bytes of md as a unicast, locally administered MAC. */
static void local_mac(const unsigned char md[32], uint8_t mac[6]) {
  memcpy(mac, md, 6);
  mac[0] = (uint8_t)((mac[0] & 0xfc) | 0x02);
}

void net_bridge_mac(const char *project, const char *network, uint8_t mac[6]) {
  unsigned char md[32];
  digest((const char *[]){"bridge-mac", project, network}, 3, md);
  local_mac(md, mac);
}

void net_container_mac(const char *project, const char *network, const char *container,
                       uint8_t mac[6]) {
  unsigned char md[32];
  digest((const char *[]){"mac", project, network, container}, 4, md);
  local_mac(md, mac);
}

void net_format_mac(const uint8_t mac[6], char out[18]) {
  snprintf(out, 18, "%02x:%02x:%02x:%02x:%02x:%02x", mac[0], mac[1], mac[2], mac[3], mac[4],
           mac[5]);
}

void net_table_name(const char *project, char out[32]) {
  unsigned char md[32];
  digest((const char *[]){"table", project}, 2, md);
  hexname("stack_", md, 12, out, 32);
}
