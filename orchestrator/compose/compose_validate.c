/* Schema validation: a validator for the subset of JSON Schema (draft 7) that
 * the Compose schema uses (type, enum, pattern, minimum/maximum, properties,
 * patternProperties, additionalProperties, required, items, uniqueItems,
 * oneOf, $ref to #/definitions), run over the cnode tree.  Project checks
 * (references, cycles, ports) are in compose_validate_project.c. */
#include "compose_validate.h"

#include <cjson/cJSON.h>
#include <errno.h>
#include <regex.h>
#include <stdlib.h>
#include <string.h>

#include "compose_scalar.h"
#include "compose_schema.h"
#include "runtime/util/cleanup.h"
#include "runtime/util/error.h"
#include "runtime/util/sbuf.h"
#include "runtime/util/xalloc.h"

#define MAX_PATH 512

struct re_entry {
  const char *pattern; /* owned by the schema */
  regex_t re;
  bool ok;
};

struct seg {
  const char *key; /* NULL: index */
  size_t idx;
};

struct vctx {
  cJSON *schema;
  const cJSON *defs;
  struct re_entry *res;
  size_t n_res, cap_res;
  struct seg path[MAX_PATH];
  size_t depth;
  int quiet; /* > 0 while trying oneOf branches: no messages */
  struct stack_error **err;
};

static const regex_t *regex_for(struct vctx *c, const char *pattern) {
  for (size_t i = 0; i < c->n_res; i++)
    if (c->res[i].pattern == pattern)
      return c->res[i].ok ? &c->res[i].re : NULL;
  c->res = xgrow(c->res, &c->cap_res, c->n_res + 1, sizeof(*c->res));
  struct re_entry *e = &c->res[c->n_res++];
  e->pattern = pattern;
  e->ok = regcomp(&e->re, pattern, REG_EXTENDED | REG_NOSUB) == 0;
  return e->ok ? &e->re : NULL;
}

static bool pattern_match(struct vctx *c, const char *pattern, const char *s) {
  const regex_t *re = regex_for(c, pattern);
  return re != NULL && regexec(re, s, 0, NULL, 0) == 0;
}

static char *path_string(const struct vctx *c) {
  _cleanup_sbuf_ struct sbuf b = SBUF_INIT;
  for (size_t i = 0; i < c->depth; i++) {
    if (c->path[i].key) {
      if (i > 0)
        sbuf_putc(&b, '.');
      sbuf_puts(&b, c->path[i].key);
    } else {
      sbuf_printf(&b, "[%zu]", c->path[i].idx);
    }
  }
  if (b.len == 0)
    sbuf_puts(&b, "(top level)");
  return sbuf_steal(&b);
}

/* Reports a problem at node n; returns false so callers can `return fail()`. */
__attribute__((format(printf, 3, 4))) static bool fail(struct vctx *c, const struct cnode *n,
                                                       const char *fmt, ...) {
  if (c->quiet)
    return false;
  va_list ap;
  va_start(ap, fmt);
  _cleanup_free_ char *msg = xvasprintf(fmt, ap);
  va_end(ap);
  _cleanup_free_ char *where = cnode_where(n);
  _cleanup_free_ char *path = path_string(c);
  const char *service = NULL;
  if (c->depth >= 2 && c->path[0].key && strcmp(c->path[0].key, "services") == 0)
    service = c->path[1].key;
  if (service)
    stack_error_set(c->err, -EINVAL, "%s: service \"%s\": %s %s", where, service, path, msg);
  else
    stack_error_set(c->err, -EINVAL, "%s: %s %s", where, path, msg);
  return false;
}

static bool push(struct vctx *c, const char *key, size_t idx) {
  if (c->depth >= MAX_PATH)
    return false;
  c->path[c->depth].key = key;
  c->path[c->depth].idx = idx;
  c->depth++;
  return true;
}

static const cJSON *resolve_ref(struct vctx *c, const cJSON *schema) {
  for (int hops = 0; hops < 16; hops++) {
    const cJSON *ref = cJSON_GetObjectItemCaseSensitive(schema, "$ref");
    if (!cJSON_IsString(ref))
      return schema;
    const char *prefix = "#/definitions/";
    if (strncmp(ref->valuestring, prefix, strlen(prefix)) != 0)
      return NULL;
    schema = cJSON_GetObjectItemCaseSensitive(c->defs, ref->valuestring + strlen(prefix));
    if (schema == NULL)
      return NULL;
  }
  return NULL;
}

