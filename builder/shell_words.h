/* Word expansion of Dockerfile arguments, as the reference frontend's shell
 * lexer does it (moby/buildkit frontend/dockerfile/shell): quotes, the escape
 * character, $VAR, ${VAR}, ${VAR:-word}, ${VAR-word}, ${VAR:+word},
 * ${VAR+word}, ${VAR:?msg}, ${VAR?msg}, ${VAR#pat}, ${VAR##pat}, ${VAR%pat},
 * ${VAR%%pat}, ${VAR/pat/repl}, ${VAR//pat/repl}.  No command substitution,
 * no arithmetic: those are left to the shell of a RUN step. */
#ifndef STACK_BUILDER_SHELL_WORDS_H
#define STACK_BUILDER_SHELL_WORDS_H
#include <stdbool.h>
#include <stddef.h>

#include "runtime/util/error.h"

struct shell_words_opts {
  char escape;              /* '\\' or '`' (the Dockerfile's escape directive); 0 = '\\' */
  bool raw_quotes;          /* keep quote characters in the result */
  bool raw_escapes;         /* keep escape characters in the result */
  bool skip_process_quotes; /* quotes are ordinary characters */
  bool skip_unset_env;      /* leave $VAR / ${VAR...} of unset variables as written */
};

/* Expands word into one string (*out, caller frees).  env is a
 * NULL-terminated list of "KEY=VALUE" (a later KEY wins; "KEY" alone is set
 * and empty); opts may be NULL.  A syntax error or ${VAR:?} of an unset
 * variable fails with a message naming the word. */
int shell_expand_word(const char *word, char *const *env, const struct shell_words_opts *opts,
                      char **out, struct stack_error **err);

/* Expands word and splits the result into words at unquoted white space, as
 * for EXPOSE (*out: NULL-terminated, caller frees with strv_free). */
int shell_expand_words(const char *word, char *const *env, const struct shell_words_opts *opts,
                       char ***out, struct stack_error **err);

/* Looks key up in a "KEY=VALUE" list as the expansion does (the last one
 * wins); NULL if unset. */
const char *shell_env_get(char *const *env, const char *key, size_t keylen);

#endif
