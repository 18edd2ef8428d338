#include "orchestrator/supervisor/sup_volumes.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/xattr.h>
#include <unistd.h>

#include "guest/proto.h"
#include "orchestrator/compose/compose_model.h"
#include "runtime/util/cleanup.h"
#include "runtime/util/error.h"
#include "runtime/util/fsutil.h"
#include "runtime/image/blobstore.h"
#include "runtime/util/paths.h"
#include "runtime/util/sbuf.h"
#include "runtime/util/state_path.h"
#include "runtime/util/xalloc.h"
#include "runtime/vm/vm.h"
#include "volume_store.h"

/* 9p2000.L with large messages; no guest cache, so both sides see each
 * other's writes at once, as with a Docker bind mount */
#define NINEP_OPTIONS "trans=virtio,version=9p2000.L,msize=262144"

static const char *keep(char ***strings, size_t *ns, char *owned) {
  *strings = xrealloc(*strings, (*ns + 2) * sizeof **strings);
  (*strings)[(*ns)++] = owned;
  (*strings)[*ns] = NULL;
  return owned;
}

static size_t strv_count(char **v) {
  size_t n = 0;
  while (v && v[n])
    n++;
  return n;
}

/* The number of components of an absolute path ("/a//b/" has 2). */
static size_t path_depth(const char *path) {
  size_t n = 0;
  for (const char *p = path; p && *p; p++)
    if (*p != '/' && (p == path || p[-1] == '/'))
      n++;
  return n;
}

static bool dir_empty(const char *path) {
  DIR *d = opendir(path);
  if (d == NULL)
    return false;
  struct dirent *de;
  bool empty = true;
  while (empty && (de = readdir(d)) != NULL)
    empty = strcmp(de->d_name, ".") == 0 || strcmp(de->d_name, "..") == 0;
  closedir(d);
  return empty;
}

/* mapped-xattr where the volume's file system has user xattrs, else
 * mapped-file (tmpfs before Linux 6.6 has none). */
static enum vm_share_model volume_model(const char *dir) {
  if (setxattr(dir, "user.stack.probe", "1", 1, 0) == 0) {
    removexattr(dir, "user.stack.probe");
    return VM_SHARE_MAPPED;
  }
  return errno == ENOTSUP ? VM_SHARE_MAPPED_FILE : VM_SHARE_MAPPED;
}

static const struct compose_volume *find_volume(const struct compose_project *p,
                                                const char *key) {
  for (size_t i = 0; p && i < p->n_volumes; i++)
    if (strcmp(p->volumes[i].key, key) == 0)
      return &p->volumes[i];
  return NULL;
}

static int cmp_str(const void *a, const void *b) {
  return strcmp(*(char *const *)a, *(char *const *)b);
}

static void add_kvs(struct sbuf *b, const char *kind, const struct compose_kvs *kvs) {
  _cleanup_strv_ char **v = xcalloc(kvs->n + 1, sizeof(char *));
  for (size_t i = 0; i < kvs->n; i++)
    v[i] = xasprintf("%s %s=%s", kind, kvs->v[i].key, kvs->v[i].value ? kvs->v[i].value : "");
  qsort(v, kvs->n, sizeof(char *), cmp_str);
  for (size_t i = 0; i < kvs->n; i++)
    sbuf_printf(b, "%s\n", v[i]);
}

/* What a volume's definition says about the volume itself (driver, its
 * options, labels), as a sha256 in hex (caller frees). */
static char *volume_config_hash(const struct compose_volume *v) {
  _cleanup_sbuf_ struct sbuf b = SBUF_INIT;
  sbuf_printf(&b, "driver %s\n", v->driver ? v->driver : "local");
  add_kvs(&b, "opt", &v->driver_opts);
  add_kvs(&b, "label", &v->labels);
  _cleanup_free_ char *d = blobstore_digest_of(b.data, b.len);
  return d && strlen(d) == 71 ? xstrdup(d + 7) : NULL;
}

/* <data root>/volumes/<name>/_data, made when missing unless external
 * (marked as the project's, with Compose's labels: key is the Compose
 * volume's key, NULL for an anonymous volume, and the hash of its
 * definition v when there is one), and recorded as used by container ctr
 * (volume_store.h). */
