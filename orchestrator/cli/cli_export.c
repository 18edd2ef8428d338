/* `stack export SERVICE` and `stack commit SERVICE REPOSITORY[:TAG]`: a
 * service container's file system, as `docker compose export` and `docker
 * compose commit` give it.  The guest has no file API of its own: the
 * container's `tar` archives its root as exec sessions (what is mounted on
 * it -- /proc, /sys, /dev, volumes, bind mounts, the /etc files stack
 * writes -- left out but for the empty mount point, as Docker leaves
 * volumes out), streamed through the supervisor and joined into one
 * archive by libarchive here.  `commit` makes that archive an image of one layer, with the
 * container's image's configuration and the -c changes. */
#include <archive.h>
#include <archive_entry.h>
#include <cjson/cJSON.h>
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "cli.h"
#include "cli_exec_stream.h"
#include "cli_exec_tar.h"
#include "cli_guest_paths.h"
#include "cli_project.h"
#include "orchestrator/supervisor/project_state.h"
#include "orchestrator/supervisor/sup_client.h"
#include "orchestrator/supervisor/sup_paths.h"
#include "runtime/image/blobstore.h"
#include "runtime/image/image.h"
#include "runtime/image/image_index.h"
#include "runtime/util/cleanup.h"
#include "runtime/util/error.h"
#include "runtime/util/fdio.h"
#include "runtime/util/fsutil.h"
#include "runtime/util/paths.h"
#include "runtime/util/sbuf.h"
#include "runtime/util/xalloc.h"

#define MOUNTS_MAX (256u << 10)

/* The paths to archive: subtrees without a mount inside (recursive) and
 * the directories on the way to a mount, and the mount points themselves,
 * empty (not recursive), as Docker's export keeps a volume's mount point
 * but not its files.  busybox's tar has no --exclude, hence the walk. */
struct plan {
  char **whole, **bare;
  size_t nw, nb, cw, cb;
};

static void plan_add(char ***v, size_t *n, size_t *cap, const char *s) {
  *v = xgrow(*v, cap, *n + 2, sizeof(char *));
  (*v)[(*n)++] = xstrdup(s);
  (*v)[*n] = NULL;
}

static bool is_mount(char **mounts, const char *path) {
  for (char **m = mounts; m && *m; m++)
    if (strcmp(*m, path) == 0)
      return true;
  return false;
}

static bool has_mount_below(char **mounts, const char *path) {
  size_t n = strlen(path);
  for (char **m = mounts; m && *m; m++)
    if ((n == 1 || (strncmp(*m, path, n) == 0 && (*m)[n] == '/')) && strcmp(*m, path) != 0)
      return true;
  return false;
}

/* Plans dir ("/" or "/a/b", which has a mount below it). */
static int plan_dir(struct sup_client *client, const char *service, unsigned index,
                    char **mounts, const char *dir, struct plan *p, int depth,
                    struct stack_error **err) {
  if (depth > 64)
    return stack_error_set(err, -ELOOP, "mounts nested too deep in the container");
  const char *ls[] = {"ls", "-A1", dir, NULL};
  int code = 0;
  _cleanup_sbuf_ struct sbuf out = SBUF_INIT;
  int r = cli_exec_stream_run(client, service, index, ls, &code, &out, MOUNTS_MAX, err);
  if (r < 0)
    return r;
  if (code != 0)
    return stack_error_set(err, -EIO, "cannot list %s in the container of service %s", dir,
                           service);
  char *save = NULL;
  for (char *name = strtok_r(out.data ? out.data : (char *)"", "\n", &save); name;
       name = strtok_r(NULL, "\n", &save)) {
    _cleanup_free_ char *path = strcmp(dir, "/") == 0 ? xasprintf("/%s", name)
                                                      : xasprintf("%s/%s", dir, name);
    const char *rel = path + 1; /* archived from / */
    if (is_mount(mounts, path)) {
      plan_add(&p->bare, &p->nb, &p->cb, rel);
    } else if (has_mount_below(mounts, path)) {
      plan_add(&p->bare, &p->nb, &p->cb, rel);
      if ((r = plan_dir(client, service, index, mounts, path, p, depth + 1, err)) < 0)
        return r;
    } else {
      plan_add(&p->whole, &p->nw, &p->cw, rel);
    }
  }
  return 0;
}

