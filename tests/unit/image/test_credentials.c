#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "runtime/image/credentials.h"
#include "runtime/util/error.h"
#include "runtime/util/fsutil.h"
#include "test.h"

static void write_file(const char *path, const char *text) {
  FILE *f = fopen(path, "w");
  fputs(text, f);
  fclose(f);
}

int main(void) {
  char dir[] = "/tmp/stack-cred-test.XXXXXX";
  if (mkdtemp(dir) == NULL)
    return 1;
  char cfg[256], home[256], docker[300], own[400];
  snprintf(cfg, sizeof(cfg), "%s/etc/config.json", dir);
  snprintf(home, sizeof(home), "%s/home", dir);
  snprintf(docker, sizeof(docker), "%s/home/.docker", dir);
  setenv("STACK_CONFIG", cfg, 1);
  setenv("HOME", home, 1);
  unsetenv("DOCKER_CONFIG");
  fs_mkdir_p(docker, 0700, NULL);

  char *u = NULL, *p = NULL;
  CHECK(credentials_lookup("reg.example:5000", &u, &p, NULL) == 0);
  CHECK(u == NULL && p == NULL);

  /* Docker's file: "auth" and username/password forms, URL keys. */
  snprintf(own, sizeof(own), "%s/config.json", docker);
  write_file(own, "{\"auths\":{\"https://index.docker.io/v1/\":{\"auth\":\"aHViOnNlY3JldA==\"},"
                  "\"reg.example:5000\":{\"username\":\"u2\",\"password\":\"p2\"}}}");
  CHECK(credentials_lookup("docker.io", &u, &p, NULL) == 0);
  CHECK_STREQ(u, "hub");
  CHECK_STREQ(p, "secret");
  free(u);
  free(p);
  CHECK(credentials_lookup("reg.example:5000", &u, &p, NULL) == 0);
  CHECK_STREQ(u, "u2");
  CHECK_STREQ(p, "p2");
  free(u);
  free(p);

  /* stack's own store wins, and is private. */
  CHECK(credentials_store("reg.example:5000", "me", "pa:ss", NULL) == 0);
  char *path = credentials_path();
  struct stat st;
  CHECK(stat(path, &st) == 0 && (st.st_mode & 0777) == 0600);
  CHECK(credentials_lookup("reg.example:5000", &u, &p, NULL) == 0);
  CHECK_STREQ(u, "me");
  CHECK_STREQ(p, "pa:ss");
  free(u);
  free(p);
  CHECK(credentials_erase("reg.example:5000", NULL) == 0);
  CHECK(credentials_erase("reg.example:5000", NULL) == -ENOENT);
  CHECK(credentials_lookup("reg.example:5000", &u, &p, NULL) == 0);
  CHECK_STREQ(u, "u2");
  free(u);
  free(p);

  /* A broken file is an error naming it. */
  write_file(own, "{\"auths\":{\"bad\":{\"auth\":\"!!!!\"}}}");
  struct stack_error *err = NULL;
  CHECK(credentials_lookup("bad", &u, &p, &err) == -EINVAL);
  CHECK(err && strstr(err->msg, own));
  stack_error_free(err);
  err = NULL;
  write_file(path, "not json");
  CHECK(credentials_lookup("x", &u, &p, &err) == -EINVAL);
  CHECK(err && strstr(err->msg, "not a JSON object"));
  stack_error_free(err);
  free(path);
  fs_rm_rf(dir, NULL);
  TEST_DONE();
}
