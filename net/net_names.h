/* Stable names derived from the project: interface names fit the kernel's
 * 15-character limit and differ between projects (a hash of project and
 * network), so two projects with a network called "default" never collide;
 * the same project always gets the same names, which is what lets `down`
 * find them again after a crash. */
#ifndef STACK_NET_NET_NAMES_H
#define STACK_NET_NET_NAMES_H

#include <stdint.h>

#define NET_IFNAME_SIZE 16 /* IFNAMSIZ */

/* "stkb" + 11 hex digits of sha256(data root NUL project NUL network). */
void net_bridge_name(const char *project, const char *network, char out[NET_IFNAME_SIZE]);

/* "stkt" + 11 hex digits of sha256(project NUL network NUL container). */
void net_tap_name(const char *project, const char *network, const char *container,
                  char out[NET_IFNAME_SIZE]);

/* The bridge's own MAC, locally administered unicast, from the same inputs
 * as its name.  Set at creation, it never changes: without it the kernel
 * gives a bridge the lowest MAC of its ports and changes it whenever that
 * port goes, and every guest's ARP entry for the gateway goes stale. */
void net_bridge_mac(const char *project, const char *network, uint8_t mac[6]);

/* A locally administered unicast MAC from the same inputs as the tap. */
void net_container_mac(const char *project, const char *network, const char *container,
                       uint8_t mac[6]);

/* Formats a MAC as "02:xx:xx:xx:xx:xx" (out: 18 bytes). */
void net_format_mac(const uint8_t mac[6], char out[18]);

/* The project's nftables table name: "stack_" + 12 hex digits. */
void net_table_name(const char *project, char out[32]);

#endif
