/* `stack image SUBCOMMAND` (ls, inspect, rm, prune, import, load, save, pull,
 * push) and `stack images`, printing what `docker image ...` prints. */
#include <cjson/cJSON.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "cli.h"
#include "cli_table.h"
#include "runtime/image/blobstore.h"
#include "runtime/image/image.h"
#include "runtime/image/image_index.h"
#include "runtime/image/manifest.h"
#include "runtime/image/rootfs.h"
#include "runtime/util/cjson_cleanup.h"
#include "runtime/util/bytesize.h"
#include "runtime/util/cleanup.h"
#include "runtime/util/error.h"
#include "runtime/util/fsutil.h"
#include "runtime/util/humanize.h"
#include "runtime/util/json_print.h"
#include "runtime/util/paths.h"
#include "runtime/util/xalloc.h"

static void records_freep(struct image_record ***v) { image_record_list_free(*v); }
static void blobstore_closep(struct blobstore **bs) { blobstore_close(*bs); }

static int fail(const char *what, struct stack_error *e) {
  fprintf(stderr, "stack %s: %s\n", what, e ? e->msg : "failed");
  return 1;
}

/* Docker's units.HumanSizeWithPrecision(n, 3): decimal units. */
static char *human_size(double n) { return human_size_si(n, 3); }

static char *human_since(int64_t then) {
  _cleanup_free_ char *d = human_duration(((int64_t)time(NULL) - then) * 1000);
  return xasprintf("%s ago", d);
}

static char *short_id(const char *digest) { return xstrndup(digest + strlen("sha256:"), 12); }

/* `stack images busybox` / `busybox:1.36`: Docker matches the repository
 * as shown, and the tag when one is given. */
static bool matches(const char *filter, const char *repo, const char *tag) {
  if (filter == NULL)
    return true;
  const char *colon = strrchr(filter, ':');
  if (colon && strchr(colon, '/') == NULL)
    return strlen(repo) == (size_t)(colon - filter) && strncmp(filter, repo, (size_t)(colon - filter)) == 0 &&
           strcmp(colon + 1, tag) == 0;
  return strcmp(filter, repo) == 0;
}

/* Docker lists the newest images first. */
static int newest_first(const void *a, const void *b) {
  const struct image_record *x = *(struct image_record *const *)a;
  const struct image_record *y = *(struct image_record *const *)b;
  if (x->created != y->created)
    return x->created < y->created ? 1 : -1;
  return strcmp(x->ref, y->ref);
}

static void images_usage(FILE *f) {
  fputs("Usage:  stack images [OPTIONS] [REPOSITORY[:TAG]]\n"
        "\n"
        "List images\n"
        "\n"
        "Options:\n"
        "      --format string   Format output: table (default) or json\n"
        "  -q, --quiet           Only show image IDs\n",
        f);
}

