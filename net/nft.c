#include "nft.h"

#include <errno.h>
#include <nftables/libnftables.h>
#include <stdlib.h>
#include <string.h>

#include "runtime/util/error.h"
#include "runtime/util/sbuf.h"
#include "runtime/util/xalloc.h"

static void nft_ctx_freep(struct nft_ctx **c) {
  if (*c)
    nft_ctx_free(*c);
}

int net_nft_run(const char *cmd, char **out, struct stack_error **err) {
  __attribute__((cleanup(nft_ctx_freep))) struct nft_ctx *ctx = nft_ctx_new(NFT_CTX_DEFAULT);
  if (ctx == NULL)
    return stack_error_set(err, -ENOMEM, "cannot create an nftables context");
  nft_ctx_buffer_output(ctx);
  nft_ctx_buffer_error(ctx);
  if (nft_run_cmd_from_buffer(ctx, cmd) != 0) {
    const char *e = nft_ctx_get_error_buffer(ctx);
    return stack_error_set(err, -EIO, "nftables refused the ruleset%s%s", e && *e ? ": " : "",
                           e ? e : "");
  }
  if (out) {
    const char *o = nft_ctx_get_output_buffer(ctx);
    *out = xstrdup(o ? o : "");
  }
  return 0;
}

static bool safe_token(const char *s) {
  if (s == NULL || *s == '\0' || strlen(s) > 40)
    return false;
  for (const char *p = s; *p; p++)
    if (!(*p == '_' || *p == '.' || *p == '/' || *p == '-' || (*p >= '0' && *p <= '9') ||
          (*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z')))
      return false;
  return true;
}

int net_nft_apply(const char *table, const struct net_nft_network *nets, size_t n,
                  bool masquerade, struct stack_error **err) {
  /* Names go into a command string: allow only what our own names use. */
  if (!safe_token(table))
    return stack_error_set(err, -EINVAL, "invalid nftables table name \"%s\"", table);
  for (size_t i = 0; i < n; i++)
    if (!safe_token(nets[i].bridge) || !safe_token(nets[i].subnet) ||
        (nets[i].dns_to && !safe_token(nets[i].gateway)))
      return stack_error_set(err, -EINVAL, "invalid bridge or subnet for nftables: %s %s",
                             nets[i].bridge ? nets[i].bridge : "(null)",
                             nets[i].subnet ? nets[i].subnet : "(null)");
  _cleanup_sbuf_ struct sbuf b = SBUF_INIT;
  /* "add" then "delete" makes the replacement work whether or not the table
   * exists, inside the same atomic batch. */
  sbuf_printf(&b, "add table inet %s\ndelete table inet %s\ntable inet %s {\n", table, table,
              table);
  sbuf_puts(&b, "  chain forward {\n"
                "    type filter hook forward priority filter - 10; policy accept;\n");
  for (size_t i = 0; i < n; i++) {
    const char *br = nets[i].bridge;
    if (nets[i].external)
      continue;
    /* With br_netfilter loaded, traffic bridged inside one network passes
     * this hook too (in and out on the bridge): always allowed. */
    sbuf_printf(&b, "    iifname \"%s\" oifname \"%s\" accept\n", br, br);
    sbuf_printf(&b, "    iifname \"%s\" oifname \"stk*\" counter drop\n", br);
    sbuf_printf(&b, "    oifname \"%s\" iifname \"stk*\" counter drop\n", br);
    if (nets[i].internal) {
      sbuf_printf(&b, "    iifname \"%s\" counter drop\n", br);
      sbuf_printf(&b, "    oifname \"%s\" counter drop\n", br);
    } else {
      sbuf_printf(&b, "    iifname \"%s\" accept\n", br);
      sbuf_printf(&b, "    oifname \"%s\" ct state established,related accept\n", br);
      sbuf_printf(&b, "    oifname \"%s\" counter drop\n", br);
    }
  }
  sbuf_puts(&b, "  }\n");
  sbuf_puts(&b, "  chain postrouting {\n"
                "    type nat hook postrouting priority srcnat; policy accept;\n");
  for (size_t i = 0; i < n && masquerade; i++)
    if (!nets[i].internal && !nets[i].external)
      sbuf_printf(&b, "    ip saddr %s oifname != \"%s\" masquerade\n", nets[i].subnet,
                  nets[i].bridge);
  sbuf_puts(&b, "  }\n");
  sbuf_puts(&b, "  chain prerouting {\n"
                "    type nat hook prerouting priority dstnat; policy accept;\n");
  for (size_t i = 0; i < n; i++)
    if (nets[i].dns_to)
      sbuf_printf(&b,
                  "    iifname \"%s\" ip daddr %s meta l4proto { tcp, udp } th dport %u "
                  "redirect to :%u\n",
                  nets[i].bridge, nets[i].gateway, nets[i].dns_from, nets[i].dns_to);
  sbuf_puts(&b, "  }\n}\n");
  int r = net_nft_run(b.data, NULL, err);
  if (r < 0)
    return stack_error_prefix(err, "nftables table inet %s", table);
  return 0;
}

int net_nft_table_exists(const char *table, bool *exists, struct stack_error **err) {
  if (!safe_token(table))
    return stack_error_set(err, -EINVAL, "invalid nftables table name \"%s\"", table);
  char *out = NULL;
  int r = net_nft_run("list tables inet", &out, err);
  if (r < 0)
    return r;
  *exists = false;
  char *save = NULL;
  for (char *line = strtok_r(out, "\n", &save); line; line = strtok_r(NULL, "\n", &save)) {
    char name[64];
    if (sscanf(line, "table inet %63s", name) == 1 && strcmp(name, table) == 0)
      *exists = true;
  }
  free(out);
  return 0;
}

int net_nft_remove(const char *table, struct stack_error **err) {
  if (!safe_token(table))
    return stack_error_set(err, -EINVAL, "invalid nftables table name \"%s\"", table);
  char cmd[128];
  /* add+delete: succeeds (and removes) whether or not it exists. */
  snprintf(cmd, sizeof(cmd), "add table inet %s\ndelete table inet %s\n", table, table);
  int r = net_nft_run(cmd, NULL, err);
  return r < 0 ? stack_error_prefix(err, "removing nftables table inet %s", table) : 0;
}
