/* Docker's credential helper protocol (cred_helper.h) and its use for
 * registry credentials (credentials.h): a real helper program, written
 * here into a directory put first in PATH, keeps credentials in a file;
 * credsStore and credHelpers in $DOCKER_CONFIG/config.json choose it; a
 * helper that is not installed, misbehaves or gives an identity token is a
 * clear error. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "runtime/image/cred_helper.h"
#include "runtime/image/credentials.h"
#include "runtime/util/error.h"
#include "runtime/util/fsutil.h"
#include "test.h"

static char dir[] = "/tmp/stack-cred-helper.XXXXXX";

static void write_file(const char *name, const char *text, mode_t mode) {
  char path[512];
  snprintf(path, sizeof(path), "%s/%s", dir, name);
  FILE *f = fopen(path, "w");
  fputs(text, f);
  fclose(f);
  chmod(path, mode);
}

/* A helper as docker-credential-helpers' are: a JSON file per store. */
static const char helper[] =
    "#!/usr/bin/env python3\n"
    "import json, os, sys\n"
    "store = os.path.join(os.path.dirname(os.path.abspath(__file__)), 'store.json')\n"
    "db = json.load(open(store)) if os.path.exists(store) else {}\n"
    "data = sys.stdin.read()\n"
    "open(store + '.log', 'a').write(sys.argv[1] + ' ' + (data if sys.argv[1] != 'store' else "
    "json.loads(data)['ServerURL']) + '\\n')\n"
    "if sys.argv[1] == 'get':\n"
    "    if data not in db:\n"
    "        print('credentials not found in native keychain'); sys.exit(1)\n"
    "    print(json.dumps({'ServerURL': data, 'Username': db[data][0], 'Secret': db[data][1]}))\n"
    "elif sys.argv[1] == 'store':\n"
    "    c = json.loads(data); db[c['ServerURL']] = [c['Username'], c['Secret']]\n"
    "    json.dump(db, open(store, 'w'))\n"
    "elif sys.argv[1] == 'erase':\n"
    "    if data not in db:\n"
    "        print('credentials not found in native keychain'); sys.exit(1)\n"
    "    del db[data]; json.dump(db, open(store, 'w'))\n";

static void parse(void) {
  char *u, *s;
  struct stack_error *err = NULL;
  const char *ok = "{\"ServerURL\":\"r\",\"Username\":\"me\",\"Secret\":\"pw\"}";
  CHECK(cred_helper_parse_get(ok, strlen(ok), &u, &s, NULL) == 0);
  CHECK_STREQ(u, "me");
  CHECK_STREQ(s, "pw");
  free(u), free(s);
  static const char *const bad[] = {"", "[]", "{\"Username\":\"me\"}",
                                    "{\"Username\":1,\"Secret\":\"x\"}",
                                    "{\"Username\":\"me\",\"Secret\":\"\"}", "not json"};
  for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
    CHECK(cred_helper_parse_get(bad[i], strlen(bad[i]), &u, &s, &err) == -EPROTO);
    CHECK(u == NULL && s == NULL);
  }
  const char *tok = "{\"Username\":\"<token>\",\"Secret\":\"refresh\"}";
  CHECK(cred_helper_parse_get(tok, strlen(tok), &u, &s, &err) == -ENOTSUP);
  CHECK(err && strstr(err->msg, "identity token"));
  stack_error_free(err);

  CHECK(cred_helper_name_ok("desktop"));
  CHECK(cred_helper_name_ok("ecr-login"));
  CHECK(!cred_helper_name_ok("../x"));
  CHECK(!cred_helper_name_ok("a/b"));
  CHECK(!cred_helper_name_ok(""));
  CHECK(!cred_helper_name_ok(".x"));
  char *url = cred_helper_server_url("docker.io");
  CHECK_STREQ(url, "https://index.docker.io/v1/");
  free(url);
  url = cred_helper_server_url("reg.example:5000");
  CHECK_STREQ(url, "reg.example:5000");
  free(url);
}

static void config(const char *json) { write_file("docker/config.json", json, 0600); }