/* Runs tar over paths in the container and copies its entries into out. */
static int tar_into(struct sup_client *client, const char *service, unsigned index,
                    char **paths, bool recursive, struct archive *out,
                    struct stack_error **err) {
  if (paths == NULL)
    return 0;
  _cleanup_strv_ char **argv = NULL;
  size_t n = 0, cap = 0;
  static const char *const head[] = {"tar", "-c", "-f", "-", "-C", "/"};
  for (size_t i = 0; i < 6; i++)
    plan_add(&argv, &n, &cap, head[i]);
  if (!recursive)
    plan_add(&argv, &n, &cap, "--no-recursion");
  for (char **p = paths; *p; p++)
    plan_add(&argv, &n, &cap, *p);
  __attribute__((cleanup(cli_exec_stream_clear))) struct cli_exec_stream x = {0};
  int r = cli_exec_stream_start(&x, client, service, index, (const char *const *)argv, false,
                                err);
  if (r < 0)
    return r;
  __attribute__((cleanup(cli_archive_freep))) struct archive *in = archive_read_new();
  struct cli_exec_tar p;
  if ((r = cli_exec_tar_open(in, &p, &x, err)) < 0)
    return r;
  for (;;) {
    struct archive_entry *e;
    int ar = archive_read_next_header(in, &e);
    if (ar == ARCHIVE_EOF)
      break;
    if (ar < ARCHIVE_WARN) {
      if (p.rc < 0)
        return p.rc;
      r = cli_exec_stream_wait(&x, err);
      if (r < 0)
        return r;
      return stack_error_set(err, -EIO, "tar in the container failed (exit %d): %.*s",
                             x.exit_code, (int)strcspn(x.err.data ? x.err.data : "", "\n"),
                             x.err.data ? x.err.data : archive_error_string(in));
    }
    if (archive_write_header(out, e) < ARCHIVE_WARN)
      return stack_error_set(err, -EIO, "%s", archive_error_string(out));
    const void *buf;
    size_t len;
    la_int64_t off;
    while ((ar = archive_read_data_block(in, &buf, &len, &off)) == ARCHIVE_OK)
      if (archive_write_data(out, buf, len) < 0)
        return stack_error_set(err, -EIO, "%s", archive_error_string(out));
    if (ar != ARCHIVE_EOF)
      return p.rc < 0 ? p.rc : stack_error_set(err, -EIO, "%s", archive_error_string(in));
  }
  if ((r = cli_exec_stream_wait(&x, err)) < 0)
    return r;
  if (x.error)
    return stack_error_set(err, -EIO, "%s", x.error);
  /* busybox tar says 1 for a socket it skips: the archive is whole */
  if (x.exit_code != 0 && (x.exit_code != 1 || x.err.data == NULL ||
                           strstr(x.err.data, "socket ignored") == NULL))
    return stack_error_set(err, -EIO, "tar in the container failed (exit %d): %.*s%s",
                           x.exit_code, (int)strcspn(x.err.data ? x.err.data : "", "\n"),
                           x.err.data ? x.err.data : "",
                           x.exit_code == 127 ? " (its image has no tar)" : "");
  return 0;
}

struct sink {
  int fd;
};

static la_ssize_t sink_write(struct archive *a, void *data, const void *buf, size_t n) {
  struct sink *s = data;
  if (fd_write_all(s->fd, buf, n) < 0) {
    archive_set_error(a, errno, "cannot write the archive: %s", strerror(errno));
    return -1;
  }
  return (la_ssize_t)n;
}

