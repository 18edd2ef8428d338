#include <stdint.h>

#include "orchestrator/supervisor/proc_usage.h"
#include "orchestrator/supervisor/procinfo.h"
#include "runtime/util/bytesize.h"
#include "runtime/util/cleanup.h"
#include "test.h"

static void size_is(char *got, const char *want) {
  CHECK_STREQ(got, want);
  free(got);
}

int main(void) {
  /* a command name with ") " in it: fields count from the last ')' */
  const char *stat = "4242 (qemu) x) S 1 4242 4242 0 -1 4194560 100 0 0 0 250 75 0 0 20 0 3 0 "
                     "987654 1000 10\n";
  uint64_t v = 0;
  CHECK(proc_parse_stat_field(stat, 14, &v) == 0);
  CHECK_INTEQ(v, 250);
  CHECK(proc_parse_stat_field(stat, 15, &v) == 0);
  CHECK_INTEQ(v, 75);
  CHECK(proc_parse_stat_start_time(stat, &v) == 0);
  CHECK_INTEQ(v, 987654);
  CHECK(proc_parse_stat_field(stat, 60, &v) < 0);
  CHECK(proc_parse_stat_field(stat, 2, &v) < 0);
  CHECK(proc_parse_stat_field("no parens", 14, &v) < 0);
  CHECK(proc_parse_stat_field("1 (x) S 1 2 3 4 5 6 7 8 9 10 -3 4", 14, &v) < 0);

  const char *smaps = "55d0-7ffc ---p 00000000 00:00 0  [rollup]\nRss:  102400 kB\n"
                      "Pss:   64512 kB\nPss_Anon: 30000 kB\n";
  CHECK(proc_parse_pss(smaps, &v) == 0);
  CHECK_INTEQ(v, 64512ULL * 1024);
  CHECK(proc_parse_pss("Pss_Anon: 3 kB\n", &v) < 0); /* a longer key is not Pss */
  CHECK(proc_parse_pss("Pss: x kB\n", &v) < 0);
  CHECK(proc_parse_pss("", &v) < 0);
  CHECK(proc_parse_pss("Pss: 99999999999999999999999 kB\n", &v) < 0);

  const char *io = "rchar: 10\nwchar: 20\nread_bytes: 4096\nwrite_bytes: 8192\n"
                   "cancelled_write_bytes: 1\n";
  CHECK(proc_parse_io_field(io, "read_bytes", &v) == 0);
  CHECK_INTEQ(v, 4096);
  CHECK(proc_parse_io_field(io, "write_bytes", &v) == 0);
  CHECK_INTEQ(v, 8192);
  CHECK(proc_parse_io_field(io, "syscr", &v) < 0);

  /* go-units: HumanSizeWithPrecision(n, 3) and BytesSize(n) */
  size_is(human_size_si(0, 3), "0B");
  size_is(human_size_si(999, 3), "999B");
  size_is(human_size_si(1500000, 3), "1.5MB");
  size_is(human_size_si(4096, 3), "4.1kB");
  size_is(human_size_binary(1024.0 * 1024 * 1024), "1GiB");
  size_is(human_size_binary(256.0 * 1024 * 1024), "256MiB");
  size_is(human_size_binary(66060288), "63MiB");
  size_is(human_size_binary(1536), "1.5KiB");
  size_is(human_size_binary(12), "12B");
  TEST_DONE();
}
