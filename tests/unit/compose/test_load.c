#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "orchestrator/compose/compose_load.h"
#include "runtime/util/cleanup.h"
#include "runtime/util/error.h"
#include "runtime/util/fsutil.h"
#include "runtime/util/xalloc.h"
#include "test.h"

static char tmp[] = "/tmp/stack-test-load-XXXXXX";

static void cleanup(void) { fs_rm_rf(tmp, NULL); }

/* Writes tmp/<rel> (creating directories). */
static void put(const char *rel, const char *text) {
  _cleanup_free_ char *p = xasprintf("%s/%s", tmp, rel);
  _cleanup_free_ char *dir = xstrdup(p);
  *strrchr(dir, '/') = '\0';
  fs_mkdir_p(dir, 0755, NULL);
  if (fs_write_file_atomic(p, text, strlen(text), 0644, NULL) < 0)
    abort();
}

static char *at(const char *rel) { return xasprintf("%s/%s", tmp, rel); }

struct run {
  struct cnode *tree;
  struct stack_error *err;
};

static void run_free(struct run *r) {
  cnode_free(r->tree);
  stack_error_free(r->err);
}
#define _cleanup_run_ __attribute__((cleanup(run_free)))

static struct run load(struct compose_load_opts o) {
  static char *no_env[] = {NULL};
  if (o.environ == NULL)
    o.environ = no_env;
  struct run r = {0};
  compose_load_tree(&o, &r.tree, NULL, &r.err);
  return r;
}

static const char *svc_str(const struct run *r, const char *svc, const char *key) {
  return cnode_map_get_str(cnode_map_get(cnode_map_get(r->tree, "services"), svc), key);
}

static bool has_service(const struct run *r, const char *svc) {
  return cnode_map_get(cnode_map_get(r->tree, "services"), svc) != NULL;
}

#define CHECK_OK(r) CHECK_MSG((r).tree != NULL, "%s", (r).err ? (r).err->msg : "")
#define CHECK_ERR(r, needle)                                                                       \
  CHECK_MSG((r).tree == NULL && (r).err && strstr((r).err->msg, needle), "want '%s', got '%s'",  \
            needle, (r).err ? (r).err->msg : "(no error)")

static void test_discovery_and_names(void) {
  put("My.Proj_1/compose.yaml", "services:\n  web:\n    image: nginx\n");
  put("My.Proj_1/compose.override.yml", "services:\n  web:\n    image: nginx:2\n");
  put("My.Proj_1/deep/er/.keep", "");
  _cleanup_free_ char *deep = at("My.Proj_1/deep/er");
  _cleanup_run_ struct run r = load((struct compose_load_opts){.working_dir = deep});
  CHECK_OK(r);
  CHECK_STREQ(cnode_map_get_str(r.tree, "name"), "myproj_1");
  CHECK_STREQ(svc_str(&r, "web", "image"), "nginx:2");

  _cleanup_run_ struct run p = load((struct compose_load_opts){.working_dir = deep,
                                                               .project_name = "other"});
  CHECK_OK(p);
  CHECK_STREQ(cnode_map_get_str(p.tree, "name"), "other");
  _cleanup_run_ struct run bad = load((struct compose_load_opts){.working_dir = deep,
                                                                 .project_name = "Bad Name"});
  CHECK_ERR(bad, "invalid project name \"Bad Name\"");

  char *env[] = {"COMPOSE_PROJECT_NAME=fromenv", NULL};
  put("named/compose.yaml", "name: fromfile\nservices:\n  a:\n    image: x\n");
  _cleanup_free_ char *named = at("named");
  _cleanup_run_ struct run e = load((struct compose_load_opts){.working_dir = named, .environ = env});
  CHECK_OK(e);
  CHECK_STREQ(cnode_map_get_str(e.tree, "name"), "fromenv");
  _cleanup_run_ struct run f = load((struct compose_load_opts){.working_dir = named});
  CHECK_OK(f);
  CHECK_STREQ(cnode_map_get_str(f.tree, "name"), "fromfile");

  /* COMPOSE_FILE with its separator, relative to the working directory */
  put("cf/one.yaml", "services:\n  a:\n    image: one\n");
  put("cf/two.yaml", "services:\n  a:\n    image: two\n");
  _cleanup_free_ char *cfdir = at("cf");
  char *cfenv[] = {"COMPOSE_FILE=one.yaml;two.yaml", "COMPOSE_PATH_SEPARATOR=;", NULL};
  _cleanup_run_ struct run c = load((struct compose_load_opts){.working_dir = cfdir, .environ = cfenv});
  CHECK_OK(c);
  CHECK_STREQ(svc_str(&c, "a", "image"), "two");

  char *missing[] = {"nope.yaml", NULL};
  _cleanup_run_ struct run m = load((struct compose_load_opts){.working_dir = cfdir, .files = missing});
  CHECK_ERR(m, "nope.yaml: no such file");
  put("empty/compose.yaml", "");
  _cleanup_free_ char *empty = at("empty");
  _cleanup_run_ struct run em = load((struct compose_load_opts){.working_dir = empty});
  CHECK_ERR(em, "empty compose file");
}