static void helpers(void) {
  char *u = NULL, *p = NULL;
  struct stack_error *err = NULL;
  config("{\"credsStore\":\"test\",\"auths\":{\"reg.example:5000\":{}}}");
  /* nothing stored yet: no credentials, no error */
  CHECK(credentials_lookup("reg.example:5000", &u, &p, &err) == 0);
  CHECK(u == NULL && p == NULL);
  /* login stores through the helper, not in stack's auth.json */
  CHECK(credentials_store("reg.example:5000", "me", "s3cret", NULL) == 0);
  char own[512];
  snprintf(own, sizeof(own), "%s/etc/auth.json", dir);
  CHECK(!fs_exists(own));
  char *h = NULL;
  CHECK(credentials_helper("reg.example:5000", &h, NULL) == 0);
  CHECK_STREQ(h, "test");
  free(h);
  CHECK(credentials_lookup("reg.example:5000", &u, &p, NULL) == 0);
  CHECK_STREQ(u, "me");
  CHECK_STREQ(p, "s3cret");
  free(u), free(p);
  /* Docker Hub is known to helpers by its index URL */
  CHECK(credentials_store("docker.io", "hubuser", "hubpw", NULL) == 0);
  CHECK(cred_helper_get("test", "https://index.docker.io/v1/", &u, &p, NULL) == 1);
  CHECK_STREQ(u, "hubuser");
  free(u), free(p);
  /* logout erases it; a second logout says so */
  CHECK(credentials_erase("reg.example:5000", NULL) == 0);
  CHECK(credentials_lookup("reg.example:5000", &u, &p, NULL) == 0 && u == NULL);
  CHECK(credentials_erase("reg.example:5000", &err) == -ENOENT);
  CHECK(err && strstr(err->msg, "not logged in to reg.example:5000"));

  /* credHelpers for one registry: the others use the file's auths */
  CHECK(credentials_store("docker.io", "hubuser", "hubpw", NULL) == 0);
  CHECK(cred_helper_store("test", "reg.example:5000", "me2", "pw2", NULL) == 0);
  config("{\"credHelpers\":{\"reg.example:5000\":\"test\"},"
         "\"auths\":{\"other.example\":{\"auth\":\"dTpw\"}}}");
  CHECK(credentials_lookup("reg.example:5000", &u, &p, NULL) == 0);
  CHECK_STREQ(u, "me2");
  free(u), free(p);
  CHECK(credentials_lookup("other.example", &u, &p, NULL) == 0);
  CHECK_STREQ(u, "u");
  free(u), free(p);
  CHECK(credentials_lookup("docker.io", &u, &p, NULL) == 0 && u == NULL);

  /* a helper that is not installed: its name, the file, the key, what to do */
  config("{\"credsStore\":\"absent\"}");
  CHECK(credentials_lookup("reg.example:5000", &u, &p, &err) == -ENOENT);
  CHECK_MSG(err && strstr(err->msg, "docker-credential-absent is not installed") &&
                strstr(err->msg, "docker/config.json names it in \"credsStore\"") &&
                strstr(err->msg, "install the credential helper"),
            "%s", err ? err->msg : "no error");
  CHECK(credentials_store("reg.example:5000", "me", "pw", &err) == -ENOENT);
  CHECK(err && strstr(err->msg, "docker-credential-absent"));
  config("{\"credHelpers\":{\"reg.example:5000\":\"../../bin/sh\"}}");
  CHECK(credentials_lookup("reg.example:5000", &u, &p, &err) == -EINVAL);
  CHECK(err && strstr(err->msg, "credHelpers.reg.example:5000: not the name of a credential helper"));

  /* helpers that misbehave */
  write_file("bin/docker-credential-broken", "#!/bin/sh\necho 'keychain locked' >&2\nexit 3\n",
             0755);
  config("{\"credsStore\":\"broken\"}");
  CHECK(credentials_lookup("reg.example:5000", &u, &p, &err) == -EIO);
  CHECK_MSG(err && strstr(err->msg, "docker-credential-broken get reg.example:5000 failed: "
                                    "keychain locked (exit status 3)"),
            "%s", err ? err->msg : "no error");
  write_file("bin/docker-credential-garbage", "#!/bin/sh\necho '{\"Username\":'\n", 0755);
  config("{\"credsStore\":\"garbage\"}");
  CHECK(credentials_lookup("reg.example:5000", &u, &p, &err) == -EPROTO);
  CHECK(err && strstr(err->msg, "not a JSON object"));
  /* a helper that does not read its input and floods its output */
  write_file("bin/docker-credential-flood", "#!/bin/sh\nexec yes\n", 0755);
  config("{\"credsStore\":\"flood\"}");
  CHECK(credentials_lookup("reg.example:5000", &u, &p, &err) == -EPROTO);
  CHECK(err && strstr(err->msg, "printed more than"));
  stack_error_free(err);
}

int main(void) {
  if (mkdtemp(dir) == NULL)
    return 1;
  char path[1024], sub[512];
  snprintf(sub, sizeof(sub), "%s/bin", dir);
  fs_mkdir_p(sub, 0700, NULL);
  snprintf(sub, sizeof(sub), "%s/docker", dir);
  fs_mkdir_p(sub, 0700, NULL);
  setenv("DOCKER_CONFIG", sub, 1);
  snprintf(sub, sizeof(sub), "%s/etc/config.json", dir);
  setenv("STACK_CONFIG", sub, 1);
  snprintf(sub, sizeof(sub), "%s/home", dir);
  setenv("HOME", sub, 1);
  snprintf(path, sizeof(path), "%s/bin:%s", dir, getenv("PATH") ? getenv("PATH") : "/usr/bin:/bin");
  setenv("PATH", path, 1);
  write_file("bin/docker-credential-test", helper, 0755);

  parse();
  helpers();

  char cmd[600];
  snprintf(cmd, sizeof(cmd), "rm -rf '%s'", dir);
  if (system(cmd) != 0)
    return 1;
  TEST_DONE();
}