static int image_ls(int argc, char **argv) {
  static const struct option opts[] = {
      {"quiet", no_argument, NULL, 'q'}, {"format", required_argument, NULL, 'F'},
      {"all", no_argument, NULL, 'a'},   {"help", no_argument, NULL, 'h'},
      {NULL, 0, NULL, 0},
  };
  bool quiet = false, json = false;
  optind = 0; /* 0: glibc re-reads the ordering, so options may follow arguments */
  opterr = 0;
  int c;
  while ((c = getopt_long(argc, argv, "qah", opts, NULL)) != -1) {
    if (c == 'q')
      quiet = true;
    else if (c == 'F' && (strcmp(optarg, "json") == 0 || strcmp(optarg, "{{json .}}") == 0))
      json = true;
    else if (c == 'F' && strcmp(optarg, "table") == 0)
      json = false;
    else if (c == 'a')
      continue;
    else if (c == 'h') {
      images_usage(stdout);
      return 0;
    } else {
      fprintf(stderr, "stack images: invalid option or format %s\n", argv[optind - 1]);
      images_usage(stderr);
      return 2;
    }
  }
  const char *filter = optind < argc ? argv[optind] : NULL;
  _cleanup_free_ char *root = stack_data_root();
  _cleanup_error_ struct stack_error *e = NULL;
  __attribute__((cleanup(records_freep))) struct image_record **recs = NULL;
  if (image_index_list(root, &recs, &e) < 0)
    return fail("images", e);
  size_t nrecs = 0;
  while (recs[nrecs])
    nrecs++;
  qsort(recs, nrecs, sizeof(*recs), newest_first);
  struct cli_table t;
  static const char *const header[] = {"REPOSITORY", "TAG", "IMAGE ID", "CREATED", "SIZE"};
  cli_table_init(&t, 5, header);
  _cleanup_strv_ char **ids = xcalloc(1, sizeof(char *));
  size_t nids = 0;
  for (struct image_record **p = recs; *p; p++) {
    _cleanup_free_ char *repo = NULL, *tag = NULL;
    image_ref_display((*p)->ref, &repo, &tag);
    if (!matches(filter, repo, tag))
      continue;
    _cleanup_free_ char *id = short_id((*p)->config_digest);
    _cleanup_free_ char *since = human_since((*p)->created);
    _cleanup_free_ char *size = human_size((double)(*p)->size);
    if (quiet) {
      bool seen = false;
      for (size_t i = 0; i < nids; i++)
        seen |= strcmp(ids[i], id) == 0;
      if (!seen) {
        ids = xrealloc(ids, (nids + 2) * sizeof(char *));
        ids[nids++] = xstrdup(id);
        ids[nids] = NULL;
        printf("%s\n", id);
      }
    } else if (json) {
      _cleanup_cjson_ cJSON *o = cJSON_CreateObject();
      char created[64];
      time_t ct = (time_t)(*p)->created;
      struct tm tm;
      gmtime_r(&ct, &tm);
      strftime(created, sizeof(created), "%Y-%m-%d %H:%M:%S +0000 UTC", &tm);
      const char *at = strchr((*p)->ref, '@');
      cJSON_AddStringToObject(o, "Containers", "N/A");
      cJSON_AddStringToObject(o, "CreatedAt", created);
      cJSON_AddStringToObject(o, "CreatedSince", since);
      cJSON_AddStringToObject(o, "Digest", at ? at + 1 : "<none>");
      cJSON_AddStringToObject(o, "ID", id);
      cJSON_AddStringToObject(o, "Repository", repo);
      cJSON_AddStringToObject(o, "SharedSize", "N/A");
      cJSON_AddStringToObject(o, "Size", size);
      cJSON_AddStringToObject(o, "Tag", tag);
      cJSON_AddStringToObject(o, "UniqueSize", "N/A");
      cJSON_AddStringToObject(o, "VirtualSize", size);
      _cleanup_free_ char *s = cJSON_PrintUnformatted(o);
      printf("%s\n", s);
    } else {
      const char *row[] = {repo, tag, id, since, size};
      cli_table_add(&t, row);
    }
  }
  if (!quiet && !json)
    cli_table_print(&t, stdout);
  cli_table_free(&t);
  return 0;
}

