/* `stack cp`: files between the host and a service's container, both ways,
 * as `docker compose cp` copies them.  The guest has no file API of its
 * own: the container's `tar` runs as an exec session (as root) and the
 * archive streams through the supervisor; on the host, libarchive writes
 * and reads it.  Docker's rules for SRC and DEST apply: a file onto a file
 * or into a directory, a directory as a new DEST or into an existing one,
 * SRC/. for a directory's contents, `-` for a tar stream on stdin or
 * stdout; -a keeps owners (else the copy belongs to whoever receives it:
 * root in the container, the caller on the host), -L follows SRC when it
 * is a symbolic link.  Entries from the guest are hostile until checked:
 * each must lie under the one top entry asked for, and is written with
 * libarchive's secure flags below the destination only. */
#include <archive.h>
#include <archive_entry.h>
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
#include "orchestrator/supervisor/sup_client.h"
#include "orchestrator/supervisor/sup_paths.h"
#include "runtime/util/cleanup.h"
#include "runtime/util/error.h"
#include "runtime/util/fdio.h"
#include "runtime/util/xalloc.h"

#define COPY_BUF (64u << 10)

struct cp_opts {
  bool archive, follow;
  unsigned index;
  struct sup_client *client;
  const char *service;
};

/* A container path: relative ones are relative to its root, as in Docker. */
static char *ctr_abs(const char *p) { return p[0] == '/' ? xstrdup(p) : xasprintf("/%s", p); }

/* Runs `test FLAG path` in the container: true when it holds. */
static int ctr_test(const struct cp_opts *o, const char *flag, const char *path, bool *yes,
                    struct stack_error **err) {
  const char *argv[] = {"test", flag, path, NULL};
  int code = 0;
  int r = cli_exec_stream_run(o->client, o->service, o->index, argv, &code, NULL, 0, err);
  if (r < 0)
    return r;
  if (code == 126 || code == 127)
    return stack_error_set(err, -ENOEXEC,
                           "the container of service %s has no `test` and `tar`: stack cp "
                           "runs them in the container",
                           o->service);
  *yes = code == 0;
  return 0;
}

static int tar_failed(const struct cp_opts *o, struct cli_exec_stream *x,
                      struct stack_error **err) {
  if (x->error)
    return stack_error_set(err, -EIO, "%s", x->error);
  if (x->exit_code == 126 || x->exit_code == 127)
    return stack_error_set(err, -ENOEXEC,
                           "the container of service %s has no `tar`: stack cp runs it in the "
                           "container",
                           o->service);
  const char *msg = x->err.data ? x->err.data : "";
  size_t n = strcspn(msg, "\n");
  return stack_error_set(err, -EIO, "tar in the container failed (exit %d): %.*s", x->exit_code,
                         (int)n, msg);
}

/* ---- container -> host ---- */

static int copy_data(struct archive *in, struct archive *out, struct stack_error **err) {
  const void *buf;
  size_t len;
  la_int64_t off;
  for (;;) {
    int r = archive_read_data_block(in, &buf, &len, &off);
    if (r == ARCHIVE_EOF)
      return 0;
    if (r < ARCHIVE_WARN)
      return stack_error_set(err, -EIO, "%s", archive_error_string(in));
    if (archive_write_data_block(out, buf, len, off) < ARCHIVE_WARN)
      return stack_error_set(err, -EIO, "%s", archive_error_string(out));
  }
}

