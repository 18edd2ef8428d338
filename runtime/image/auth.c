#include "runtime/image/auth.h"

#include <cjson/cJSON.h>
#include <ctype.h>
#include <errno.h>
#include <stdbool.h>
#include <string.h>
#include <strings.h>

#include "runtime/util/base64.h"
#include "runtime/util/cleanup.h"
#include "runtime/util/error.h"
#include "runtime/util/sbuf.h"
#include "runtime/util/xalloc.h"

void auth_challenge_clear(struct auth_challenge *c) {
  free(c->scheme);
  free(c->realm);
  free(c->service);
  free(c->scope);
  *c = (struct auth_challenge){0};
}

static bool is_token_char(char c) {
  return c > 32 && c < 127 && !strchr("()<>@,;:\\\"/[]?={} \t", c);
}

int auth_challenge_parse(const char *value, struct auth_challenge *out, struct stack_error **err) {
  *out = (struct auth_challenge){0};
  const char *p = value;
  while (*p == ' ' || *p == '\t')
    p++;
  const char *s = p;
  while (is_token_char(*p))
    p++;
  if (p == s)
    return stack_error_set(err, -EINVAL, "malformed WWW-Authenticate header: no scheme");
  struct auth_challenge c = {.scheme = xstrndup(s, (size_t)(p - s))};
  int r = 0;
  for (;;) {
    while (*p == ' ' || *p == '\t' || *p == ',')
      p++;
    if (*p == '\0' || *p == '\r' || *p == '\n')
      break;
    const char *k = p;
    while (is_token_char(*p))
      p++;
    size_t klen = (size_t)(p - k);
    while (*p == ' ' || *p == '\t')
      p++;
    if (klen == 0 || *p != '=') {
      r = stack_error_set(err, -EINVAL, "malformed WWW-Authenticate header \"%.200s\"", value);
      goto fail;
    }
    p++;
    while (*p == ' ' || *p == '\t')
      p++;
    _cleanup_sbuf_ struct sbuf v = SBUF_INIT;
    if (*p == '"') {
      p++;
      while (*p && *p != '"') {
        if (*p == '\\' && p[1])
          p++;
        sbuf_putc(&v, *p++);
      }
      if (*p != '"') {
        r = stack_error_set(err, -EINVAL,
                            "malformed WWW-Authenticate header \"%.200s\": unterminated quote",
                            value);
        goto fail;
      }
      p++;
    } else {
      const char *vs = p;
      while (*p && *p != ',' && *p != ' ' && *p != '\t' && *p != '\r' && *p != '\n')
        p++;
      sbuf_append(&v, vs, (size_t)(p - vs));
    }
    char **slot = NULL;
    if (klen == 5 && strncasecmp(k, "realm", 5) == 0)
      slot = &c.realm;
    else if (klen == 7 && strncasecmp(k, "service", 7) == 0)
      slot = &c.service;
    else if (klen == 5 && strncasecmp(k, "scope", 5) == 0)
      slot = &c.scope;
    if (slot) {
      free(*slot);
      *slot = sbuf_steal(&v);
    }
  }
  *out = c;
  return 0;
fail:
  auth_challenge_clear(&c);
  return r;
}

char *auth_encode_userpass(const char *user, const char *pass) {
  _cleanup_free_ char *plain = xasprintf("%s:%s", user, pass);
  return b64_encode(plain, strlen(plain));
}

char *auth_basic_header(const char *user, const char *pass) {
  _cleanup_free_ char *b = auth_encode_userpass(user, pass);
  return xasprintf("Authorization: Basic %s", b);
}

int auth_decode_userpass(const char *b64, char **user, char **pass, struct stack_error **err) {
  size_t n = strlen(b64), len = 0;
  if (n == 0 || n > 16384)
    return stack_error_set(err, -EINVAL, "malformed base64 credentials");
  _cleanup_free_ unsigned char *buf = b64_decode(b64, &len);
  if (buf == NULL)
    return stack_error_set(err, -EINVAL, "malformed base64 credentials");
  if (strlen((char *)buf) != len)
    return stack_error_set(err, -EINVAL, "malformed credentials: NUL byte");
  char *colon = strchr((char *)buf, ':');
  if (colon == NULL)
    return stack_error_set(err, -EINVAL, "malformed credentials: no ':' between user and password");
  *user = xstrndup((char *)buf, (size_t)(colon - (char *)buf));
  *pass = xstrdup(colon + 1);
  return 0;
}

int auth_token_parse(const char *json, size_t len, char **token, int64_t *expires_in,
                     struct stack_error **err) {
  cJSON *root = cJSON_ParseWithLength(json, len);
  if (root == NULL)
    return stack_error_set(err, -EINVAL, "the token server's answer is not JSON");
  const cJSON *t = cJSON_GetObjectItemCaseSensitive(root, "token");
  if (!cJSON_IsString(t) || !t->valuestring[0])
    t = cJSON_GetObjectItemCaseSensitive(root, "access_token");
  int r = 0;
  if (!cJSON_IsString(t) || !t->valuestring[0] || strpbrk(t->valuestring, "\r\n")) {
    r = stack_error_set(err, -EINVAL, "the token server's answer has no usable token");
  } else {
    const cJSON *e = cJSON_GetObjectItemCaseSensitive(root, "expires_in");
    *expires_in = cJSON_IsNumber(e) && e->valuedouble >= 1 && e->valuedouble < 1e9
                      ? (int64_t)e->valuedouble
                      : 60;
    *token = xstrdup(t->valuestring);
  }
  cJSON_Delete(root);
  return r;
}
