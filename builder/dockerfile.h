/* The Dockerfile parser: text -> instructions, as the reference frontend's
 * parser (moby/buildkit frontend/dockerfile/parser) builds its tree: line
 * continuations, the `# escape=` / `# syntax=` / `# check=` directives,
 * comments, heredocs (`<<EOF`, `<<-EOF`, quoted delimiters) for RUN, COPY
 * and ADD, JSON (exec) and shell forms, `--flags`.  Nothing is expanded
 * here: build_plan.h does that with the ARG/ENV in scope.
 * dockerfile_dump() prints the tree as the reference does, which is how
 * tests/conformance/dockerfile/parser is checked. */
#ifndef STACK_BUILDER_DOCKERFILE_H
#define STACK_BUILDER_DOCKERFILE_H
#include <stdbool.h>
#include <stddef.h>

#include "runtime/util/error.h"

enum df_cmd {
  DF_ADD = 1,
  DF_ARG,
  DF_CMD,
  DF_COPY,
  DF_ENTRYPOINT,
  DF_ENV,
  DF_EXPOSE,
  DF_FROM,
  DF_HEALTHCHECK,
  DF_LABEL,
  DF_MAINTAINER,
  DF_ONBUILD,
  DF_RUN,
  DF_SHELL,
  DF_STOPSIGNAL,
  DF_USER,
  DF_VOLUME,
  DF_WORKDIR,
};

/* An argument.  Only a JSON-form string can hold a NUL ("\u0000"), hence
 * the length; s is always NUL-terminated too. */
struct df_word {
  char *s;
  size_t len;
};

/* A here-document attached to RUN/COPY/ADD: `<<[-]NAME`. */
struct df_heredoc {
  char *name;     /* the delimiter, quotes removed */
  unsigned fd;    /* `3<<EOF` -> 3; 0 when none was written */
  bool expand;    /* the delimiter was not quoted: ARG/ENV are expanded */
  bool chomp;     /* `<<-`: leading tabs are removed from each line */
  char *content;  /* every line up to the delimiter, with its newline */
};

struct df_node {
  enum df_cmd cmd;
  char *name;              /* the instruction as written, e.g. "run" */
  char **flags;            /* "--from=builder", ... (NULL-terminated, may be NULL) */
  size_t n_flags;
  struct df_word *args;    /* the arguments, as the reference's tree has them */
  size_t n_args;
  bool json;               /* exec (JSON) form */
  struct df_node *sub;     /* ONBUILD: the trigger instruction */
  struct df_heredoc *heredocs;
  size_t n_heredocs;
  char *original;          /* the logical line (continuations joined) */
  int start_line, end_line;
};

struct dockerfile {
  char *path;          /* for messages */
  char escape;         /* '\\' or '`' */
  char *syntax;        /* the `# syntax=` value, or NULL */
  struct df_node *nodes;
  size_t n_nodes;
  char **warnings;     /* e.g. empty continuation lines; NULL-terminated, may be NULL */
};

/* Parses data[0..len) (path names the file in messages).  Errors name the
 * file, the line and the instruction: an unknown instruction, a malformed
 * directive, a `# syntax=` frontend other than docker/dockerfile:1.x, an
 * unterminated heredoc, a JSON form holding something else than strings, a
 * file with no instruction. */
int dockerfile_parse(const char *path, const char *data, size_t len, struct dockerfile **out,
                     struct stack_error **err);
void dockerfile_free(struct dockerfile *df);
static inline void dockerfile_freep(struct dockerfile **df) { dockerfile_free(*df); }

/* The tree as the reference parser's Node.Dump() prints it, one instruction
 * a line, each line ending in "\n" (caller frees). */
char *dockerfile_dump(const struct dockerfile *df);
/* One instruction the same way, without the newline (caller frees). */
char *df_node_dump(const struct df_node *n);

/* The upper-case name of an instruction ("RUN"). */
const char *df_cmd_name(enum df_cmd cmd);

/* The `<<[-]NAME` heredoc a word names, if it is one (as
 * parser.ParseHeredoc): 1 and *out filled (content NULL), 0 if the word is no
 * heredoc, <0 on a malformed delimiter. */
int df_heredoc_parse(const char *word, struct df_heredoc *out, struct stack_error **err);
void df_heredoc_clear(struct df_heredoc *h);

/* Internal to the parser, shared with its JSON half (dockerfile_json.c):
 * rest as a JSON array of strings.  *is_json false (and 0) when rest is no
 * JSON array, which makes it a shell form; an array holding anything but
 * strings is an error. */
int df_parse_json_array(const char *rest, struct df_word **out, size_t *n, bool *is_json,
                        struct stack_error **err);
void df_words_free(struct df_word *w, size_t n);

#endif
