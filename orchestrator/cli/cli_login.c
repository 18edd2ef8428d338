/* `stack login [-u USER] [-p PASS | --password-stdin] REGISTRY` and
 * `stack logout REGISTRY`: credentials checked against the registry, then
 * kept by the credential helper Docker's config.json names for the registry
 * (credHelpers, credsStore), as `docker login` does, else (mode 0600) in
 * stack's auth.json next to its config file. */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <termios.h>
#include <unistd.h>

#include "cli.h"
#include "runtime/image/credentials.h"
#include "runtime/image/registry.h"
#include "runtime/util/cleanup.h"
#include "runtime/util/error.h"
#include "runtime/util/fsutil.h"
#include "runtime/util/xalloc.h"

#define PASSWORD_MAX (64u << 10)

/* Reads one line (without its newline) from fd; echo off on a terminal. */
static char *read_secret(FILE *in, const char *prompt) {
  struct termios old, quiet;
  bool tty = isatty(fileno(in)) && tcgetattr(fileno(in), &old) == 0;
  if (prompt && tty)
    fputs(prompt, stderr);
  if (tty) {
    quiet = old;
    quiet.c_lflag &= ~(tcflag_t)ECHO;
    tcsetattr(fileno(in), TCSAFLUSH, &quiet);
  }
  char *line = NULL;
  size_t cap = 0;
  ssize_t n = getline(&line, &cap, in);
  if (tty) {
    tcsetattr(fileno(in), TCSAFLUSH, &old);
    fputc('\n', stderr);
  }
  if (n < 0) {
    free(line);
    return NULL;
  }
  while (n > 0 && (line[n - 1] == '\n' || line[n - 1] == '\r'))
    line[--n] = '\0';
  return line;
}

int cli_login(struct cli_globals *g, int argc, char **argv) {
  (void)g;
  static const struct option opts[] = {
      {"username", required_argument, NULL, 'u'},
      {"password", required_argument, NULL, 'p'},
      {"password-stdin", no_argument, NULL, 'S'},
      {"help", no_argument, NULL, 'h'},
      {NULL, 0, NULL, 0},
  };
  _cleanup_free_ char *user = NULL, *pass = NULL;
  bool from_stdin = false;
  optind = 1;
  opterr = 0;
  int c;
  while ((c = getopt_long(argc, argv, "+u:p:h", opts, NULL)) != -1) {
    switch (c) {
    case 'u':
      free(user);
      user = xstrdup(optarg);
      break;
    case 'p':
      free(pass);
      pass = xstrdup(optarg);
      break;
    case 'S':
      from_stdin = true;
      break;
    case 'h':
      printf("Usage:  stack login [-u USER] [-p PASSWORD | --password-stdin] REGISTRY\n");
      return 0;
    default:
      fprintf(stderr, "stack login: unknown option %s\n", argv[optind - 1]);
      return 2;
    }
  }
  if (argc - optind != 1) {
    fprintf(stderr, "Usage:  stack login [-u USER] [-p PASSWORD | --password-stdin] REGISTRY\n");
    return 2;
  }
  const char *host = argv[optind];
  if (pass && from_stdin) {
    fprintf(stderr, "stack login: --password and --password-stdin are mutually exclusive\n");
    return 2;
  }
  if (pass)
    fprintf(stderr, "WARNING! Using --password via the CLI is insecure. Use --password-stdin.\n");
  if (user == NULL) {
    if (from_stdin) {
      fprintf(stderr, "stack login: --password-stdin needs --username\n");
      return 2;
    }
    fputs("Username: ", stderr);
    user = read_secret(stdin, NULL);
  }
  if (pass == NULL)
    pass = read_secret(stdin, from_stdin ? NULL : "Password: ");
  if (user == NULL || *user == '\0' || pass == NULL) {
    fprintf(stderr, "stack login: a username and a password are required\n");
    return 1;
  }
  _cleanup_error_ struct stack_error *err = NULL;
  int r = registry_login(host, user, pass, &err);
  explicit_bzero(pass, strlen(pass));
  if (r < 0) {
    stack_error_print(err);
    return 1;
  }
  _cleanup_free_ char *helper = NULL;
  if (credentials_helper(host, &helper, NULL) == 0 && helper) {
    printf("Login Succeeded (credentials saved by docker-credential-%s)\n", helper);
    return 0;
  }
  _cleanup_free_ char *path = credentials_path();
  printf("Login Succeeded (credentials saved in %s)\n", path);
  return 0;
}

int cli_logout(struct cli_globals *g, int argc, char **argv) {
  (void)g;
  if (argc != 2 || argv[1][0] == '-') {
    fprintf(stderr, "Usage:  stack logout REGISTRY\n");
    return argc == 2 && strcmp(argv[1], "--help") == 0 ? 0 : 2;
  }
  _cleanup_error_ struct stack_error *err = NULL;
  if (credentials_erase(argv[1], &err) < 0) {
    stack_error_print(err);
    return 1;
  }
  printf("Removing login credentials for %s\n", argv[1]);
  return 0;
}