static int cp_from(const struct cp_opts *o, const char *src_in, const char *dest,
                   struct stack_error **err) {
  _cleanup_free_ char *src = ctr_abs(src_in);
  __attribute__((cleanup(cp_path_clear))) struct cp_path sp;
  cp_path_split(src, &sp);
  bool exists = false, is_dir = false;
  int r;
  _cleanup_free_ char *whole = sp.contents ? xstrndup(src, strlen(src) - 2) : xstrdup(src);
  if (!whole[0]) {
    free(whole);
    whole = xstrdup("/");
  }
  if ((r = ctr_test(o, "-e", whole, &exists, err)) < 0)
    return r;
  if (!exists)
    return stack_error_set(err, -ENOENT, "Could not find the file %s in container of service %s",
                           whole, o->service);
  if ((r = ctr_test(o, "-d", whole, &is_dir, err)) < 0)
    return r;
  if ((sp.want_dir || sp.contents) && !is_dir)
    return stack_error_set(err, -ENOTDIR, "%s: not a directory", src);
  /* -L: the link's target, named as the link */
  _cleanup_free_ char *real = NULL;
  if (o->follow) {
    const char *argv[] = {"readlink", "-f", whole, NULL};
    int code = 0;
    struct sbuf out = SBUF_INIT;
    r = cli_exec_stream_run(o->client, o->service, o->index, argv, &code, &out, 4096, err);
    if (r == 0 && code == 0 && out.len > 1 && out.data[0] == '/') {
      out.data[strcspn(out.data, "\n")] = '\0';
      real = xstrdup(out.data);
    }
    sbuf_free(&out);
    if (r < 0)
      return r;
  }
  __attribute__((cleanup(cp_path_clear))) struct cp_path rp;
  cp_path_split(real ? real : whole, &rp);
  const char *tar_dir = sp.contents ? whole : rp.dir;
  const char *tar_top = sp.contents ? "." : rp.base;
  const char *argv[] = {"tar", "-c", "-f", "-", "-C", tar_dir, tar_top, NULL};
  __attribute__((cleanup(cli_exec_stream_clear))) struct cli_exec_stream x = {0};
  if ((r = cli_exec_stream_start(&x, o->client, o->service, o->index, argv, false, err)) < 0)
    return r;

  if (strcmp(dest, "-") == 0) {
    /* the archive itself, as docker cp writes it */
    while ((r = cli_exec_stream_read(&x, err)) > 0)
      if (fd_write_all(STDOUT_FILENO, x.chunk, x.n) < 0)
        return stack_error_errno(err, -errno, "cannot write to stdout");
    if (r < 0)
      return r;
    return x.exit_code != 0 ? tar_failed(o, &x, err) : 0;
  }

  /* Docker's rules: where the copy goes and under which name */
  struct stat st;
  bool dest_exists = stat(dest, &st) == 0, dest_dir = dest_exists && S_ISDIR(st.st_mode);
  __attribute__((cleanup(cp_path_clear))) struct cp_path dp;
  cp_path_split(dest, &dp);
  _cleanup_free_ char *into = NULL, *name = NULL;
  if (dest_dir) {
    into = xstrdup(dest);
    name = xstrdup(sp.contents ? "." : sp.base);
  } else if (dest_exists && is_dir) {
    return stack_error_set(err, -ENOTDIR, "cannot copy a directory to a file: %s", dest);
  } else if (!dest_exists && dp.want_dir && !is_dir) {
    return stack_error_set(err, -ENOENT, "destination directory %s does not exist", dest);
  } else {
    struct stat pst;
    if (stat(dp.dir, &pst) < 0 || !S_ISDIR(pst.st_mode))
      return stack_error_set(err, -ENOENT, "destination directory %s does not exist", dp.dir);
    into = xstrdup(dp.dir);
    name = xstrdup(dp.base);
  }
  _cleanup_close_ int dirfd = open(into, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (dirfd < 0 || fchdir(dirfd) < 0)
    return stack_error_errno(err, -errno, "cannot enter %s", into);

  __attribute__((cleanup(cli_archive_freep))) struct archive *in = archive_read_new();
  __attribute__((cleanup(cli_archive_freep))) struct archive *out = archive_write_disk_new();
  int flags = ARCHIVE_EXTRACT_TIME | ARCHIVE_EXTRACT_PERM | ARCHIVE_EXTRACT_SECURE_NODOTDOT |
              ARCHIVE_EXTRACT_SECURE_SYMLINKS | ARCHIVE_EXTRACT_SECURE_NOABSOLUTEPATHS;
  if (o->archive)
    flags |= ARCHIVE_EXTRACT_OWNER;
  archive_write_disk_set_options(out, flags);
  struct cli_exec_tar p;
  if ((r = cli_exec_tar_open(in, &p, &x, err)) < 0)
    return r;
  const char *top = sp.contents ? "." : rp.base;
  for (;;) {
    struct archive_entry *e;
    int ar = archive_read_next_header(in, &e);
    if (ar == ARCHIVE_EOF)
      break;
    if (ar < ARCHIVE_WARN) {
      if (p.rc < 0)
        return p.rc;
      /* tar failed before its archive: its stderr says why */
      if ((r = cli_exec_stream_wait(&x, err)) < 0)
        return r;
      return x.exit_code ? tar_failed(o, &x, err)
                         : stack_error_set(err, -EIO, "%s", archive_error_string(in));
    }
    _cleanup_free_ char *path = cp_entry_rename(archive_entry_pathname(e), top, name);
    if (path == NULL)
      return stack_error_set(err, -EPROTO, "the container sent an entry outside %s: %s", whole,
                             archive_entry_pathname(e));
    if (strcmp(path, ".") == 0)
      continue; /* the destination directory itself */
    archive_entry_set_pathname(e, path);
    if (archive_entry_hardlink(e)) {
      _cleanup_free_ char *link = cp_entry_rename(archive_entry_hardlink(e), top, name);
      if (link == NULL)
        return stack_error_set(err, -EPROTO, "the container sent a link outside %s: %s", whole,
                               archive_entry_hardlink(e));
      archive_entry_set_hardlink(e, link);
    }
    if (archive_write_header(out, e) < ARCHIVE_WARN)
      return stack_error_set(err, -EIO, "%s: %s", path, archive_error_string(out));
    if (archive_entry_size(e) > 0 && (r = copy_data(in, out, err)) < 0)
      return stack_error_prefix(err, "%s", path);
    if (archive_write_finish_entry(out) < ARCHIVE_WARN)
      return stack_error_set(err, -EIO, "%s: %s", path, archive_error_string(out));
  }
  if (archive_write_close(out) != ARCHIVE_OK)
    return stack_error_set(err, -EIO, "%s", archive_error_string(out));
  if ((r = cli_exec_stream_wait(&x, err)) < 0)
    return r;
  return x.exit_code != 0 ? tar_failed(o, &x, err) : 0;
}

/* ---- host -> container ---- */

struct push {
  struct cli_exec_stream *x;
  struct stack_error **err;
  int rc;
};

static la_ssize_t push_write(struct archive *a, void *data, const void *buf, size_t n) {
  struct push *p = data;
  int r = cli_exec_stream_write(p->x, buf, n, p->err);
  if (r < 0) {
    p->rc = r;
    archive_set_error(a, EIO, "%s", (*p->err)->msg);
    return -1;
  }
  return (la_ssize_t)n;
}

/* Writes the tree at src into out, its top named name ("." for its
 * contents only). */
static int archive_tree(const struct cp_opts *o, struct archive *out, const char *src,
                        const char *name, struct stack_error **err) {
  __attribute__((cleanup(cli_archive_freep))) struct archive *in = archive_read_disk_new();
  if (o->follow)
    archive_read_disk_set_symlink_hybrid(in); /* the top only, as docker cp -L */
  else
    archive_read_disk_set_symlink_physical(in);
  archive_read_disk_set_standard_lookup(in);
  if (archive_read_disk_open(in, src) != ARCHIVE_OK)
    return stack_error_set(err, -EIO, "%s", archive_error_string(in));
  size_t prefix = strlen(src);
  while (prefix > 1 && src[prefix - 1] == '/')
    prefix--;
  struct archive_entry_linkresolver *lr = archive_entry_linkresolver_new();
  archive_entry_linkresolver_set_strategy(lr, ARCHIVE_FORMAT_TAR_GNUTAR);
  struct archive_entry *e = archive_entry_new();
  int r = 0;
  for (;;) {
    int ar = archive_read_next_header2(in, e);
    if (ar == ARCHIVE_EOF)
      break;
    if (ar < ARCHIVE_WARN) {
      r = stack_error_set(err, -EIO, "%s", archive_error_string(in));
      break;
    }
    archive_read_disk_descend(in);
    const char *p = archive_entry_pathname(e);
    const char *rel = strlen(p) > prefix ? p + prefix : "";
    _cleanup_free_ char *path = strcmp(name, ".") == 0 ? xasprintf(".%s", rel)
                                                        : xasprintf("%s%s", name, rel);
    archive_entry_set_pathname(e, path);
    if (!o->archive) {
      /* as docker cp: the copy belongs to the container's root */
      archive_entry_set_uid(e, 0);
      archive_entry_set_gid(e, 0);
    }
    /* owners by number: names mean another thing in the container */
    archive_entry_set_uname(e, NULL);
    archive_entry_set_gname(e, NULL);
    struct archive_entry *le = e, *sparse = NULL;
    archive_entry_linkify(lr, &le, &sparse);
    if (le == NULL)
      continue;
    if (archive_write_header(out, le) < ARCHIVE_WARN) {
      r = stack_error_set(err, -EIO, "%s: %s", path, archive_error_string(out));
      break;
    }
    if (archive_entry_size(le) > 0 && archive_entry_filetype(le) == AE_IFREG) {
      const void *buf;
      size_t len;
      la_int64_t off;
      int dr;
      while ((dr = archive_read_data_block(in, &buf, &len, &off)) == ARCHIVE_OK)
        if (archive_write_data(out, buf, len) < 0) {
          dr = ARCHIVE_FATAL;
          break;
        }
      if (dr != ARCHIVE_EOF) {
        r = stack_error_set(err, -EIO, "%s: %s", path, archive_error_string(in));
        break;
      }
    }
  }
  archive_entry_free(e);
  archive_entry_linkresolver_free(lr);
  return r;
}

static int copy_stdin(struct cli_exec_stream *x, struct stack_error **err) {
  _cleanup_free_ char *buf = xmalloc(COPY_BUF);
  for (;;) {
    ssize_t n = read(STDIN_FILENO, buf, COPY_BUF);
    if (n < 0 && errno == EINTR)
      continue;
    if (n < 0)
      return stack_error_errno(err, -errno, "cannot read stdin");
    if (n == 0)
      return cli_exec_stream_write(x, NULL, 0, err);
    int r = cli_exec_stream_write(x, buf, (size_t)n, err);
    if (r < 0)
      return r;
  }
}

static int cp_to(const struct cp_opts *o, const char *src, const char *dest_in,
                 struct stack_error **err) {
  _cleanup_free_ char *dest = ctr_abs(dest_in);
  __attribute__((cleanup(cp_path_clear))) struct cp_path dp, sp;
  cp_path_split(dest, &dp);
  cp_path_split(src, &sp);
  bool from_stdin = strcmp(src, "-") == 0;
  struct stat st = {0};
  _cleanup_free_ char *whole = NULL;
  if (!from_stdin) {
    whole = sp.contents ? xstrndup(src, strlen(src) - 2) : xstrdup(src);
    if (!whole[0]) {
      free(whole);
      whole = xstrdup("/");
    }
    if ((o->follow ? stat(whole, &st) : lstat(whole, &st)) < 0)
      return stack_error_errno(err, -errno, "lstat %s", whole);
    if ((sp.contents || sp.want_dir) && !S_ISDIR(st.st_mode))
      return stack_error_set(err, -ENOTDIR, "%s: not a directory", src);
  }
  bool dest_dir = false, dest_exists = false;
  int r;
  _cleanup_free_ char *dest_whole = xstrndup(dest, strlen(dest) - (dp.contents ? 2 : 0));
  if ((r = ctr_test(o, "-d", dest_whole[0] ? dest_whole : "/", &dest_dir, err)) < 0)
    return r;
  if (!dest_dir && (r = ctr_test(o, "-e", dest_whole, &dest_exists, err)) < 0)
    return r;
  /* Docker's rules, as for the other way */
  const char *into, *name;
  if (from_stdin) {
    if (!dest_dir)
      return stack_error_set(err, -ENOTDIR,
                             "destination \"%s\" must be a directory in container of service %s",
                             dest, o->service);
    into = dest_whole;
    name = NULL;
  } else if (dest_dir) {
    into = dest_whole;
    name = sp.contents ? "." : sp.base;
  } else if (dest_exists && S_ISDIR(st.st_mode)) {
    return stack_error_set(err, -ENOTDIR, "cannot copy a directory to a file: %s", dest);
  } else if (!dest_exists && dp.want_dir && !S_ISDIR(st.st_mode)) {
    return stack_error_set(err, -ENOENT, "destination directory %s does not exist", dest);
  } else {
    bool parent = false;
    if ((r = ctr_test(o, "-d", dp.dir, &parent, err)) < 0)
      return r;
    if (!parent)
      return stack_error_set(err, -ENOENT,
                             "Could not find the file %s in container of service %s", dp.dir,
                             o->service);
    into = dp.dir;
    name = dp.base;
  }
  const char *argv[] = {"tar", "-x", "-f", "-", "-C", into, NULL};
  __attribute__((cleanup(cli_exec_stream_clear))) struct cli_exec_stream x = {0};
  if ((r = cli_exec_stream_start(&x, o->client, o->service, o->index, argv, true, err)) < 0)
    return r;
  if (from_stdin) {
    r = copy_stdin(&x, err);
  } else {
    __attribute__((cleanup(cli_archive_freep))) struct archive *out = archive_write_new();
    archive_write_set_format_gnutar(out);
    archive_write_set_bytes_per_block(out, 16384);
    struct push p = {&x, err, 0};
    if (archive_write_open(out, &p, NULL, push_write, NULL) != ARCHIVE_OK)
      r = p.rc < 0 ? p.rc : stack_error_set(err, -EIO, "%s", archive_error_string(out));
    else if ((r = archive_tree(o, out, whole, name, err)) == 0 &&
             archive_write_close(out) != ARCHIVE_OK)
      r = p.rc < 0 ? p.rc : stack_error_set(err, -EIO, "%s", archive_error_string(out));
    if (r == 0)
      r = cli_exec_stream_write(&x, NULL, 0, err);
  }
  if (r < 0)
    return r;
  if ((r = cli_exec_stream_wait(&x, err)) < 0)
    return r;
  return x.exit_code != 0 ? tar_failed(o, &x, err) : 0;
}

static void usage(FILE *f, const char *prog) {
  fprintf(f,
          "Usage:  %s cp [OPTIONS] SERVICE:SRC_PATH DEST_PATH|-\n"
          "        %s cp [OPTIONS] SRC_PATH|- SERVICE:DEST_PATH\n\n"
          "Copy files/folders between a service container and the local filesystem\n\n"
          "Options:\n"
          "  -a, --archive       Archive mode (copy all uid/gid information)\n"
          "  -L, --follow-link   Always follow symbol link in SRC_PATH\n"
          "      --index int     Index of the container if service has multiple replicas\n",
          prog, prog);
}

/* "SERVICE:PATH": the service in *svc (caller frees), the path returned;
 * NULL for a local path (one starting with / or ., or without a colon). */
static const char *split_remote(const char *arg, char **svc) {
  *svc = NULL;
  if (arg[0] == '/' || arg[0] == '.')
    return NULL;
  const char *colon = strchr(arg, ':');
  if (colon == NULL || colon == arg)
    return NULL;
  *svc = xstrndup(arg, (size_t)(colon - arg));
  return colon + 1;
}

int cli_cp(struct cli_globals *g, int argc, char **argv) {
  static const struct option opts[] = {
      {"archive", no_argument, NULL, 'a'},      {"follow-link", no_argument, NULL, 'L'},
      {"index", required_argument, NULL, 'I'},  {"all", no_argument, NULL, 'A'},
      {"help", no_argument, NULL, 'h'},         {NULL, 0, NULL, 0},
  };
  struct cp_opts o = {.index = 1};
  int c;
  while ((c = getopt_long(argc, argv, "aLh", opts, NULL)) != -1) {
    switch (c) {
    case 'a':
      o.archive = true;
      break;
    case 'L':
      o.follow = true;
      break;
    case 'I': {
      char *end;
      long v = strtol(optarg, &end, 10);
      if (*end || v < 1 || v > 65535) {
        fprintf(stderr, "%s cp: --index: \"%s\" is not a replica number\n", g->progname, optarg);
        return 1;
      }
      o.index = (unsigned)v;
      break;
    }
    case 'A':
      break; /* Compose's deprecated --all: the first replica is copied */
    case 'h':
      usage(stdout, g->progname);
      return 0;
    default:
      usage(stderr, g->progname);
      return 1;
    }
  }
  if (argc - optind != 2) {
    fprintf(stderr, "%s cp: requires exactly 2 arguments\n\n", g->progname);
    usage(stderr, g->progname);
    return 1;
  }
  const char *src = argv[optind], *dest = argv[optind + 1];
  _cleanup_free_ char *src_svc = NULL, *dest_svc = NULL;
  const char *src_path = split_remote(src, &src_svc);
  const char *dest_path = split_remote(dest, &dest_svc);
  if ((src_path == NULL) == (dest_path == NULL)) {
    fprintf(stderr, src_path ? "%s cp: copying between services is not supported\n"
                             : "%s cp: one of SRC and DEST must be SERVICE:PATH\n",
            g->progname);
    return 1;
  }
  if ((src_path && !*src_path) || (dest_path && !*dest_path)) {
    fprintf(stderr, "%s cp: the path in the service may not be empty\n", g->progname);
    return 1;
  }
  o.service = src_svc ? src_svc : dest_svc;
  __attribute__((cleanup(sup_paths_clear))) struct sup_paths paths = {0};
  _cleanup_sup_client_ struct sup_client *client = NULL;
  _cleanup_error_ struct stack_error *err = NULL;
  if (cli_project_client(g, false, &paths, &client, &err) < 0 || client == NULL) {
    if (err)
      stack_error_print(err);
    else
      fprintf(stderr, "stack: service \"%s\" is not running\n", o.service);
    return 1;
  }
  o.client = client;
  int r = src_path ? cp_from(&o, src_path, dest, &err) : cp_to(&o, src, dest_path, &err);
  if (r < 0) {
    fprintf(stderr, "Error response from daemon: %s\n", err->msg);
    return 1;
  }
  return 0;
}
