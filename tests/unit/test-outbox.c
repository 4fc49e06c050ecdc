/* test-outbox.c — retry arithmetic of the outbox. A failure here means a dead SMTP server would
 * be hammered, or a notification would wait far longer than the promised hour between tries. */
#include "test-helpers.h"

#include "govwatch.h"

static void test_backoff_bounds(void **state)
{
        uint64_t prev_mid = 0;
        for (unsigned a = 0; a < 20; a++) {
                uint64_t lo = UINT64_MAX, hi = 0;
                for (uint64_t rnd = 0; rnd < 2000; rnd += 7) {
                        uint64_t d = outbox_backoff_usec(a, rnd * UINT64_C(2654435761));
                        lo = d < lo ? d : lo;
                        hi = d > hi ? d : hi;
                }
                /* 30 s doubling, capped at one hour, always within ±20 % */
                uint64_t base = 30 * USEC_PER_SEC << (a < 7 ? a : 7);
                if (base > USEC_PER_HOUR)
                        base = USEC_PER_HOUR;
                assert_true(lo >= base - base / 5);
                assert_true(hi <= base + base / 5);
                assert_true(hi > lo); /* jitter really varies */
                assert_true(base >= prev_mid);
                prev_mid = base;
        }
        assert_true(outbox_backoff_usec(0, 0) >= 24 * USEC_PER_SEC);
        assert_true(outbox_backoff_usec(100, UINT64_MAX) <= USEC_PER_HOUR + USEC_PER_HOUR / 5);
}

int main(void)
{
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(test_backoff_bounds),
        };
        return cmocka_run_group_tests(tests, NULL, NULL);
}
