/* `stack top`: ps output read as docker top reads it (header columns, the
 * PID column, the container's pids, threads, the last column's blanks,
 * hostile bytes), and the rows made from a guest's process list (Docker's
 * columns: user or uid, C, STIME, TTY, TIME, printable CMD). */
#include <cjson/cJSON.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "orchestrator/cli/cli_table.h"
#include "orchestrator/cli/cli_top_parse.h"
#include "orchestrator/cli/cli_top_rows.h"
#include "test.h"

static const char *cell(const struct cli_table *t, size_t row, size_t col) {
  /* row 0 is the header */
  return t->cells[(row + 1) * t->ncols + col];
}

static void test_parse(void) {
  static const uint32_t pids[] = {40, 41, 60};
  struct cli_table t;
  /* busybox ps -o user,pid,ppid,stat,tty,args: pid 1 (the guest init) and
   * the listing's own ps (50) are not the container's */
  const char out[] = "USER       PID  PPID STAT TT       COMMAND\n"
                     "root         1     0 S    ?        /init\n"
                     "root        40     1 S    ?        sh -c  sleep 301 & exec sleep 300\n"
                     "nobody      41    40 S    ?        sleep\t301\r\n"
                     "root        50     1 R    ?        ps -o user,pid,ppid,stat,tty,args\n"
                     "short\n"
                     "root 60 1 Z\n"
                     "\n";
  CHECK_INTEQ(top_parse_ps(out, strlen(out), pids, 3, &t), 3);
  CHECK_INTEQ(t.ncols, 6);
  CHECK_STREQ(t.cells[1], "PID");
  CHECK_STREQ(t.cells[5], "COMMAND");
  CHECK_STREQ(cell(&t, 0, 1), "40");
  CHECK_STREQ(cell(&t, 0, 5), "sh -c sleep 301 & exec sleep 300"); /* joined as docker does */
  CHECK_STREQ(cell(&t, 1, 0), "nobody");
  CHECK_STREQ(cell(&t, 1, 5), "sleep 301");
  CHECK_STREQ(cell(&t, 2, 1), "60"); /* fewer fields: the rest are empty */
  CHECK_STREQ(cell(&t, 2, 4), "");
  cli_table_free(&t);

  /* procps ps -eLf -m style: threads ("-") follow their process */
  const char thr[] = "UID PID PPID LWP C NLWP STIME TTY TIME CMD\n"
                     "root 40 1 - 0 2 10:00 ? 00:00:00 server --x\n"
                     "root - - 40 0 - 10:00 - 00:00:00 -\n"
                     "root 50 1 - 0 1 10:00 ? 00:00:00 ps -eLf -m\n"
                     "root - - 50 0 - 10:00 - 00:00:00 -\n";
  CHECK_INTEQ(top_parse_ps(thr, strlen(thr), pids, 3, &t), 2);
  CHECK_STREQ(cell(&t, 0, 9), "server --x");
  CHECK_STREQ(cell(&t, 1, 3), "40");
  cli_table_free(&t);

  /* no PID column, no output: refused as docker top refuses them */
  CHECK_INTEQ(top_parse_ps("USER COMMAND\nroot sh\n", 20, pids, 3, &t), -1);
  CHECK_INTEQ(top_parse_ps("", 0, pids, 3, &t), -1);
  CHECK_INTEQ(top_parse_ps("PID", 3, pids, 3, &t), 0);
  cli_table_free(&t);
  /* NUL bytes, control characters, no final newline, a pid that is no number */
  const char nul[] = "PID CMD\n40 a\0b\n41 \x1b[2Jc\n4x1 d\n60 e";
  CHECK_INTEQ(top_parse_ps(nul, sizeof(nul) - 1, pids, 3, &t), 3);
  CHECK_STREQ(cell(&t, 0, 1), "a");
  CHECK_STREQ(cell(&t, 1, 1), "?[2Jc");
  CHECK_STREQ(cell(&t, 2, 1), "e");
  cli_table_free(&t);
}