static void test_env_precedence(void) {
  put("env/compose.yaml", "services:\n  a:\n    image: \"img:${TAG}\"\n    user: ${WHO:-nobody}\n");
  put("env/.env", "TAG=fromdotenv\nWHO=dotenv\n");
  put("env/alt.env", "TAG=fromalt\n");
  _cleanup_free_ char *dir = at("env");
  _cleanup_run_ struct run a = load((struct compose_load_opts){.working_dir = dir});
  CHECK_OK(a);
  CHECK_STREQ(svc_str(&a, "a", "image"), "img:fromdotenv");
  char *os[] = {"TAG=fromos", NULL};
  _cleanup_run_ struct run b = load((struct compose_load_opts){.working_dir = dir, .environ = os});
  CHECK_OK(b);
  CHECK_STREQ(svc_str(&b, "a", "image"), "img:fromos");
  CHECK_STREQ(svc_str(&b, "a", "user"), "dotenv");
  char *ef[] = {"alt.env", NULL};
  _cleanup_run_ struct run c = load((struct compose_load_opts){.working_dir = dir, .env_files = ef});
  CHECK_OK(c);
  CHECK_STREQ(svc_str(&c, "a", "image"), "img:fromalt");
  CHECK_STREQ(svc_str(&c, "a", "user"), "nobody");
  _cleanup_run_ struct run d = load((struct compose_load_opts){.working_dir = dir, .no_interpolate = true});
  CHECK_OK(d);
  CHECK_STREQ(svc_str(&d, "a", "image"), "img:${TAG}");
}

static void test_profiles(void) {
  put("prof/compose.yaml", "services:\n"
                           "  web:\n    image: w\n"
                           "  debug:\n    image: d\n    profiles: [debug]\n"
                           "    depends_on: [helper]\n"
                           "  helper:\n    image: h\n    profiles: [tools]\n"
                           "  other:\n    image: o\n    profiles: [x]\n");
  _cleanup_free_ char *dir = at("prof");
  _cleanup_run_ struct run a = load((struct compose_load_opts){.working_dir = dir});
  CHECK_OK(a);
  CHECK(has_service(&a, "web") && !has_service(&a, "debug") && !has_service(&a, "helper"));
  char *p[] = {"x", NULL};
  _cleanup_run_ struct run b = load((struct compose_load_opts){.working_dir = dir, .profiles = p});
  CHECK_OK(b);
  CHECK(has_service(&b, "other") && !has_service(&b, "debug"));
  char *named[] = {"debug", NULL};
  _cleanup_run_ struct run c = load((struct compose_load_opts){.working_dir = dir, .services = named});
  CHECK_OK(c);
  CHECK(has_service(&c, "debug") && has_service(&c, "helper") && !has_service(&c, "other"));
  char *env[] = {"COMPOSE_PROFILES=x,debug,tools", NULL};
  _cleanup_run_ struct run d = load((struct compose_load_opts){.working_dir = dir, .environ = env});
  CHECK_OK(d);
  CHECK(has_service(&d, "other") && has_service(&d, "debug") && has_service(&d, "helper"));
  char *nosuch[] = {"nosuch", NULL};
  _cleanup_run_ struct run e = load((struct compose_load_opts){.working_dir = dir, .services = nosuch});
  CHECK_ERR(e, "no such service: nosuch");
}

static void test_include(void) {
  put("inc/compose.yaml", "include:\n  - sub/compose.yaml\nservices:\n  web:\n    image: w\n"
                          "    depends_on: [db]\n");
  put("inc/sub/compose.yaml", "services:\n  db:\n    image: \"db:${DBTAG}\"\n"
                              "    env_file: [db.env]\n");
  put("inc/sub/.env", "DBTAG=15\n");
  put("inc/sub/db.env", "X=1\n");
  _cleanup_free_ char *dir = at("inc");
  _cleanup_run_ struct run a = load((struct compose_load_opts){.working_dir = dir});
  CHECK_OK(a);
  CHECK_STREQ(svc_str(&a, "db", "image"), "db:15");

  put("inc2/compose.yaml", "include: [sub.yaml]\nservices:\n  db:\n    image: other\n");
  put("inc2/sub.yaml", "services:\n  db:\n    image: db\n");
  _cleanup_free_ char *dir2 = at("inc2");
  _cleanup_run_ struct run b = load((struct compose_load_opts){.working_dir = dir2});
  CHECK_ERR(b, "conflicts with the one imported from");

  put("cyc/compose.yaml", "include: [a.yaml]\nservices:\n  x:\n    image: x\n");
  put("cyc/a.yaml", "include: [b.yaml]\nservices:\n  y:\n    image: y\n");
  put("cyc/b.yaml", "include: [a.yaml]\nservices:\n  z:\n    image: z\n");
  _cleanup_free_ char *dir3 = at("cyc");
  _cleanup_run_ struct run c = load((struct compose_load_opts){.working_dir = dir3});
  CHECK_ERR(c, "include cycle");
}

