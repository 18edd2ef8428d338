#include <errno.h>

#include "runtime/util/cleanup.h"
#include "runtime/util/error.h"
#include "runtime/util/sbuf.h"
#include "test.h"

static int fails(struct stack_error **err) { return stack_error_set(err, -EINVAL, "bad %s", "thing"); }

int main(void) {
  _cleanup_error_ struct stack_error *err = NULL;
  CHECK_INTEQ(fails(&err), -EINVAL);
  CHECK_STREQ(err->msg, "bad thing");
  stack_error_prefix(&err, "file %s:%d", "a.yaml", 3);
  CHECK_STREQ(err->msg, "file a.yaml:3: bad thing");
  CHECK_INTEQ(fails(NULL), -EINVAL);

  _cleanup_sbuf_ struct sbuf b = SBUF_INIT;
  sbuf_printf(&b, "%d-%s", 42, "x");
  sbuf_putc(&b, '!');
  CHECK_STREQ(b.data, "42-x!");
  CHECK_INTEQ(b.len, 5);
  TEST_DONE();
}
