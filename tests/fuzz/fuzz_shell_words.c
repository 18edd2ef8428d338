// module: builder
/* Word expansion: the first byte picks the options (escape character, raw
 * quotes/escapes, skipped quotes, unset variables kept), the rest is the
 * word.  Expansion succeeds or fails with a message, never crashes. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "builder/shell_words.h"
#include "runtime/util/cleanup.h"
#include "runtime/util/error.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  if (size == 0)
    return 0;
  uint8_t flags = data[0];
  char *word = malloc(size);
  memcpy(word, data + 1, size - 1);
  word[size - 1] = '\0';
  struct shell_words_opts o = {
      .escape = (flags & 1) ? '`' : '\\',
      .raw_quotes = flags & 2,
      .raw_escapes = flags & 4,
      .skip_process_quotes = flags & 8,
      .skip_unset_env = flags & 16,
  };
  char *env[] = {"PWD=/home", "EMPTY=", "SPACES= a  b ", "NOEQ", "P=/usr/local/bin/x.tar.gz", NULL};
  char *out = NULL;
  struct stack_error *err = NULL;
  if (shell_expand_word(word, env, &o, &out, &err) < 0 && (err == NULL || err->msg == NULL))
    abort();
  free(out);
  stack_error_free(err);
  err = NULL;
  char **words = NULL;
  if (shell_expand_words(word, env, &o, &words, &err) < 0 && (err == NULL || err->msg == NULL))
    abort();
  strv_free(words);
  stack_error_free(err);
  free(word);
  return 0;
}