static bool type_ok(const struct cnode *n, const char *type) {
  if (!strcmp(type, "object"))
    return n->kind == CNODE_MAP;
  if (!strcmp(type, "array"))
    return n->kind == CNODE_SEQ;
  if (n->kind == CNODE_MAP || n->kind == CNODE_SEQ)
    return false;
  enum cscalar_type t = cscalar_type(n);
  if (!strcmp(type, "null"))
    return t == CSCALAR_NULL;
  if (!strcmp(type, "boolean"))
    return t == CSCALAR_BOOL;
  if (!strcmp(type, "integer"))
    return t == CSCALAR_INT;
  if (!strcmp(type, "number"))
    return t == CSCALAR_INT || t == CSCALAR_FLOAT;
  if (!strcmp(type, "string"))
    return t == CSCALAR_STRING;
  return false;
}

static const char *type_noun(const char *type) {
  if (!strcmp(type, "object"))
    return "a mapping";
  if (!strcmp(type, "array"))
    return "a list";
  if (!strcmp(type, "integer"))
    return "an integer";
  if (!strcmp(type, "boolean"))
    return "a boolean";
  if (!strcmp(type, "null"))
    return "null";
  if (!strcmp(type, "number"))
    return "a number";
  return "a string";
}

/* Appends the types a schema accepts (following $ref and oneOf) to b. */
static void describe_types(struct vctx *c, const cJSON *schema, struct sbuf *b, int depth) {
  schema = resolve_ref(c, schema);
  if (schema == NULL || depth > 4)
    return;
  const cJSON *type = cJSON_GetObjectItemCaseSensitive(schema, "type");
  const cJSON *t;
  if (cJSON_IsString(type)) {
    sbuf_printf(b, "%s%s", b->len ? " or " : "", type_noun(type->valuestring));
  } else if (cJSON_IsArray(type)) {
    cJSON_ArrayForEach(t, type) {
      if (cJSON_IsString(t))
        sbuf_printf(b, "%s%s", b->len ? " or " : "", type_noun(t->valuestring));
    }
  }
  const cJSON *one = cJSON_GetObjectItemCaseSensitive(schema, "oneOf");
  cJSON_ArrayForEach(t, one) describe_types(c, t, b, depth + 1);
}

static const char *kind_noun(const struct cnode *n) {
  if (n->kind == CNODE_MAP)
    return "a mapping";
  if (n->kind == CNODE_SEQ)
    return "a list";
  switch (cscalar_type(n)) {
  case CSCALAR_NULL:
    return "null";
  case CSCALAR_BOOL:
    return "a boolean";
  case CSCALAR_INT:
    return "an integer";
  case CSCALAR_FLOAT:
    return "a number";
  default:
    return "a string";
  }
}

static bool validate(struct vctx *c, const struct cnode *n, const cJSON *schema);

static bool check_type(struct vctx *c, const struct cnode *n, const cJSON *schema) {
  const cJSON *type = cJSON_GetObjectItemCaseSensitive(schema, "type");
  if (type == NULL)
    return true;
  if (cJSON_IsString(type) && type_ok(n, type->valuestring))
    return true;
  if (cJSON_IsArray(type)) {
    const cJSON *t;
    cJSON_ArrayForEach(t, type) {
      if (cJSON_IsString(t) && type_ok(n, t->valuestring))
        return true;
    }
  }
  _cleanup_sbuf_ struct sbuf b = SBUF_INIT;
  describe_types(c, schema, &b, 0);
  if (n->kind == CNODE_SCALAR && !n->quoted && cscalar_type(n) != CSCALAR_STRING &&
      strstr(b.data ? b.data : "", "a string"))
    return fail(c, n, "must be %s, not %s (quote it to make it a string: \"%s\")", b.data,
                kind_noun(n), n->str);
  return fail(c, n, "must be %s, not %s", b.data ? b.data : "valid", kind_noun(n));
}

