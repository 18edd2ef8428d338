/* The container table's state-change hook: subscribers in registration
 * order, a change made inside a subscriber queued until every subscriber
 * saw the current one (never a re-entered handler). */
#include <string.h>

#include "orchestrator/supervisor/sup_ctrs.h"
#include "test.h"

static char trace[256];
static int depth, max_depth;

static void note(char who, const struct sup_change *ch) {
  size_t n = strlen(trace);
  trace[n] = who;
  trace[n + 1] = ch->kind == SUP_CHANGE_STARTED ? 's' : ch->kind == SUP_CHANGE_DIED ? 'd' : 'r';
  trace[n + 2] = 0;
}

/* Starting a container fails inside the handler: the failure is a change
 * of its own. */
static void first(struct supervisor *s, const struct sup_change *ch) {
  if (++depth > max_depth)
    max_depth = depth;
  note('A', ch);
  if (ch->kind == SUP_CHANGE_STARTED) {
    sup_ctrs_announce(s, ch->ctr, SUP_CHANGE_DIED, 125);
    CHECK_STREQ(trace, "As"); /* queued, not run here */
  }
  depth--;
}

static void second(struct supervisor *s, const struct sup_change *ch) {
  (void)s;
  if (++depth > max_depth)
    max_depth = depth;
  note('B', ch);
  if (ch->kind == SUP_CHANGE_DIED) {
    CHECK_INTEQ(ch->exit_code, 125);
    CHECK_STREQ(ch->name, "p-web-1");
    CHECK_STREQ(ch->service, "web");
    sup_ctrs_changed(s); /* queued behind */
  }
  depth--;
}

int main(void) {
  struct supervisor s;
  memset(&s, 0, sizeof(s));
  struct sup_ctr c;
  memset(&c, 0, sizeof(c));
  c.name = "p-web-1";
  c.service = "web";
  sup_ctrs_subscribe(&s, first);
  sup_ctrs_subscribe(&s, second);
  sup_ctrs_announce(&s, &c, SUP_CHANGE_STARTED, -1);
  CHECK_STREQ(trace, "AsBsAdBdArBr");
  CHECK_INTEQ(max_depth, 1);
  CHECK(!s.announcing && s.changes == NULL);
  TEST_DONE();
}
