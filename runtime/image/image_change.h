/* `--change` instructions of `stack image import` (as `docker import -c`):
 * Dockerfile instructions that set image config fields. */
#ifndef STACK_IMAGE_CHANGE_H
#define STACK_IMAGE_CHANGE_H

#include <cjson/cJSON.h>

struct stack_error;

/* Applies one instruction ("CMD [\"sh\"]", "ENV A=b", "EXPOSE 80", ...) to
 * the "config" object of an image config.  Supported: CMD, ENTRYPOINT (JSON
 * or shell form), ENV, EXPOSE, LABEL, STOPSIGNAL, USER, VOLUME, WORKDIR. */
int image_change_apply(cJSON *config, const char *change, struct stack_error **err);

#endif