static int volume_dir(const char *name, const char *project, const char *key,
                      const struct compose_volume *v, bool external, const char *ctr,
                      char **out, struct stack_error **err) {
  _cleanup_free_ char *root = stack_data_root();
  _cleanup_free_ char *data = NULL;
  int r;
  if ((r = state_path_join(root, (const char *const[]){"volumes", name, "_data", NULL}, &data,
                           err)) < 0)
    return stack_error_prefix(err, "volume \"%s\"", name);
  if (external && !fs_exists(data))
    return stack_error_set(err, -ENOENT,
                           "external volume \"%s\" not found: create it first (stack volume "
                           "create %s), or drop `external: true`",
                           name, name);
  _cleanup_free_ char *l_project = xasprintf(VOLUME_LABEL_PROJECT "=%s", project);
  _cleanup_free_ char *l_key =
      key ? xasprintf(VOLUME_LABEL_VOLUME "=%s", key) : xstrdup(VOLUME_LABEL_ANONYMOUS "=");
  char *labels[] = {l_project, l_key, NULL};
  free(data);
  data = NULL;
  bool created = false;
  if ((r = volume_store_create(name, external ? NULL : project, labels, &created, &data, err)) <
      0)
    return r;
  _cleanup_free_ char *hash = created && v ? volume_config_hash(v) : NULL;
  if (hash) {
    _cleanup_free_ char *hash_file = NULL;
    if ((r = state_path_join(root, (const char *const[]){"volumes", name, "config_hash", NULL},
                             &hash_file, err)) < 0 ||
        (r = fs_write_file_atomic(hash_file, hash, strlen(hash), 0644, err)) < 0)
      return r;
  }
  volume_store_add_user(name, project, ctr);
  *out = steal_pointer(&data);
  return 0;
}

/* Links the single file src into dir: the same file (writes on either
 * side show on the other, as with a Docker bind mount), without the files
 * beside it. */
static int link_file(const char *src, const char *kind, const char *n, const char *binds_dir,
                     struct stack_error **err) {
  _cleanup_free_ char *link = NULL;
  int r = state_path_join(binds_dir, (const char *const[]){kind, n, strrchr(src, '/') + 1, NULL},
                          &link, err);
  if (r == 0)
    r = state_mkdir(binds_dir, (const char *const[]){kind, n, NULL}, 0755, err);
  if (r < 0)
    return r;
  if (linkat(AT_FDCWD, src, AT_FDCWD, link, AT_SYMLINK_FOLLOW) < 0) {
    int e = errno;
    if (e == EXDEV)
      return stack_error_set(err, -e,
                             "%s is on another file system than stack's state (%s): a single "
                             "file is shared through a hard link there; bind-mount its "
                             "directory instead, or keep the file on that file system",
                             src, binds_dir);
    return stack_error_set(err, -e, "link %s to %s: %s", src, link, strerror(e));
  }
  return 0;
}

/* Single files bind-mounted: every read-only one is linked into
 * <binds_dir>/ro/<n>/, every other into <binds_dir>/rw/<n>/; each of the
 * two directories is one share (a micro-VM has few device slots), mounted
 * by the guest on /.stack-binds/ro|rw, whose files are bound on their
 * targets before the staging mount goes. */
struct file_binds {
  size_t share[2]; /* [ro]: index in shares, or SIZE_MAX before the first */
  size_t n;
};

static int bind_file(const struct compose_service *svc, const struct compose_mount *m,
                     const char *binds_dir, struct file_binds *fb, struct vm_share *shares,
                     size_t *n_shares, struct proto_mount *mounts, size_t max_mounts,
                     size_t *n_mounts, char ***strings, size_t *ns, struct stack_error **err) {
  int ro = m->read_only ? 1 : 0;
  const char *kind = ro ? "ro" : "rw";
  /* this bind, and the kind's share, staging mount and its end */
  if (*n_mounts + (fb->share[ro] == SIZE_MAX ? 3 : 1) > max_mounts)
    return stack_error_set(err, -E2BIG, "service %s: more than %zu mounts", svc->name,
                           max_mounts);
  char n[24];
  snprintf(n, sizeof(n), "%zu", fb->n);
  int r = link_file(m->source, kind, n, binds_dir, err);
  if (r < 0)
    return stack_error_prefix(err, "service %s: bind mount %s", svc->name, m->source);
  if (fb->share[ro] == SIZE_MAX) {
    const char *tag = keep(strings, ns, xasprintf("vol%zu", *n_shares));
    const char *stage = keep(strings, ns, xasprintf("/.stack-binds/%s", kind));
    fb->share[ro] = (*n_shares)++;
    char *dir = NULL;
    if ((r = state_path_join(binds_dir, (const char *const[]){kind, NULL}, &dir, err)) < 0)
      return r;
    shares[fb->share[ro]] =
        (struct vm_share){keep(strings, ns, dir), tag, ro, VM_SHARE_PASSTHROUGH};
    mounts[(*n_mounts)++] = (struct proto_mount){tag, stage, "9p", NINEP_OPTIONS};
  }
  mounts[(*n_mounts)++] = (struct proto_mount){
      keep(strings, ns,
           xasprintf("/.stack-binds/%s/%zu/%s", kind, fb->n, strrchr(m->source, '/') + 1)),
      keep(strings, ns, xstrdup(m->target)), "bind", ro ? "ro" : ""};
  fb->n++;
  return 0;
}