static void test_extends(void) {
  put("ext/compose.yaml", "services:\n"
                          "  base:\n    image: b\n    environment: {A: 1, B: 2}\n"
                          "  web:\n    extends: base\n    environment: {B: 3}\n"
                          "  far:\n    extends: {file: lib/common.yaml, service: tmpl}\n"
                          "    command: [run]\n");
  put("ext/lib/common.yaml", "services:\n  root:\n    image: r\n    user: u\n"
                             "  tmpl:\n    extends: root\n    build: ./ctx\n");
  _cleanup_free_ char *dir = at("ext");
  _cleanup_run_ struct run a = load((struct compose_load_opts){.working_dir = dir});
  CHECK_OK(a);
  if (a.tree) {
    struct cnode *web = cnode_map_get(cnode_map_get(a.tree, "services"), "web");
    CHECK_STREQ(cnode_map_get_str(web, "image"), "b");
    CHECK_STREQ(cnode_map_get_str(cnode_map_get(web, "environment"), "A"), "1");
    CHECK_STREQ(cnode_map_get_str(cnode_map_get(web, "environment"), "B"), "3");
    CHECK(cnode_map_get(web, "extends") == NULL);
    struct cnode *far = cnode_map_get(cnode_map_get(a.tree, "services"), "far");
    CHECK_STREQ(cnode_map_get_str(far, "user"), "u");
    _cleanup_free_ char *ctx = at("ext/lib/ctx");
    CHECK_STREQ(cnode_map_get_str(cnode_map_get(far, "build"), "context"), ctx);
  }
  put("ext2/compose.yaml", "services:\n  a:\n    image: x\n    extends: b\n"
                           "  b:\n    image: y\n    extends: c\n  c:\n    image: z\n    extends: a\n");
  _cleanup_free_ char *dir2 = at("ext2");
  _cleanup_run_ struct run b = load((struct compose_load_opts){.working_dir = dir2});
  CHECK_ERR(b, "circular reference with extends: a -> b -> c -> a");
  put("ext3/compose.yaml", "services:\n  a:\n    image: x\n    extends: nope\n");
  _cleanup_free_ char *dir3 = at("ext3");
  _cleanup_run_ struct run c = load((struct compose_load_opts){.working_dir = dir3});
  CHECK_ERR(c, "service \"a\" extends \"nope\", which is not defined");
}

/* -f - reads standard input; the project directory is the working one. */
static void test_stdin(void) {
  int fds[2];
  if (pipe(fds) < 0)
    abort();
  const char *y = "services:\n  s:\n    image: from-stdin\n    env_file: [vars.env]\n";
  if (write(fds[1], y, strlen(y)) != (ssize_t)strlen(y))
    abort();
  close(fds[1]);
  int saved = dup(0);
  dup2(fds[0], 0);
  close(fds[0]);
  put("stdin/vars.env", "V=1\n");
  _cleanup_free_ char *dir = at("stdin");
  char *files[] = {"-", NULL};
  _cleanup_run_ struct run a = load((struct compose_load_opts){.working_dir = dir, .files = files});
  dup2(saved, 0);
  close(saved);
  CHECK_OK(a);
  CHECK_STREQ(svc_str(&a, "s", "image"), "from-stdin");
  CHECK_STREQ(cnode_map_get_str(a.tree, "name"), "stdin");
  struct cnode *env = cnode_map_get(cnode_map_get(cnode_map_get(a.tree, "services"), "s"),
                                    "environment");
  CHECK_STREQ(cnode_map_get_str(env, "V"), "1");
}

static void test_errors_name_position(void) {
  put("err/compose.yaml", "services:\n  a:\n    image: ${NEED:?set NEED first}\n");
  _cleanup_free_ char *dir = at("err");
  _cleanup_run_ struct run a = load((struct compose_load_opts){.working_dir = dir});
  CHECK_ERR(a, "compose.yaml:3:12: error while interpolating services.a.image: required variable "
               "NEED is missing a value: set NEED first");
}

int main(void) {
  if (mkdtemp(tmp) == NULL)
    return 1;
  atexit(cleanup);
  test_discovery_and_names();
  test_env_precedence();
  test_profiles();
  test_include();
  test_extends();
  test_errors_name_position();
  test_stdin();
  TEST_DONE();
}
