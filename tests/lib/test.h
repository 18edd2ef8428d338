/* Minimal assertions for unit and integration tests: a failed CHECK prints
 * where and what, and the test exits non-zero at the end (TEST_DONE). */
#ifndef STACK_TEST_H
#define STACK_TEST_H

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static int test_failures;
static int test_checks;

#define CHECK(cond)                                                                                \
  do {                                                                                             \
    test_checks++;                                                                                 \
    if (!(cond)) {                                                                                 \
      test_failures++;                                                                             \
      fprintf(stderr, "%s:%d: CHECK failed: %s\n", __FILE__, __LINE__, #cond);                     \
    }                                                                                              \
  } while (0)

#define CHECK_MSG(cond, ...)                                                                       \
  do {                                                                                             \
    test_checks++;                                                                                 \
    if (!(cond)) {                                                                                 \
      test_failures++;                                                                             \
      fprintf(stderr, "%s:%d: CHECK failed: %s: ", __FILE__, __LINE__, #cond);                     \
      fprintf(stderr, __VA_ARGS__);                                                                \
      fputc('\n', stderr);                                                                         \
    }                                                                                              \
  } while (0)

#define CHECK_STREQ(a, b)                                                                          \
  do {                                                                                             \
    const char *_a = (a), *_b = (b);                                                               \
    test_checks++;                                                                                 \
    if (_a == NULL || _b == NULL || strcmp(_a, _b) != 0) {                                         \
      test_failures++;                                                                             \
      fprintf(stderr, "%s:%d: CHECK_STREQ failed: %s == %s\n  got:      \"%s\"\n  expected: \"%s\"\n", \
              __FILE__, __LINE__, #a, #b, _a ? _a : "(null)", _b ? _b : "(null)");                 \
    }                                                                                              \
  } while (0)

#define CHECK_INTEQ(a, b)                                                                          \
  do {                                                                                             \
    long long _a = (long long)(a), _b = (long long)(b);                                            \
    test_checks++;                                                                                 \
    if (_a != _b) {                                                                                \
      test_failures++;                                                                             \
      fprintf(stderr, "%s:%d: CHECK_INTEQ failed: %s == %s (%lld != %lld)\n", __FILE__, __LINE__, \
              #a, #b, _a, _b);                                                                     \
    }                                                                                              \
  } while (0)

/* Skips the whole test (ctest shows it as skipped with SKIP_RETURN_CODE 77
 * where set, else as passed with the message). */
#define TEST_SKIP(...)                                                                             \
  do {                                                                                             \
    printf("SKIP: ");                                                                              \
    printf(__VA_ARGS__);                                                                           \
    printf("\n");                                                                                  \
    exit(77);                                                                                      \
  } while (0)

#define TEST_DONE()                                                                                \
  do {                                                                                             \
    printf("%d checks, %d failed\n", test_checks, test_failures);                                  \
    return test_failures ? 1 : 0;                                                                  \
  } while (0)

#endif
