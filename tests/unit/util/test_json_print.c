#include <cjson/cJSON.h>

#include "runtime/util/cjson_cleanup.h"
#include "runtime/util/cleanup.h"
#include "runtime/util/json_print.h"
#include "test.h"

/* Go's json.MarshalIndent(v, "", "    "), as `docker ... inspect` prints */
static void same(const char *in, const char *want) {
  _cleanup_cjson_ cJSON *j = cJSON_Parse(in);
  CHECK(j != NULL);
  _cleanup_free_ char *out = json_print_indented(j, "    ");
  CHECK_STREQ(out, want);
}

int main(void) {
  same("[]", "[]");
  same("{}", "{}");
  same("[{\"a\":1,\"b\":\"x\\ty\"},{\"c\":null}]",
       "[\n    {\n        \"a\": 1,\n        \"b\": \"x\\ty\"\n    },\n    {\n        \"c\": null\n"
       "    }\n]");
  same("{\"k\":[],\"o\":{},\"l\":[true,false]}",
       "{\n    \"k\": [],\n    \"o\": {},\n    \"l\": [\n        true,\n        false\n    ]\n}");
  same("{\"q\\\"k\":\"v\"}", "{\n    \"q\\\"k\": \"v\"\n}");
  TEST_DONE();
}
