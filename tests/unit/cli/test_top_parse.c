#include <string.h>

#include "orchestrator/cli/cli_table.h"
#include "orchestrator/cli/cli_top_parse.h"
#include "test.h"

static const char *cell(const struct cli_table *t, size_t row, size_t col) {
  /* row 0 is the header */
  return t->cells[(row + 1) * t->ncols + col];
}

int main(void) {
  static const char *const header[] = TOP_HEADER;
  struct cli_table t;
  cli_table_init(&t, TOP_NCOLS, header);
  /* busybox ps -o user,pid,ppid,stat,tty,args */
  const char out[] = "USER       PID  PPID STAT TT       COMMAND\n"
                     "root         1     0 S    ?        /init\n"
                     "root         2     0 SW   ?        [kthreadd]\n"
                     "root        40     1 S    ?        sh -c  sleep 301 & exec sleep 300\n"
                     "nobody      41    40 S    ?        sleep 301\r\n"
                     "root        50     1 R    ?        ps -o user,pid,ppid,stat,tty,args\n"
                     "short line\n"
                     "root 60 1 Z ?\n"
                     "\n";
  CHECK_INTEQ(top_parse_ps(out, strlen(out), &t), 3);
  CHECK_INTEQ(t.nrows, 4);
  CHECK_STREQ(cell(&t, 0, 0), "root");
  CHECK_STREQ(cell(&t, 0, 1), "1");
  CHECK_STREQ(cell(&t, 0, 5), "/init");
  CHECK_STREQ(cell(&t, 1, 1), "40");
  CHECK_STREQ(cell(&t, 1, 2), "1");
  CHECK_STREQ(cell(&t, 1, 3), "S");
  CHECK_STREQ(cell(&t, 1, 4), "?");
  CHECK_STREQ(cell(&t, 1, 5), "sh -c  sleep 301 & exec sleep 300");
  CHECK_STREQ(cell(&t, 2, 0), "nobody");
  CHECK_STREQ(cell(&t, 2, 5), "sleep 301");

  /* no output, only a header, NUL bytes and no final newline */
  CHECK_INTEQ(top_parse_ps("", 0, &t), 0);
  CHECK_INTEQ(top_parse_ps("USER PID", 8, &t), 0);
  const char nul[] = "H\nroot 7 1 S ? a\0b\nroot 8 1 S ? c";
  CHECK_INTEQ(top_parse_ps(nul, sizeof(nul) - 1, &t), 2);
  CHECK_STREQ(cell(&t, 3, 5), "a");
  CHECK_STREQ(cell(&t, 4, 5), "c");
  cli_table_free(&t);
  TEST_DONE();
}