static cJSON *inspect_one(const char *root, struct blobstore *bs, const struct image_record *rec,
                          struct stack_error **err) {
  _cleanup_free_ char *cfg = NULL;
  size_t len = 0;
  if (blobstore_read(bs, rec->config_digest, 16u << 20, &cfg, &len, err) < 0)
    return NULL;
  _cleanup_cjson_ cJSON *c = cJSON_ParseWithLength(cfg, len);
  cJSON *o = cJSON_CreateObject();
  cJSON_AddStringToObject(o, "Id", rec->config_digest);
  _cleanup_free_ char *repo = NULL, *tag = NULL;
  image_ref_display(rec->ref, &repo, &tag);
  cJSON *tags = cJSON_AddArrayToObject(o, "RepoTags");
  if (strcmp(tag, "<none>") != 0) {
    _cleanup_free_ char *rt = xasprintf("%s:%s", repo, tag);
    cJSON_AddItemToArray(tags, cJSON_CreateString(rt));
  }
  cJSON *digests = cJSON_AddArrayToObject(o, "RepoDigests");
  _cleanup_free_ char *rd = xasprintf("%s@%s", repo, rec->manifest_digest);
  cJSON_AddItemToArray(digests, cJSON_CreateString(rd));
  const cJSON *created = cJSON_GetObjectItemCaseSensitive(c, "created");
  cJSON_AddStringToObject(o, "Created", cJSON_IsString(created) ? created->valuestring : "");
  static const char *copy[] = {"architecture", "os", "variant"};
  static const char *as[] = {"Architecture", "Os", "Variant"};
  for (int i = 0; i < 3; i++) {
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(c, copy[i]);
    if (cJSON_IsString(v))
      cJSON_AddStringToObject(o, as[i], v->valuestring);
  }
  cJSON_AddNumberToObject(o, "Size", (double)rec->size);
  cJSON *config = cJSON_GetObjectItemCaseSensitive(c, "config");
  cJSON_AddItemToObject(o, "Config", config ? cJSON_Duplicate(config, 1) : cJSON_CreateObject());
  cJSON *rootfs = cJSON_AddObjectToObject(o, "RootFS");
  cJSON_AddStringToObject(rootfs, "Type", "layers");
  cJSON *layers = cJSON_AddArrayToObject(rootfs, "Layers");
  struct manifest m;
  if (image_load_manifest(bs, rec, &m, NULL) == 0) {
    for (size_t i = 0; i < m.n_items; i++)
      cJSON_AddItemToArray(layers, cJSON_CreateString(m.items[i].digest));
    manifest_clear(&m);
  }
  cJSON *meta = cJSON_AddObjectToObject(o, "Metadata");
  cJSON_AddStringToObject(meta, "ManifestDigest", rec->manifest_digest);
  if (rec->platform)
    cJSON_AddStringToObject(meta, "Platform", rec->platform);
  _cleanup_free_ char *disk = rootfs_path(root, rec->config_digest);
  if (disk && fs_exists(disk))
    cJSON_AddStringToObject(meta, "RootDisk", disk);
  return o;
}

static int image_inspect(int argc, char **argv) {
  if (argc < 2 || strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "-h") == 0) {
    fputs("Usage:  stack image inspect IMAGE [IMAGE...]\n\nDisplay detailed information on one "
          "or more images\n",
          argc < 2 ? stderr : stdout);
    return argc < 2 ? 2 : 0;
  }
  _cleanup_free_ char *root = stack_data_root();
  _cleanup_error_ struct stack_error *e = NULL;
  __attribute__((cleanup(blobstore_closep))) struct blobstore *bs = NULL;
  if (blobstore_open(root, &bs, &e) < 0)
    return fail("image inspect", e);
  _cleanup_cjson_ cJSON *arr = cJSON_CreateArray();
  int rc = 0;
  for (int i = 1; i < argc; i++) {
    struct image_record *rec = NULL;
    stack_error_free(e);
    e = NULL;
    cJSON *o = NULL;
    if (image_find(root, argv[i], &rec, &e) == 0)
      o = inspect_one(root, bs, rec, &e);
    image_record_free(rec);
    if (o == NULL) {
      fprintf(stderr, "Error: %s\n", e ? e->msg : argv[i]);
      rc = 1;
      continue;
    }
    cJSON_AddItemToArray(arr, o);
  }
  _cleanup_free_ char *s = json_print_indented(arr, "    ");
  printf("%s\n", s ? s : "[]");
  return rc;
}

static int image_rm(int argc, char **argv) {
  int first = 1;
  while (first < argc && argv[first][0] == '-') {
    if (strcmp(argv[first], "-h") == 0 || strcmp(argv[first], "--help") == 0) {
      puts("Usage:  stack image rm [-f] IMAGE [IMAGE...]\n\nRemove one or more images");
      return 0;
    }
    first++; /* -f/--force, --no-prune: nothing holds images here */
  }
  if (first >= argc) {
    fputs("stack image rm: requires at least one image\n", stderr);
    return 2;
  }
  _cleanup_free_ char *root = stack_data_root();
  int rc = 0;
  for (int i = first; i < argc; i++) {
    _cleanup_error_ struct stack_error *e = NULL;
    _cleanup_strv_ char **gone = NULL;
    if (image_remove(root, argv[i], &gone, &e) < 0) {
      fprintf(stderr, "Error response from daemon: %s\n", e->msg);
      rc = 1;
      continue;
    }
    for (char **p = gone; *p; p++) {
      _cleanup_free_ char *repo = NULL, *tag = NULL;
      image_ref_display(*p, &repo, &tag);
      printf("Untagged: %s:%s\n", repo, tag);
    }
  }
  return rc;
}