static void test_rows(void) {
  char b[64];
  top_tty_name(0, b, sizeof b);
  CHECK_STREQ(b, "?");
  top_tty_name(136 << 8 | 3, b, sizeof b);
  CHECK_STREQ(b, "pts/3");
  top_tty_name(4 << 8 | 65, b, sizeof b);
  CHECK_STREQ(b, "ttyS1");
  top_tty_name(5 << 8 | 1, b, sizeof b);
  CHECK_STREQ(b, "console");
  top_cpu_time(0, b, sizeof b);
  CHECK_STREQ(b, "00:00:00");
  top_cpu_time((3600 + 62) * 1000ull + 999, b, sizeof b);
  CHECK_STREQ(b, "01:01:02");
  top_cpu_time((2 * 86400 + 5) * 1000ull, b, sizeof b);
  CHECK_STREQ(b, "2-00:00:05");
  CHECK_INTEQ(top_cpu_percent(500, 1000), 50);
  CHECK_INTEQ(top_cpu_percent(5000, 1000), 99);
  CHECK_INTEQ(top_cpu_percent(5, 0), 0);
  setenv("TZ", "UTC", 1);
  tzset();
  time_t now = 1765100000; /* 2025-12-07 09:33:20 UTC */
  top_start_time(now - 60, now, b, sizeof b);
  CHECK_STREQ(b, "09:32");
  top_start_time(now - 86400 * 3, now, b, sizeof b);
  CHECK_STREQ(b, "Dec04");
  top_start_time(now - 86400 * 400, now, b, sizeof b);
  CHECK_STREQ(b, "2024");

  cJSON *res = cJSON_Parse(
      "{\"total\":4,\"processes\":["
      "{\"pid\":7,\"ppid\":1,\"uid\":0,\"user\":\"root\",\"tty\":0,\"age_ms\":60000,"
      "\"cpu_ms\":1500,\"cmd\":\"sh -c sleep 300\"},"
      "{\"pid\":9,\"ppid\":7,\"uid\":999,\"user\":\"\",\"tty\":34816,\"age_ms\":1000,"
      "\"cpu_ms\":0,\"cmd\":\"evil\\u001b[0m\"},"
      "{\"ppid\":1},\"junk\",{\"pid\":-3},{\"pid\":11}]}");
  static const char *const header[] = TOP_HEADER;
  struct cli_table t;
  cli_table_init(&t, TOP_NCOLS, header);
  CHECK_INTEQ(top_rows_add(res, now, &t), 3);
  CHECK_STREQ(t.cells[0], "UID");
  CHECK_STREQ(t.cells[7], "CMD");
  CHECK_STREQ(cell(&t, 0, 0), "root");
  CHECK_STREQ(cell(&t, 0, 1), "7");
  CHECK_STREQ(cell(&t, 0, 2), "1");
  CHECK_STREQ(cell(&t, 0, 3), "2");
  CHECK_STREQ(cell(&t, 0, 4), "09:32");
  CHECK_STREQ(cell(&t, 0, 5), "?");
  CHECK_STREQ(cell(&t, 0, 6), "00:00:01");
  CHECK_STREQ(cell(&t, 0, 7), "sh -c sleep 300");
  CHECK_STREQ(cell(&t, 1, 0), "999"); /* no name: the number */
  CHECK_STREQ(cell(&t, 1, 5), "pts/0");
  CHECK_STREQ(cell(&t, 1, 7), "evil?[0m");
  CHECK_STREQ(cell(&t, 2, 1), "11");
  size_t n = 0;
  uint32_t *pids = top_rows_pids(res, &n);
  CHECK_INTEQ(n, 3);
  CHECK(pids[0] == 7 && pids[1] == 9 && pids[2] == 11);
  free(pids);
  cli_table_free(&t);
  cJSON_Delete(res);
}

int main(void) {
  test_parse();
  test_rows();
  TEST_DONE();
}