/* Writes the container's root file system, as a tar archive, to fd. */
static int export_to_fd(struct sup_client *client, const char *service, unsigned index, int fd,
                        struct stack_error **err) {
  /* what is mounted on the root is not the container's own */
  const char *cat[] = {"cat", "/proc/mounts", NULL};
  int code = 0;
  _cleanup_sbuf_ struct sbuf mounts = SBUF_INIT;
  int r = cli_exec_stream_run(client, service, index, cat, &code, &mounts, MOUNTS_MAX, err);
  if (r < 0)
    return r;
  if (code != 0)
    return stack_error_set(err, -EIO,
                           "cannot list the mounts of the container of service %s%s", service,
                           code == 127 ? " (its image has no cat)" : "");
  _cleanup_strv_ char **targets = guest_mount_points(mounts.data ? mounts.data : "");
  struct plan p = {0};
  r = plan_dir(client, service, index, targets, "/", &p, 0, err);
  __attribute__((cleanup(cli_archive_freep))) struct archive *out = archive_write_new();
  archive_write_set_format_pax_restricted(out);
  archive_write_set_bytes_in_last_block(out, 1);
  struct sink sk = {fd};
  if (r == 0 && archive_write_open(out, &sk, NULL, sink_write, NULL) != ARCHIVE_OK)
    r = stack_error_set(err, -EIO, "%s", archive_error_string(out));
  if (r == 0)
    r = tar_into(client, service, index, p.bare, false, out, err);
  if (r == 0)
    r = tar_into(client, service, index, p.whole, true, out, err);
  if (r == 0 && archive_write_close(out) != ARCHIVE_OK)
    r = stack_error_set(err, -EIO, "%s", archive_error_string(out));
  strv_free(p.whole);
  strv_free(p.bare);
  return r;
}

static int parse_index(const struct cli_globals *g, const char *verb, const char *arg,
                       unsigned *out) {
  char *end;
  long v = strtol(arg, &end, 10);
  if (*end || v < 1 || v > 65535) {
    fprintf(stderr, "%s %s: --index: \"%s\" is not a replica number\n", g->progname, verb, arg);
    return -1;
  }
  *out = (unsigned)v;
  return 0;
}

static int connect_running(const struct cli_globals *g, const char *service,
                           struct sup_paths *paths, struct sup_client **client) {
  _cleanup_error_ struct stack_error *err = NULL;
  if (cli_project_client(g, false, paths, client, &err) < 0 || *client == NULL) {
    if (err)
      stack_error_print(err);
    else
      fprintf(stderr, "stack: service \"%s\" is not running\n", service);
    return -1;
  }
  return 0;
}

int cli_export(struct cli_globals *g, int argc, char **argv) {
  static const struct option opts[] = {
      {"output", required_argument, NULL, 'o'},
      {"index", required_argument, NULL, 'I'},
      {"help", no_argument, NULL, 'h'},
      {NULL, 0, NULL, 0},
  };
  const char *output = NULL;
  unsigned index = 1;
  int c;
  while ((c = getopt_long(argc, argv, "o:h", opts, NULL)) != -1) {
    if (c == 'o') {
      output = optarg;
    } else if (c == 'I') {
      if (parse_index(g, "export", optarg, &index) < 0)
        return 1;
    } else {
      fprintf(c == 'h' ? stdout : stderr,
              "Usage:  %s export [OPTIONS] SERVICE\n\n"
              "Export a service container's filesystem as a tar archive\n\n"
              "Options:\n"
              "      --index int       index of the container if service has multiple "
              "replicas.\n"
              "  -o, --output string   Write to a file, instead of STDOUT\n",
              g->progname);
      return c == 'h' ? 0 : 1;
    }
  }
  if (argc - optind != 1) {
    fprintf(stderr, "%s export: requires exactly 1 argument: SERVICE\n", g->progname);
    return 1;
  }
  const char *service = argv[optind];
  if (output == NULL && isatty(STDOUT_FILENO)) {
    fprintf(stderr, "output file is required when exporting to a terminal: use -o FILE or a "
                    "redirect\n");
    return 1;
  }
  __attribute__((cleanup(sup_paths_clear))) struct sup_paths paths = {0};
  _cleanup_sup_client_ struct sup_client *client = NULL;
  if (connect_running(g, service, &paths, &client) < 0)
    return 1;
  _cleanup_error_ struct stack_error *err = NULL;
  _cleanup_free_ char *tmp = output ? xasprintf("%s.stack-tmp", output) : NULL;
  _cleanup_close_ int fd =
      output ? open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644) : dup(STDOUT_FILENO);
  if (fd < 0) {
    fprintf(stderr, "stack export: cannot write %s: %s\n", output ? output : "stdout",
            strerror(errno));
    return 1;
  }
  if (export_to_fd(client, service, index, fd, &err) < 0 ||
      (output && (fsync(fd) < 0 || rename(tmp, output) < 0) &&
       stack_error_errno(&err, -errno, "cannot write %s", output) < 0)) {
    if (output)
      unlink(tmp);
    fprintf(stderr, "Error response from daemon: %s\n", err->msg);
    return 1;
  }
  return 0;
}