static int image_prune_cmd(int argc, char **argv) {
  for (int i = 1; i < argc; i++)
    if (strcmp(argv[i], "-h") == 0 || strcmp(argv[i], "--help") == 0) {
      puts("Usage:  stack image prune [-a] [-f]\n\nRemove unused data from the image store");
      return 0;
    }
  _cleanup_free_ char *root = stack_data_root();
  _cleanup_error_ struct stack_error *e = NULL;
  uint64_t freed = 0;
  if (image_prune(root, &freed, &e) < 0)
    return fail("image prune", e);
  _cleanup_free_ char *h = human_size((double)freed);
  printf("Total reclaimed space: %s\n", h);
  return 0;
}

static void import_usage(FILE *f) {
  fputs("Usage:  stack image import [OPTIONS] DIRECTORY|TARBALL NAME[:TAG]\n"
        "\n"
        "Create an image from a root file system in a directory or tarball\n"
        "\n"
        "Options:\n"
        "  -c, --change list   Apply a Dockerfile instruction to the image config\n"
        "                      (CMD, ENTRYPOINT, ENV, EXPOSE, LABEL, STOPSIGNAL, USER,\n"
        "                      VOLUME, WORKDIR)\n",
        f);
}

static int image_import_cmd(int argc, char **argv) {
  static const struct option opts[] = {
      {"change", required_argument, NULL, 'c'},
      {"help", no_argument, NULL, 'h'},
      {NULL, 0, NULL, 0},
  };
  _cleanup_strv_ char **changes = xcalloc((size_t)argc + 1, sizeof(char *));
  size_t n = 0;
  optind = 0;
  opterr = 0;
  int c;
  while ((c = getopt_long(argc, argv, "c:h", opts, NULL)) != -1) {
    if (c == 'c') {
      changes[n++] = xstrdup(optarg);
    } else if (c == 'h') {
      import_usage(stdout);
      return 0;
    } else {
      fprintf(stderr, "stack image import: invalid option %s\n", argv[optind - 1]);
      import_usage(stderr);
      return 2;
    }
  }
  if (argc - optind != 2) {
    import_usage(stderr);
    return 2;
  }
  _cleanup_free_ char *root = stack_data_root();
  _cleanup_error_ struct stack_error *e = NULL;
  struct image_record *rec = NULL;
  if (image_import_changes(root, argv[optind], argv[optind + 1], changes, &rec, &e) < 0)
    return fail("image import", e);
  printf("%s\n", rec->config_digest);
  image_record_free(rec);
  return 0;
}

static int image_load_cmd(int argc, char **argv) {
  const char *input = NULL;
  bool quiet = false;
  for (int i = 1; i < argc; i++) {
    if ((strcmp(argv[i], "-i") == 0 || strcmp(argv[i], "--input") == 0) && i + 1 < argc)
      input = argv[++i];
    else if (strncmp(argv[i], "--input=", 8) == 0)
      input = argv[i] + 8;
    else if (strcmp(argv[i], "-q") == 0 || strcmp(argv[i], "--quiet") == 0)
      quiet = true;
    else {
      fputs("Usage:  stack image load [-i FILE] [-q]\n\nLoad images from an OCI archive (stdin by default)\n",
            strcmp(argv[i], "--help") == 0 ? stdout : stderr);
      return strcmp(argv[i], "--help") == 0 ? 0 : 2;
    }
  }
  if (input == NULL && isatty(STDIN_FILENO)) {
    fputs("stack image load: requested load from stdin, but stdin is empty; use -i FILE\n",
          stderr);
    return 1;
  }
  if (input == NULL)
    input = "-";
  _cleanup_free_ char *root = stack_data_root();
  _cleanup_error_ struct stack_error *e = NULL;
  _cleanup_strv_ char **loaded = NULL;
  if (image_load(root, input, &loaded, &e) < 0)
    return fail("image load", e);
  for (char **p = loaded; !quiet && *p; p++) {
    _cleanup_free_ char *repo = NULL, *tag = NULL;
    image_ref_display(*p, &repo, &tag);
    printf("Loaded image: %s:%s\n", repo, tag);
  }
  return 0;
}