static bool check_scalar_rules(struct vctx *c, const struct cnode *n, const cJSON *schema) {
  const cJSON *en = cJSON_GetObjectItemCaseSensitive(schema, "enum");
  if (cJSON_IsArray(en) && n->kind == CNODE_SCALAR) {
    const cJSON *v;
    bool found = false;
    _cleanup_sbuf_ struct sbuf b = SBUF_INIT;
    cJSON_ArrayForEach(v, en) {
      if (cJSON_IsString(v)) {
        sbuf_printf(&b, "%s\"%s\"", b.len ? ", " : "", v->valuestring);
        if (strcmp(v->valuestring, n->str) == 0)
          found = true;
      }
    }
    if (!found)
      return fail(c, n, "must be one of %s, not \"%s\"", b.data ? b.data : "", n->str);
  }
  const cJSON *pat = cJSON_GetObjectItemCaseSensitive(schema, "pattern");
  if (cJSON_IsString(pat) && n->kind == CNODE_SCALAR &&
      !pattern_match(c, pat->valuestring, n->str))
    return fail(c, n, "\"%s\" does not match the pattern %s", n->str, pat->valuestring);
  const cJSON *min = cJSON_GetObjectItemCaseSensitive(schema, "minimum");
  const cJSON *max = cJSON_GetObjectItemCaseSensitive(schema, "maximum");
  double d;
  if ((min || max) && n->kind == CNODE_SCALAR && !n->quoted && cscalar_parse_float(n->str, &d)) {
    if (cJSON_IsNumber(min) && d < min->valuedouble)
      return fail(c, n, "must be at least %g", min->valuedouble);
    if (cJSON_IsNumber(max) && d > max->valuedouble)
      return fail(c, n, "must be at most %g", max->valuedouble);
  }
  return true;
}

static bool check_object(struct vctx *c, const struct cnode *n, const cJSON *schema) {
  const cJSON *props = cJSON_GetObjectItemCaseSensitive(schema, "properties");
  const cJSON *pprops = cJSON_GetObjectItemCaseSensitive(schema, "patternProperties");
  const cJSON *addl = cJSON_GetObjectItemCaseSensitive(schema, "additionalProperties");
  const cJSON *req = cJSON_GetObjectItemCaseSensitive(schema, "required");
  const cJSON *r;
  cJSON_ArrayForEach(r, req) {
    if (cJSON_IsString(r) && cnode_map_get_pair(n, r->valuestring) == NULL)
      return fail(c, n, "is missing the required property \"%s\"", r->valuestring);
  }
  for (size_t i = 0; i < n->n; i++) {
    const struct cnode *key = n->pairs[i].key, *val = n->pairs[i].value;
    const char *k = key->str;
    bool matched = false;
    if (!push(c, k, 0))
      return fail(c, n, "is nested too deeply");
    const cJSON *sub = props ? cJSON_GetObjectItemCaseSensitive(props, k) : NULL;
    if (sub) {
      matched = true;
      if (!validate(c, val, sub))
        return c->depth--, false;
    }
    const cJSON *pp;
    cJSON_ArrayForEach(pp, pprops) {
      if (pattern_match(c, pp->string, k)) {
        matched = true;
        if (!validate(c, val, pp))
          return c->depth--, false;
      }
    }
    c->depth--;
    if (!matched) {
      if (cJSON_IsFalse(addl)) {
        bool ext_ok = false;
        cJSON_ArrayForEach(pp, pprops) {
          if (!strcmp(pp->string, "^x-"))
            ext_ok = true;
        }
        if (pprops && cJSON_GetArraySize(pprops) > 0 && !ext_ok)
          return fail(c, key, "has an invalid key \"%s\" (allowed: letters, digits, '.', '_', '-')",
                      k);
        return fail(c, key, "has an unknown property \"%s\"%s", k,
                    ext_ok ? " (check its spelling; extensions must start with \"x-\")" : "");
      }
      if (cJSON_IsObject(addl)) {
        push(c, k, 0);
        bool ok = validate(c, val, addl);
        c->depth--;
        if (!ok)
          return false;
      }
    }
  }
  return true;
}