/* The configuration of the image container index of service was made
 * from, as Dockerfile instructions (so that the commit keeps it). */
static void image_changes(const struct sup_paths *paths, const char *service, unsigned index,
                          char ***out, size_t *n, size_t *cap) {
  _cleanup_project_state_ struct project_state *st = NULL;
  if (project_state_load(paths->state_file, paths->project, &st, NULL) < 0)
    return;
  const char *image_id = NULL;
  for (size_t i = 0; i < st->n_containers && !image_id; i++)
    if (strcmp(st->containers[i].service, service) == 0 && st->containers[i].number == index)
      image_id = st->containers[i].image_id;
  _cleanup_free_ char *root = stack_data_root();
  struct blobstore *bs = NULL;
  _cleanup_free_ char *json = NULL;
  size_t len = 0;
  struct image_config cfg = {0};
  if (image_id == NULL || blobstore_open(root, &bs, NULL) < 0)
    return;
  int r = blobstore_read(bs, image_id, 16u << 20, &json, &len, NULL);
  blobstore_close(bs);
  if (r < 0 || image_config_parse(json, len, &cfg, NULL) < 0)
    return;
#define ADD(...)                                                                                   \
  do {                                                                                             \
    *out = xgrow(*out, cap, *n + 2, sizeof(char *));                                              \
    (*out)[(*n)++] = xasprintf(__VA_ARGS__);                                                      \
    (*out)[*n] = NULL;                                                                             \
  } while (0)
  for (char **e = cfg.env; e && *e; e++) {
    const char *eq = strchr(*e, '=');
    if (eq)
      ADD("ENV %.*s=\"%s\"", (int)(eq - *e), *e, eq + 1);
  }
  char **lists[] = {cfg.entrypoint, cfg.cmd};
  const char *names[] = {"ENTRYPOINT", "CMD"};
  for (int k = 0; k < 2; k++) {
    if (lists[k] == NULL)
      continue;
    cJSON *a = cJSON_CreateArray();
    for (char **p = lists[k]; *p; p++)
      cJSON_AddItemToArray(a, cJSON_CreateString(*p));
    char *text = cJSON_PrintUnformatted(a);
    ADD("%s %s", names[k], text);
    cJSON_free(text);
    cJSON_Delete(a);
  }
  if (cfg.working_dir && *cfg.working_dir)
    ADD("WORKDIR %s", cfg.working_dir);
  if (cfg.user && *cfg.user)
    ADD("USER %s", cfg.user);
  if (cfg.stop_signal && *cfg.stop_signal)
    ADD("STOPSIGNAL %s", cfg.stop_signal);
  for (char **p = cfg.exposed_ports; p && *p; p++)
    ADD("EXPOSE %s", *p);
  for (char **p = cfg.volumes; p && *p; p++)
    ADD("VOLUME %s", *p);
  for (char **p = cfg.labels; p && *p; p++) {
    const char *eq = strchr(*p, '=');
    if (eq)
      ADD("LABEL %.*s=\"%s\"", (int)(eq - *p), *p, eq + 1);
  }
#undef ADD
  image_config_clear(&cfg);
}

