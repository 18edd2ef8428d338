#include "cli_prompt.h"

#include <stdio.h>
#include <string.h>
#include <strings.h>

bool cli_confirm(const char *warning) {
  fputs(warning, stdout);
  fputs("Are you sure you want to continue? [y/N] ", stdout);
  fflush(stdout);
  char line[64];
  if (fgets(line, sizeof(line), stdin) == NULL)
    return false;
  line[strcspn(line, "\r\n")] = '\0';
  const char *s = line;
  while (*s == ' ' || *s == '\t')
    s++;
  return strcasecmp(s, "y") == 0 || strcasecmp(s, "yes") == 0;
}
