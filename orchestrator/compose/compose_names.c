#include "compose_names.h"

#include <errno.h>
#include <stdbool.h>
#include <string.h>

#include "runtime/util/error.h"

/* what an error shows of a name */
#define SHOWN 80

static bool lower_alnum(char c) { return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9'); }

static bool alnum(char c) { return lower_alnum(c) || (c >= 'A' && c <= 'Z'); }

/* first[rest]*, with min..max bytes */
static bool pattern(const char *s, bool (*first)(char), const char *rest, bool rest_alnum,
                    size_t min, size_t max) {
  size_t n = strlen(s);
  if (n < min || n > max || !first(s[0]))
    return false;
  for (size_t i = 1; i < n; i++)
    if (!(rest_alnum ? alnum(s[i]) : lower_alnum(s[i])) && !strchr(rest, s[i]))
      return false;
  return true;
}

const char *compose_name_rule(enum compose_name_kind kind, const char *name) {
  switch (kind) {
  case COMPOSE_NAME_PROJECT:
    return pattern(name, lower_alnum, "_-", false, 1, 128)
               ? NULL
               : "use 1 to 128 lowercase letters, digits, '-' or '_', starting with a letter or "
                 "digit (Compose's rule)";
  case COMPOSE_NAME_CONTAINER:
    return pattern(name, alnum, "_.-", true, 2, COMPOSE_CONTAINER_NAME_MAX)
               ? NULL
               : "use 2 to 200 letters, digits, '_', '.' or '-', starting with a letter or "
                 "digit (Docker's rule)";
  case COMPOSE_NAME_VOLUME:
    return pattern(name, alnum, "_.-", true, 2, 255)
               ? NULL
               : "use 2 to 255 letters, digits, '_', '.' or '-', starting with a letter or "
                 "digit (Docker's rule)";
  case COMPOSE_NAME_NETWORK:
    for (const char *p = name; *p; p++)
      if (!strchr(" \t\n\r\v\f", *p))
        return NULL;
    return "a network name must not be empty or blank (Docker's rule)";
  case COMPOSE_NAME_SECRET:
  case COMPOSE_NAME_CONFIG: {
    size_t n = strlen(name);
    bool ok = pattern(name, alnum, "_.-", true, 1, 64) && alnum(name[n - 1]);
    return ok ? NULL
              : "use 1 to 64 letters, digits, '_', '.' or '-', starting and ending with a "
                "letter or digit (Docker's rule)";
  }
  }
  return "unknown kind of name";
}

const char *compose_name_kind_str(enum compose_name_kind kind) {
  static const char *const s[] = {"project", "container", "volume", "network", "secret",
                                  "config"};
  return (unsigned)kind < sizeof(s) / sizeof(s[0]) ? s[kind] : "?";
}

int compose_name_check(enum compose_name_kind kind, const char *name, struct stack_error **err) {
  const char *rule = compose_name_rule(kind, name);
  if (rule == NULL)
    return 0;
  return stack_error_set(err, -EINVAL, "invalid %s name \"%.*s%s\": %s",
                         compose_name_kind_str(kind), SHOWN, name,
                         strlen(name) > SHOWN ? "..." : "", rule);
}
