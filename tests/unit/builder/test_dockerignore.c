/* .dockerignore matching against moby/patternmatcher's own test tables
 * (TestMatches with MatchesOrParentMatches, its multi-pattern cases, and the
 * filepath.Match cases of TestMatch), then the file format (comments, BOM,
 * `!` with spaces, a leading `/`) and errors naming the line. */
#include <stdio.h>
#include <string.h>

#include "builder/dockerignore.h"
#include "runtime/util/cleanup.h"
#include "test.h"

static int one(const char *pattern, const char *path) {
  char *pats[] = {(char *)pattern, NULL};
  struct dockerignore *di = NULL;
  if (dockerignore_new(pats, &di, NULL) < 0)
    return -1;
  int r = dockerignore_excludes(di, path);
  dockerignore_free(di);
  return r;
}

static void matches_table(void) {
  struct {
    const char *pattern, *text;
    bool pass;
  } t[] = {
      {"**", "file", 1}, {"**", "file/", 1}, {"**/", "file", 1}, {"**/", "file/", 1}, {"**", "/", 1},
      {"**/", "/", 1}, {"**", "dir/file", 1}, {"**/", "dir/file", 1}, {"**", "dir/file/", 1},
      {"**/", "dir/file/", 1}, {"**/**", "dir/file", 1}, {"**/**", "dir/file/", 1},
      {"dir/**", "dir/file", 1}, {"dir/**", "dir/file/", 1}, {"dir/**", "dir/dir2/file", 1},
      {"dir/**", "dir/dir2/file/", 1}, {"**/dir", "dir", 1}, {"**/dir", "dir/file", 1},
      {"**/dir2/*", "dir/dir2/file", 1}, {"**/dir2/*", "dir/dir2/file/", 1},
      {"**/dir2/**", "dir/dir2/dir3/file", 1}, {"**/dir2/**", "dir/dir2/dir3/file/", 1},
      {"**file", "file", 1}, {"**file", "dir/file", 1}, {"**/file", "dir/file", 1},
      {"**file", "dir/dir/file", 1}, {"**/file", "dir/dir/file", 1}, {"**/file*", "dir/dir/file", 1},
      {"**/file*", "dir/dir/file.txt", 1}, {"**/file*txt", "dir/dir/file.txt", 1},
      {"**/file*.txt", "dir/dir/file.txt", 1}, {"**/file*.txt*", "dir/dir/file.txt", 1},
      {"**/**/*.txt", "dir/dir/file.txt", 1}, {"**/**/*.txt2", "dir/dir/file.txt", 0},
      {"**/*.txt", "file.txt", 1}, {"**/**/*.txt", "file.txt", 1}, {"a**/*.txt", "a/file.txt", 1},
      {"a**/*.txt", "a/dir/file.txt", 1}, {"a**/*.txt", "a/dir/dir/file.txt", 1},
      {"a/*.txt", "a/dir/file.txt", 0}, {"a/*.txt", "a/file.txt", 1}, {"a/*.txt**", "a/file.txt", 1},
      {"a[b-d]e", "ae", 0}, {"a[b-d]e", "ace", 1}, {"a[b-d]e", "aae", 0}, {"a[^b-d]e", "aze", 1},
      {".*", ".foo", 1}, {".*", "foo", 0}, {"abc.def", "abcdef", 0}, {"abc.def", "abc.def", 1},
      {"abc.def", "abcZdef", 0}, {"abc?def", "abcZdef", 1}, {"abc?def", "abcdef", 0},
      {"**/foo/bar", "foo/bar", 1}, {"**/foo/bar", "dir/foo/bar", 1}, {"**/foo/bar", "dir/dir2/foo/bar", 1},
      {"abc/**", "abc", 0}, {"abc/**", "abc/def", 1}, {"abc/**", "abc/def/ghi", 1}, {"**/.foo", ".foo", 1},
      {"**/.foo", "bar.foo", 0}, {"a(b)c/def", "a(b)c/def", 1}, {"a(b)c/def", "a(b)c/xyz", 0},
      {"a.|)$(}+{bc", "a.|)$(}+{bc", 1},
      {"dist/proxy.py-2.4.0rc3.dev36+g08acad9-py3-none-any.whl", "dist/proxy.py-2.4.0rc3.dev36+g08acad9-py3-none-any.whl", 1},
      {"dist/*.whl", "dist/proxy.py-2.4.0rc3.dev36+g08acad9-py3-none-any.whl", 1},
      {"a\\\\", "a\\", 1}, {"a\\*b", "a*b", 1},
      /* filepath.Match's table (TestMatch) */
      {"abc", "abc", 1}, {"*", "abc", 1}, {"*c", "abc", 1}, {"a*", "a", 1}, {"a*", "abc", 1},
      {"a*", "ab/c", 1}, {"a*/b", "abc/b", 1}, {"a*/b", "a/c/b", 0}, {"a*b*c*d*e*/f", "axbxcxdxe/f", 1},
      {"a*b*c*d*e*/f", "axbxcxdxexxx/f", 1}, {"a*b*c*d*e*/f", "axbxcxdxe/xxx/f", 0},
      {"a*b*c*d*e*/f", "axbxcxdxexxx/fff", 0}, {"a*b?c*x", "abxbbxdbxebxczzx", 1},
      {"a*b?c*x", "abxbbxdbxebxczzy", 0}, {"ab[c]", "abc", 1}, {"ab[b-d]", "abc", 1}, {"ab[e-g]", "abc", 0},
      {"ab[^c]", "abc", 0}, {"ab[^b-d]", "abc", 0}, {"ab[^e-g]", "abc", 1}, {"a\\*b", "ab", 0},
      {"a?b", "a☺b", 1}, {"a[^a]b", "a☺b", 1}, {"a???b", "a☺b", 0}, {"a[^a][^a][^a]b", "a☺b", 0},
      {"[a-ζ]*", "α", 1}, {"*[a-ζ]", "A", 0}, {"a?b", "a/b", 0}, {"a*b", "a/b", 0}, {"[\\]a]", "]", 1},
      {"[\\-]", "-", 1}, {"[x\\-]", "x", 1}, {"[x\\-]", "-", 1}, {"[x\\-]", "z", 0}, {"[\\-x]", "x", 1},
      {"[\\-x]", "-", 1}, {"[\\-x]", "a", 0}, {"*x", "xxx", 1},
      /* Docker's documented examples */
      {"*/temp*", "somedir/temporary.txt", 1}, {"*/temp*", "temp", 0}, {"*/*/temp*", "a/b/temp.x", 1},
      {"temp?", "temp1", 1}, {"*.md", "docs/README.md", 0},
      {"a/../b", "b", 1}, {"node_modules", "node_modules/x/y.js", 1},
  };
  for (size_t i = 0; i < sizeof(t) / sizeof(t[0]); i++)
    CHECK_MSG(one(t[i].pattern, t[i].text) == t[i].pass, "pattern %s, path %s: expected %d", t[i].pattern,
              t[i].text, t[i].pass);
  CHECK(one("*.go", ".") == 0);

  const char *bad[] = {"[]a]", "[-]", "[x-]", "[-x]", "\\", "[a-b-c]", "[", "[^", "[^bc", "a[", "!"};
  for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
    char *pats[] = {(char *)bad[i], NULL};
    struct dockerignore *di = NULL;
    _cleanup_error_ struct stack_error *err = NULL;
    CHECK_MSG(dockerignore_new(pats, &di, &err) < 0, "%s accepted", bad[i]);
    dockerignore_free(di);
  }
}