int cli_commit(struct cli_globals *g, int argc, char **argv) {
  static const struct option opts[] = {
      {"author", required_argument, NULL, 'a'}, {"change", required_argument, NULL, 'c'},
      {"message", required_argument, NULL, 'm'}, {"pause", optional_argument, NULL, 'p'},
      {"index", required_argument, NULL, 'I'},   {"help", no_argument, NULL, 'h'},
      {NULL, 0, NULL, 0},
  };
  unsigned index = 1;
  _cleanup_strv_ char **user_changes = NULL;
  size_t nu = 0, capu = 0;
  int c;
  while ((c = getopt_long(argc, argv, "a:c:m:ph", opts, NULL)) != -1) {
    if (c == 'c') {
      user_changes = xgrow(user_changes, &capu, nu + 2, sizeof(char *));
      user_changes[nu++] = xstrdup(optarg);
      user_changes[nu] = NULL;
    } else if (c == 'I') {
      if (parse_index(g, "commit", optarg, &index) < 0)
        return 1;
    } else if (c == 'a' || c == 'm' || c == 'p') {
      continue; /* kept nowhere: the image has no history of its own */
    } else {
      fprintf(c == 'h' ? stdout : stderr,
              "Usage:  %s commit [OPTIONS] SERVICE REPOSITORY[:TAG]\n\n"
              "Create a new image from a service container's changes\n\n"
              "Options:\n"
              "  -a, --author string    Author (accepted, not recorded)\n"
              "  -c, --change list      Apply Dockerfile instruction to the created image\n"
              "      --index int        index of the container if service has multiple "
              "replicas.\n"
              "  -m, --message string   Commit message (accepted, not recorded)\n"
              "  -p, --pause            Pause container during commit (accepted: the copy is "
              "made by the running guest)\n",
              g->progname);
      return c == 'h' ? 0 : 1;
    }
  }
  if (argc - optind != 2) {
    fprintf(stderr,
            "%s commit: requires 2 arguments: SERVICE REPOSITORY[:TAG] (stack images are "
            "always named)\n",
            g->progname);
    return 1;
  }
  const char *service = argv[optind], *ref = argv[optind + 1];
  _cleanup_error_ struct stack_error *err = NULL;
  _cleanup_free_ char *norm = NULL;
  if (image_ref_normalize(ref, &norm, &err) < 0) {
    stack_error_print(err);
    return 1;
  }
  __attribute__((cleanup(sup_paths_clear))) struct sup_paths paths = {0};
  _cleanup_sup_client_ struct sup_client *client = NULL;
  if (connect_running(g, service, &paths, &client) < 0)
    return 1;
  /* the archive goes through a file of the store's: import reads it twice */
  _cleanup_free_ char *root = stack_data_root();
  _cleanup_free_ char *tmpdir = fs_path_join(root, "tmp");
  if (fs_mkdir_p(tmpdir, 0700, &err) < 0) {
    stack_error_print(err);
    return 1;
  }
  _cleanup_free_ char *tar = xasprintf("%s/commit-XXXXXX", tmpdir);
  _cleanup_close_ int fd = mkostemp(tar, O_CLOEXEC);
  if (fd < 0) {
    fprintf(stderr, "stack commit: cannot make a file in %s: %s\n", tmpdir, strerror(errno));
    return 1;
  }
  _cleanup_strv_ char **changes = NULL;
  size_t n = 0, cap = 0;
  image_changes(&paths, service, index, &changes, &n, &cap);
  for (size_t i = 0; i < nu; i++) {
    changes = xgrow(changes, &cap, n + 2, sizeof(char *));
    changes[n++] = xstrdup(user_changes[i]);
    changes[n] = NULL;
  }
  struct image_record *rec = NULL;
  int r = export_to_fd(client, service, index, fd, &err);
  if (r == 0)
    r = image_import_changes(root, tar, norm, changes, &rec, &err);
  unlink(tar);
  if (r < 0) {
    fprintf(stderr, "Error response from daemon: %s\n", err->msg);
    return 1;
  }
  printf("%s\n", rec->config_digest);
  image_record_free(rec);
  return 0;
}
