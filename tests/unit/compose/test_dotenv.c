#include <cjson/cJSON.h>
#include <stdlib.h>
#include <string.h>

#include "orchestrator/compose/compose_dotenv.h"
#include "runtime/util/cleanup.h"
#include "runtime/util/error.h"
#include "runtime/util/fsutil.h"
#include "runtime/util/xalloc.h"
#include "test.h"

/* compose-go's godotenv tests: the expected values are the process
 * environment after Load(), which never overrides variables already set. */
static void test_conformance(const char *dir) {
  _cleanup_free_ char *path = xasprintf("%s/compose-go/dotenv_expected.json", dir);
  _cleanup_free_ char *text = NULL;
  _cleanup_error_ struct stack_error *err = NULL;
  CHECK_MSG(fs_read_file(path, 0, &text, NULL, &err) == 0, "%s", err ? err->msg : "");
  if (text == NULL)
    return;
  cJSON *doc = cJSON_Parse(text);
  int n = 0, passed = 0;
  cJSON *c;
  cJSON_ArrayForEach(c, cJSON_GetObjectItem(doc, "cases")) {
    const char *file = cJSON_GetObjectItem(c, "file")->valuestring;
    _cleanup_compose_env_ struct compose_env os = COMPOSE_ENV_INIT;
    _cleanup_compose_env_ struct compose_env parsed = COMPOSE_ENV_INIT;
    cJSON *e;
    cJSON_ArrayForEach(e, cJSON_GetObjectItem(c, "os_env_presets")) compose_env_set(
        &os, e->string, e->valuestring);
    _cleanup_free_ char *fpath = xasprintf("%s/compose-go/%s", dir, file);
    _cleanup_error_ struct stack_error *perr = NULL;
    int r = compose_dotenv_read_file(fpath, compose_env_lookup, &os, &parsed, &perr);
    CHECK_MSG(r == 0, "%s: %s", file, perr ? perr->msg : "");
    for (size_t i = 0; i < parsed.n; i++)
      compose_env_set_default(&os, parsed.names[i], parsed.values[i]);
    bool ok = r == 0;
    cJSON_ArrayForEach(e, cJSON_GetObjectItem(c, "expected")) {
      const char *got = compose_env_get(&os, e->string);
      bool same = got && strcmp(got, e->valuestring) == 0;
      CHECK_MSG(same, "%s %s: got '%s', expected '%s'",
                cJSON_GetObjectItem(c, "func")->valuestring, e->string, got ? got : "(unset)",
                e->valuestring);
      ok = ok && same;
    }
    n++;
    passed += ok;
  }
  printf("dotenv conformance: %d/%d\n", passed, n);
  CHECK_INTEQ(n, 9);
  CHECK_INTEQ(passed, 9);
  cJSON_Delete(doc);
}

static void test_fixtures(const char *dir) {
  _cleanup_compose_env_ struct compose_env os = COMPOSE_ENV_INIT;
  compose_env_set(&os, "VAR_TO_BE_LOADED_FROM_OS_ENV", "from-os");
  _cleanup_compose_env_ struct compose_env out = COMPOSE_ENV_INIT;
  _cleanup_error_ struct stack_error *err = NULL;
  _cleanup_free_ char *multi = xasprintf("%s/compose-go/dotenv/fixtures/inherited-multi-var.env", dir);
  CHECK(compose_dotenv_read_file(multi, compose_env_lookup, &os, &out, &err) == 0);
  CHECK_STREQ(compose_env_get(&out, "foo"), "bar");
  CHECK_STREQ(compose_env_get(&out, "VAR_TO_BE_LOADED_FROM_OS_ENV"), "from-os");
  CHECK_STREQ(compose_env_get(&out, "bar"), "baz");
  _cleanup_compose_env_ struct compose_env nf = COMPOSE_ENV_INIT;
  _cleanup_free_ char *notfound = xasprintf("%s/compose-go/dotenv/fixtures/inherited-not-found.env", dir);
  CHECK(compose_dotenv_read_file(notfound, compose_env_lookup, &os, &nf, &err) == 0);
  CHECK(nf.n == 0);
  _cleanup_compose_env_ struct compose_env inv = COMPOSE_ENV_INIT;
  _cleanup_free_ char *invalid = xasprintf("%s/compose-go/dotenv/fixtures/invalid1.env", dir);
  CHECK(compose_dotenv_read_file(invalid, NULL, NULL, &inv, &err) < 0);
  CHECK(err && strstr(err->msg, "invalid1.env:7: key \"INVALID LINE\" cannot contain a space"));
  _cleanup_compose_env_ struct compose_env def = COMPOSE_ENV_INIT;
  _cleanup_free_ char *sd = xasprintf("%s/compose-go/dotenv/fixtures/substitutions-default.env", dir);
  CHECK(compose_dotenv_read_file(sd, NULL, NULL, &def, &err) == 0);
  CHECK_STREQ(compose_env_get(&def, "OPTION_D"), "1_1");
}

static void parse_ok(const char *s, const char *key, const char *want) {
  _cleanup_compose_env_ struct compose_env out = COMPOSE_ENV_INIT;
  _cleanup_error_ struct stack_error *err = NULL;
  int r = compose_dotenv_parse(s, strlen(s), "t.env", NULL, NULL, &out, &err);
  CHECK_MSG(r == 0, "%s", err ? err->msg : "");
  const char *got = compose_env_get(&out, key);
  CHECK_MSG(got && strcmp(got, want) == 0, "%s: got '%s' want '%s'", s, got ? got : "(unset)", want);
}

static void test_syntax(void) {
  parse_ok("A=\"a\\tb\\$c \\0101\"\n", "A", "a\tb$c A");
  parse_ok("A=x#y\n", "A", "x#y");
  parse_ok("A: yaml\n", "A", "yaml");
  parse_ok("export   A=1", "A", "1");
  parse_ok("exportA=1", "exportA", "1");
  parse_ok("A='$HOME'\n", "A", "$HOME");
  parse_ok("A=1\nB=\"${A}-\\\"q\\\"\"\n", "B", "1-\"q\"");
  parse_ok("A=\"multi\nline\"", "A", "multi\nline");
  _cleanup_compose_env_ struct compose_env out = COMPOSE_ENV_INIT;
  _cleanup_error_ struct stack_error *err = NULL;
  const char *bad = "A=1\nB=\"open\n";
  CHECK(compose_dotenv_parse(bad, strlen(bad), "t.env", NULL, NULL, &out, &err) < 0);
  CHECK(err && strstr(err->msg, "t.env:2: unterminated quoted value"));
  const char *bad2 = "A=1\nB$=2\n";
  CHECK(compose_dotenv_parse(bad2, strlen(bad2), "t.env", NULL, NULL, &out, &err) < 0);
  CHECK(err && strstr(err->msg, "t.env:2: unexpected character '$'"));
}

int main(void) {
  test_syntax();
  const char *dir = getenv("STACK_CONFORMANCE_DIR");
  if (dir == NULL)
    TEST_SKIP("STACK_CONFORMANCE_DIR is not set (run through ctest)");
  test_fixtures(dir);
  test_conformance(dir);
  TEST_DONE();
}