static void multi(void) {
  struct {
    const char *pats[4];
    const char *text;
    bool pass;
  } t[] = {
      {{"**", "!util/docker/web"}, "util/docker/web/foo", 0},
      {{"**", "!util/docker/web", "util/docker/web/foo"}, "util/docker/web/foo", 1},
      {{"**", "!dist/*.whl"}, "dist/proxy.py-2.4.0rc3.dev36+g08acad9-py3-none-any.whl", 0},
      {{"!fileutils.go", "*.go"}, "fileutils.go", 1},
      {{"docs", "!docs/README.md"}, "docs/README.md", 0},
      {{"docs/", "!docs/README.md"}, "docs/README.md", 0},
      {{"docs/*", "!docs/README.md"}, "docs/README.md", 0},
      {{"docs/*", "!docs/README.md"}, "docs/other.md", 1},
      {{"*.go", "!fileutils.go"}, "fileutils.go", 0},
  };
  for (size_t i = 0; i < sizeof(t) / sizeof(t[0]); i++) {
    struct dockerignore *di = NULL;
    CHECK(dockerignore_new((char **)t[i].pats, &di, NULL) == 0);
    if (di) {
      CHECK_MSG(dockerignore_excludes(di, t[i].text) == t[i].pass, "case %zu: %s", i, t[i].text);
      dockerignore_free(di);
    }
  }
}

static void file_format(void) {
  const char *text = "\xEF\xBB\xBF# a comment\n"
                     "\n"
                     "  *.log  \n"
                     "/build\n"
                     "! important.log\n"
                     "**/__pycache__\n"
                     "# !ignored.log\n"
                     ".git\n";
  _cleanup_(dockerignore_freep) struct dockerignore *di = NULL;
  _cleanup_error_ struct stack_error *err = NULL;
  CHECK(dockerignore_parse(".dockerignore", text, strlen(text), &di, &err) == 0);
  if (!di)
    return;
  char *const *p = dockerignore_patterns(di);
  CHECK(p[0] && strcmp(p[0], "*.log") == 0);
  CHECK(p[1] && strcmp(p[1], "build") == 0);
  CHECK(p[2] && strcmp(p[2], "!important.log") == 0);
  CHECK(p[3] && p[4] && !p[5]);
  CHECK(dockerignore_has_exceptions(di));
  CHECK(dockerignore_excludes(di, "x.log"));
  CHECK(!dockerignore_excludes(di, "important.log"));
  CHECK(!dockerignore_excludes(di, "sub/x.log"));
  CHECK(dockerignore_excludes(di, "build/out/a.o"));
  CHECK(dockerignore_excludes(di, "./build"));
  CHECK(dockerignore_excludes(di, "src/pkg/__pycache__/m.pyc"));
  CHECK(dockerignore_excludes(di, ".git/HEAD"));
  CHECK(!dockerignore_excludes(di, "src/main.c"));
  CHECK(!dockerignore_excludes(di, "Dockerfile"));

  struct dockerignore *bad = NULL;
  const char *t2 = "ok\n# fine\nsrc/[a-\n";
  CHECK(dockerignore_parse(".dockerignore", t2, strlen(t2), &bad, &err) < 0);
  CHECK_MSG(err && strstr(err->msg, ".dockerignore:3: syntax error in pattern \"src/[a-\""), "%s",
            err ? err->msg : "");
  dockerignore_free(bad);
}

int main(void) {
  matches_table();
  multi();
  file_format();
  TEST_DONE();
}