int sup_volumes_resolve(const struct compose_project *p, const struct compose_service *svc,
                        const char *ctr_name, const char *binds_dir, struct vm_share *shares,
                        size_t max, size_t *n_shares, struct proto_mount *mounts,
                        size_t max_mounts, size_t *n_mounts, char ***strings,
                        struct stack_error **err) {
  *n_shares = 0;
  size_t ns = strv_count(*strings);
  /* links made afresh: a file replaced on the host since (an editor's
   * rename) is the new one */
  fs_rm_rf(binds_dir, NULL);
  struct file_binds fb = {{SIZE_MAX, SIZE_MAX}, 0};
  /* parents before what is inside them, as Docker sorts mounts: a file
   * bound into a volume's directory must come after that volume */
  _cleanup_free_ size_t *order = xcalloc(svc->n_volumes + 1, sizeof(size_t));
  for (size_t i = 0; i < svc->n_volumes; i++) {
    size_t k = i;
    while (k > 0 && path_depth(svc->volumes[order[k - 1]].target) >
                        path_depth(svc->volumes[i].target)) {
      order[k] = order[k - 1];
      k--;
    }
    order[k] = i;
  }
  for (size_t oi = 0; oi < svc->n_volumes; oi++) {
    const struct compose_mount *m = &svc->volumes[order[oi]];
    if (!m->type || (strcmp(m->type, "bind") != 0 && strcmp(m->type, "volume") != 0))
      continue; /* tmpfs: sup_service_mounts(); others are warned */
    if (!m->target || m->target[0] != '/')
      return stack_error_set(err, -EINVAL,
                             "service %s: volume target \"%s\" must be an absolute path",
                             svc->name, m->target ? m->target : "");
    if (*n_shares == max || *n_mounts == max_mounts)
      return stack_error_set(err, -E2BIG, "service %s: more than %zu volumes", svc->name, max);
    char *dir = NULL;
    int r;
    if (strcmp(m->type, "bind") == 0) {
      if (!m->source || m->source[0] != '/')
        return stack_error_set(err, -EINVAL,
                               "service %s: bind mount source \"%s\" must be an absolute path",
                               svc->name, m->source ? m->source : "");
      struct stat st;
      if (stat(m->source, &st) < 0 && (r = fs_mkdir_p(m->source, 0755, err)) < 0)
        return stack_error_prefix(err, "service %s: bind mount %s", svc->name, m->source);
      if (stat(m->source, &st) == 0 && S_ISREG(st.st_mode)) {
        if ((r = bind_file(svc, m, binds_dir, &fb, shares, n_shares, mounts, max_mounts,
                           n_mounts, strings, &ns, err)) < 0)
          return r;
        continue;
      }
      if (stat(m->source, &st) == 0 && !S_ISDIR(st.st_mode))
        return stack_error_set(err, -EINVAL,
                               "service %s: bind mount %s: only directories and regular files "
                               "can be shared into the VM (not sockets or devices)",
                               svc->name, m->source);
      dir = xstrdup(m->source);
    } else if (m->source && *m->source) {
      const struct compose_volume *v = find_volume(p, m->source);
      const char *name = v && v->name ? v->name : m->source;
      if ((r = volume_dir(name, p ? p->name : "", v ? v->key : m->source, v,
                          v && v->external, ctr_name, &dir, err)) < 0)
        return stack_error_prefix(err, "service %s", svc->name);
    } else {
      /* anonymous: one per container and target, kept across restarts */
      unsigned h = 5381;
      for (const char *c = m->target; *c; c++)
        h = h * 33 + (unsigned char)*c;
      _cleanup_free_ char *name = xasprintf("%s-anon-%08x", ctr_name, h);
      if ((r = volume_dir(name, p ? p->name : "", NULL, NULL, false, ctr_name, &dir, err)) <
          0)
        return stack_error_prefix(err, "service %s", svc->name);
    }
    /* Docker's copy-up: an empty volume first gets the image's files at the
     * target (the guest copies them; `nocopy` says not to) */
    bool copy = strcmp(m->type, "volume") == 0 && !m->volume_nocopy && !m->read_only &&
                dir_empty(dir);
    const char *tag = keep(strings, &ns, xasprintf("vol%zu", *n_shares));
    /* a host directory keeps Docker's semantics (the guest's owners and
     * modes are the host's); a volume, which stack owns, keeps them in
     * xattrs, so no guest makes a set-user-ID file on the host */
    enum vm_share_model model =
        strcmp(m->type, "bind") == 0 ? VM_SHARE_PASSTHROUGH : volume_model(dir);
    shares[(*n_shares)++] = (struct vm_share){keep(strings, &ns, dir), tag, m->read_only, model};
    mounts[(*n_mounts)++] = (struct proto_mount){tag, keep(strings, &ns, xstrdup(m->target)),
                                                 copy ? "9p+copy" : "9p", NINEP_OPTIONS};
  }
  /* the files are bound: their staging mounts go */
  for (int ro = 0; ro < 2; ro++) {
    if (fb.share[ro] == SIZE_MAX)
      continue;
    if (*n_mounts == max_mounts)
      return stack_error_set(err, -E2BIG, "service %s: more than %zu mounts", svc->name,
                             max_mounts);
    mounts[(*n_mounts)++] = (struct proto_mount){"", ro ? "/.stack-binds/ro" : "/.stack-binds/rw",
                                                 "umount", ""};
  }
  return 0;
}

