/* The user a process runs as, resolved like Docker (runc) does against the
 * container's own /etc/passwd and /etc/group: "name", "uid", "uid:gid",
 * "name:group".  A numeric uid missing from passwd runs with gid 0. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "init.h"

/* Splits a colon-separated line into at most max fields (in place). */
static int split(char *line, char **f, int max) {
  int n = 0;
  line[strcspn(line, "\n")] = 0;
  f[n++] = line;
  for (char *p = line; *p && n < max; p++) {
    if (*p == ':') {
      *p = 0;
      f[n++] = p + 1;
    }
  }
  return n;
}

static int parse_id(const char *s, unsigned long *out) {
  if (!*s)
    return -1;
  char *end;
  errno = 0;
  unsigned long v = strtoul(s, &end, 10);
  if (*end || errno || v > 0x7fffffffUL || *s == '-' || *s == '+')
    return -1;
  *out = v;
  return 0;
}

/* Looks up a passwd entry by name (or by uid when name is NULL). */
static int find_passwd(const char *name, unsigned long uid, char *user, size_t ulen,
                       struct user_ids *out) {
  FILE *f = fopen("/etc/passwd", "re");
  if (f == NULL)
    return -ENOENT;
  char line[1024];
  int r = -ENOENT;
  while (fgets(line, sizeof line, f)) {
    char *fl[7];
    if (split(line, fl, 7) < 7)
      continue;
    unsigned long u, g;
    if (parse_id(fl[2], &u) < 0 || parse_id(fl[3], &g) < 0)
      continue;
    if (name ? strcmp(fl[0], name) != 0 : u != uid)
      continue;
    out->uid = (uid_t)u;
    out->gid = (gid_t)g;
    snprintf(out->home, sizeof out->home, "%s", fl[5]);
    snprintf(user, ulen, "%s", fl[0]);
    r = 0;
    break;
  }
  fclose(f);
  return r;
}

/* Resolves a group by name; with user set, also collects its supplementary
 * groups. */
static int scan_groups(const char *gname, gid_t *gid, const char *user, struct user_ids *out) {
  FILE *f = fopen("/etc/group", "re");
  if (f == NULL)
    return -ENOENT;
  char line[4096];
  int found = 0;
  while (fgets(line, sizeof line, f)) {
    char *fl[4];
    if (split(line, fl, 4) < 4)
      continue;
    unsigned long g;
    if (parse_id(fl[2], &g) < 0)
      continue;
    if (gname && strcmp(fl[0], gname) == 0) {
      *gid = (gid_t)g;
      found = 1;
    }
    if (user && *user) {
      for (char *m = strtok(fl[3], ","); m; m = strtok(NULL, ",")) {
        if (strcmp(m, user) == 0 && out->ngroups < (int)(sizeof out->groups / sizeof out->groups[0]))
          out->groups[out->ngroups++] = (gid_t)g;
      }
    }
  }
  fclose(f);
  return gname && !found ? -ENOENT : 0;
}

int user_resolve(const char *spec, struct user_ids *out, char *msg, size_t msglen) {
  memset(out, 0, sizeof *out);
  snprintf(out->home, sizeof out->home, "/");
  char buf[256];
  if (snprintf(buf, sizeof buf, "%s", spec) >= (int)sizeof buf) {
    snprintf(msg, msglen, "user %.64s...: too long", spec);
    return -EINVAL;
  }
  char *group = strchr(buf, ':');
  if (group)
    *group++ = 0;
  const char *uname = buf[0] ? buf : "root";
  char user[256] = "";
  unsigned long id;
  if (parse_id(uname, &id) == 0) {
    if (find_passwd(NULL, id, user, sizeof user, out) < 0) {
      out->uid = (uid_t)id;
      out->gid = 0;
    }
  } else if (find_passwd(uname, 0, user, sizeof user, out) < 0) {
    if (strcmp(uname, "root") != 0) {
      snprintf(msg, msglen, "unable to find user %s: no matching entries in passwd file", uname);
      return -ENOENT;
    }
    snprintf(user, sizeof user, "root");
  }
  if (group && *group) {
    if (parse_id(group, &id) == 0) {
      out->gid = (gid_t)id;
      group = NULL;
    }
  } else {
    group = NULL;
  }
  gid_t g = out->gid;
  if (scan_groups(group, &g, user, out) < 0 && group) {
    snprintf(msg, msglen, "unable to find group %s: no matching entries in group file", group);
    return -ENOENT;
  }
  out->gid = g;
  if (out->ngroups < (int)(sizeof out->groups / sizeof out->groups[0]))
    out->groups[out->ngroups++] = out->gid;
  return 0;
}

int user_name(uid_t uid, char *name, size_t len) {
  struct user_ids ids;
  return find_passwd(NULL, uid, name, len, &ids);
}
