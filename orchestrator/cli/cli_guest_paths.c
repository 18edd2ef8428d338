#include "cli_guest_paths.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "runtime/util/cleanup.h"
#include "runtime/util/xalloc.h"

void cp_path_clear(struct cp_path *p) {
  free(p->dir);
  free(p->base);
  *p = (struct cp_path){0};
}

void cp_path_split(const char *path, struct cp_path *out) {
  *out = (struct cp_path){0};
  size_t n = strlen(path);
  if (n >= 2 && strcmp(path + n - 2, "/.") == 0) {
    out->contents = true;
    n -= 1; /* keep the slash: "/." is the root's contents */
  }
  if (n > 1 && path[n - 1] == '/')
    out->want_dir = true;
  while (n > 1 && path[n - 1] == '/')
    n--;
  _cleanup_free_ char *p = xstrndup(path, n);
  char *slash = strrchr(p, '/');
  if (slash == NULL) {
    out->dir = xstrdup(".");
    out->base = xstrdup(p[0] ? p : ".");
  } else if (slash == p) {
    out->dir = xstrdup("/");
    out->base = xstrdup(slash[1] ? slash + 1 : ".");
  } else {
    *slash = '\0';
    out->dir = xstrdup(p);
    out->base = xstrdup(slash + 1);
  }
}

char *cp_entry_rename(const char *path, const char *top, const char *dest_name) {
  while (path[0] == '.' && path[1] == '/')
    path += 2;
  while (path[0] == '/') /* absolute names are named from the root */
    path++;
  if (strcmp(top, ".") == 0) {
    /* a directory's contents: the names as they are, "." the destination */
    if (strcmp(path, ".") == 0 || path[0] == '\0')
      return xstrdup(dest_name);
    return strcmp(dest_name, ".") == 0 ? xstrdup(path) : xasprintf("%s/%s", dest_name, path);
  }
  size_t tl = strlen(top);
  if (tl == 0 || strncmp(path, top, tl) != 0 || (path[tl] != '\0' && path[tl] != '/'))
    return NULL;
  return xasprintf("%s%s", dest_name, path + tl);
}

/* /proc/mounts escapes blanks, tabs, newlines and backslashes as \ooo;
 * the length of the result in *len (a \000 would make it hold a NUL). */
static char *unescape(const char *s, size_t n, size_t *len) {
  char *out = xmalloc(n + 1), *o = out;
  for (size_t i = 0; i < n;) {
    if (s[i] == '\\' && n - i >= 4 && s[i + 1] >= '0' && s[i + 1] <= '3' && s[i + 2] >= '0' &&
        s[i + 2] <= '7' && s[i + 3] >= '0' && s[i + 3] <= '7') {
      *o++ = (char)((s[i + 1] - '0') * 64 + (s[i + 2] - '0') * 8 + (s[i + 3] - '0'));
      i += 4;
    } else {
      *o++ = s[i++];
    }
  }
  *o = '\0';
  *len = (size_t)(o - out);
  return out;
}

char **guest_mount_points(const char *text) {
  char **v = NULL;
  size_t n = 0, cap = 0;
  for (const char *line = text; line && *line;) {
    const char *end = strchr(line, '\n');
    size_t len = end ? (size_t)(end - line) : strlen(line);
    /* "source target fstype options 0 0": the second field */
    const char *t = memchr(line, ' ', len);
    if (t) {
      t++;
      size_t tl = (size_t)(line + len - t);
      const char *sp = memchr(t, ' ', tl);
      if (sp)
        tl = (size_t)(sp - t);
      size_t got;
      _cleanup_free_ char *target = unescape(t, tl, &got);
      if (target[0] == '/' && strcmp(target, "/") != 0 && strlen(target) == got) {
        v = xgrow(v, &cap, n + 2, sizeof(char *));
        v[n++] = steal_pointer(&target);
        v[n] = NULL;
      }
    }
    line = end ? end + 1 : NULL;
  }
  return v;
}