/* Every volume of the store (sorted by name) in *out; none when the
 * store cannot be read (removal is best effort, as `down -v`'s). */
static size_t all_volumes(struct volume_info **out) {
  size_t n = 0;
  if (volume_store_list(out, &n, NULL) < 0) {
    *out = NULL;
    n = 0;
  }
  return n;
}

static void free_volumes(struct volume_info *v, size_t n) {
  for (size_t i = 0; i < n; i++)
    volume_info_clear(&v[i]);
  free(v);
}

int sup_volumes_remove(const char *project, char ***removed, struct stack_error **err) {
  (void)err;
  *removed = NULL;
  size_t n = 0;
  struct volume_info *v = NULL;
  size_t nv = all_volumes(&v);
  for (size_t i = 0; i < nv; i++)
    if (v[i].project && strcmp(v[i].project, project) == 0 &&
        volume_store_remove(v[i].name, NULL) == 0)
      keep(removed, &n, xstrdup(v[i].name));
  free_volumes(v, nv);
  return 0;
}

/* The content of <data root>/volumes/<name>/<file>, or NULL. */
static char *volume_file(const char *name, const char *file) {
  _cleanup_free_ char *root = stack_data_root();
  _cleanup_close_ int fd =
      state_open(root, (const char *const[]){"volumes", name, file, NULL}, O_RDONLY, 0, NULL);
  char *text = NULL;
  if (fd < 0 || fs_read_fd(fd, "a volume's file", 4096, &text, NULL, NULL) < 0)
    return NULL;
  return text;
}

int sup_volumes_diverged(const struct compose_project *p, char ***names,
                         struct stack_error **err) {
  (void)err;
  size_t n = 0;
  *names = NULL;
  for (size_t i = 0; i < p->n_volumes; i++) {
    const struct compose_volume *v = &p->volumes[i];
    const char *name = v->name ? v->name : v->key;
    if (v->external)
      continue;
    _cleanup_free_ char *owner = volume_file(name, "project");
    _cleanup_free_ char *had = volume_file(name, "config_hash");
    _cleanup_free_ char *now = volume_config_hash(v);
    /* one made by another project, or before definitions were recorded:
     * nothing to compare with */
    if (owner && strcmp(owner, p->name) == 0 && had && now && strcmp(had, now) != 0)
      keep(names, &n, xstrdup(name));
  }
  return 0;
}

int sup_volume_remove(const char *name, struct stack_error **err) {
  return volume_store_remove(name, err);
}

int sup_volumes_remove_anon(const char *ctr_name, struct stack_error **err) {
  _cleanup_free_ char *prefix = xasprintf("%s-anon-", ctr_name);
  size_t len = strlen(prefix);
  struct volume_info *v = NULL;
  size_t nv = all_volumes(&v);
  int r = 0;
  for (size_t i = 0; r == 0 && i < nv; i++)
    if (strncmp(v[i].name, prefix, len) == 0 && strlen(v[i].name) == len + 8)
      r = volume_store_remove(v[i].name, err);
  free_volumes(v, nv);
  return r;
}
