/* Published ports as `ps` shows them (from the supervisor's "ports" list of
 * a container: [{host_ip, host_port, target, protocol}]). */
#ifndef STACK_CLI_PORT_H
#define STACK_CLI_PORT_H

typedef struct cJSON cJSON;

/* "0.0.0.0:8080->80/tcp, 127.0.0.1:5353->53/udp" ("" for none); caller frees. */
char *cli_port_text(const cJSON *ports);
/* Docker's "Publishers": [{URL, TargetPort, PublishedPort, Protocol}]. */
cJSON *cli_port_publishers(const cJSON *ports);

#endif