static int image_save_cmd(int argc, char **argv) {
  const char *output = NULL;
  _cleanup_strv_ char **refs = xcalloc((size_t)argc + 1, sizeof(char *));
  size_t n = 0;
  for (int i = 1; i < argc; i++) {
    if ((strcmp(argv[i], "-o") == 0 || strcmp(argv[i], "--output") == 0) && i + 1 < argc)
      output = argv[++i];
    else if (strncmp(argv[i], "--output=", 9) == 0)
      output = argv[i] + 9;
    else if (argv[i][0] == '-') {
      fputs("Usage:  stack image save [-o FILE] IMAGE [IMAGE...]\n\n"
            "Save images to an OCI archive (tar), to stdout by default\n",
            strcmp(argv[i], "--help") == 0 ? stdout : stderr);
      return strcmp(argv[i], "--help") == 0 ? 0 : 2;
    } else
      refs[n++] = xstrdup(argv[i]);
  }
  if (n == 0) {
    fputs("stack image save: requires at least one image\n", stderr);
    return 2;
  }
  if (output == NULL && isatty(STDOUT_FILENO)) {
    fputs("stack image save: cowardly refusing to write to a terminal; use -o FILE or a "
          "redirect\n",
          stderr);
    return 1;
  }
  _cleanup_free_ char *root = stack_data_root();
  _cleanup_error_ struct stack_error *e = NULL;
  if (image_save(root, refs, output ? output : "-", &e) < 0)
    return fail("image save", e);
  return 0;
}

static void image_usage(FILE *f) {
  fputs("Usage:  stack image COMMAND\n"
        "\n"
        "Manage images\n"
        "\n"
        "Commands:\n"
        "  import      Import a root file system (directory or tarball) as an image\n"
        "  inspect     Display detailed information on one or more images\n"
        "  load        Load images from an OCI archive\n"
        "  ls          List images\n"
        "  prune       Remove unused data from the image store\n"
        "  pull        Pull an image from a registry\n"
        "  push        Push an image to a registry\n"
        "  rm          Remove one or more images\n"
        "  save        Save images to an OCI archive\n",
        f);
}

int cli_images(struct cli_globals *g, int argc, char **argv) {
  (void)g;
  return image_ls(argc, argv);
}

int cli_image(struct cli_globals *g, int argc, char **argv) {
  if (argc < 2) {
    image_usage(stderr);
    return 2;
  }
  const char *sub = argv[1];
  argc--;
  argv++;
  if (strcmp(sub, "ls") == 0 || strcmp(sub, "list") == 0)
    return image_ls(argc, argv);
  if (strcmp(sub, "inspect") == 0)
    return image_inspect(argc, argv);
  if (strcmp(sub, "rm") == 0 || strcmp(sub, "remove") == 0)
    return image_rm(argc, argv);
  if (strcmp(sub, "prune") == 0)
    return image_prune_cmd(argc, argv);
  if (strcmp(sub, "import") == 0)
    return image_import_cmd(argc, argv);
  if (strcmp(sub, "load") == 0)
    return image_load_cmd(argc, argv);
  if (strcmp(sub, "save") == 0)
    return image_save_cmd(argc, argv);
  if (strcmp(sub, "pull") == 0)
    return cli_image_pull(g, argc, argv);
  if (strcmp(sub, "push") == 0)
    return cli_image_push(g, argc, argv);
  if (strcmp(sub, "--help") == 0 || strcmp(sub, "-h") == 0) {
    image_usage(stdout);
    return 0;
  }
  fprintf(stderr, "stack image: unknown command \"%s\"\n", sub);
  image_usage(stderr);
  return 2;
}