static bool check_array(struct vctx *c, const struct cnode *n, const cJSON *schema) {
  const cJSON *items = cJSON_GetObjectItemCaseSensitive(schema, "items");
  if (cJSON_IsObject(items)) {
    for (size_t i = 0; i < n->n; i++) {
      if (!push(c, NULL, i))
        return fail(c, n, "is nested too deeply");
      bool ok = validate(c, n->items[i], items);
      c->depth--;
      if (!ok)
        return false;
    }
  }
  if (cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(schema, "uniqueItems"))) {
    for (size_t i = 1; i < n->n; i++)
      for (size_t j = 0; j < i; j++)
        if (cnode_equal(n->items[i], n->items[j])) {
          push(c, NULL, i);
          fail(c, n->items[i], "duplicates item [%zu]; remove one of them", j);
          c->depth--;
          return false;
        }
  }
  return true;
}

/* Whether a oneOf branch's own `type` admits the node's kind, to pick the
 * branch whose errors are worth showing. */
static bool branch_fits(struct vctx *c, const struct cnode *n, const cJSON *branch) {
  branch = resolve_ref(c, branch);
  if (branch == NULL)
    return false;
  const cJSON *type = cJSON_GetObjectItemCaseSensitive(branch, "type");
  if (type == NULL)
    return false;
  if (cJSON_IsString(type))
    return type_ok(n, type->valuestring);
  const cJSON *t;
  cJSON_ArrayForEach(t, type) {
    if (cJSON_IsString(t) && type_ok(n, t->valuestring))
      return true;
  }
  return false;
}

static bool check_one_of(struct vctx *c, const struct cnode *n, const cJSON *schema) {
  const cJSON *one = cJSON_GetObjectItemCaseSensitive(schema, "oneOf");
  if (!cJSON_IsArray(one))
    return true;
  int passed = 0;
  const cJSON *b;
  c->quiet++;
  cJSON_ArrayForEach(b, one) {
    size_t depth = c->depth;
    if (validate(c, n, b))
      passed++;
    c->depth = depth;
  }
  c->quiet--;
  if (passed == 1)
    return true;
  if (passed > 1)
    return fail(c, n, "matches more than one of the allowed forms");
  cJSON_ArrayForEach(b, one) {
    if (branch_fits(c, n, b))
      return validate(c, n, b); /* reports that branch's error */
  }
  _cleanup_sbuf_ struct sbuf s = SBUF_INIT;
  describe_types(c, schema, &s, 0);
  return fail(c, n, "must be %s, not %s", s.data ? s.data : "valid", kind_noun(n));
}

static bool validate(struct vctx *c, const struct cnode *n, const cJSON *schema) {
  schema = resolve_ref(c, schema);
  if (schema == NULL)
    return true; /* unresolvable reference: accept rather than reject good files */
  static const struct cnode null_node = {.kind = CNODE_NULL};
  if (n == NULL)
    n = &null_node;
  if (!check_type(c, n, schema))
    return false;
  if (!check_scalar_rules(c, n, schema))
    return false;
  if (n->kind == CNODE_MAP && !check_object(c, n, schema))
    return false;
  if (n->kind == CNODE_SEQ && !check_array(c, n, schema))
    return false;
  return check_one_of(c, n, schema);
}

int compose_validate_schema(const struct cnode *file_tree, struct stack_error **err) {
  if (file_tree == NULL || cnode_is_null(file_tree))
    return 0; /* an empty file is an empty project */
  struct vctx c = {.err = err};
  c.schema = cJSON_Parse(compose_schema_json);
  if (c.schema == NULL)
    return stack_error_set(err, -EINVAL, "internal error: the embedded Compose schema is invalid");
  c.defs = cJSON_GetObjectItemCaseSensitive(c.schema, "definitions");
  bool ok = validate(&c, file_tree, c.schema);
  if (!ok && err && *err == NULL)
    stack_error_set(err, -EINVAL, "%s: invalid Compose file", file_tree->src ? file_tree->src->path : "<input>");
  for (size_t i = 0; i < c.n_res; i++)
    if (c.res[i].ok)
      regfree(&c.res[i].re);
  free(c.res);
  cJSON_Delete(c.schema);
  return ok ? 0 : -EINVAL;
}
