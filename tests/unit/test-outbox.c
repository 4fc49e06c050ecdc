/* test-outbox.c — retry arithmetic of the outbox and what a sink's answer does to a row. A
 * failure here means a dead SMTP server would be hammered, a notification would wait far longer
 * than the promised hour between tries, or one an endpoint keeps answering "try later" would
 * stay pending for ever, with no dead letter and no alert. */
#include "test-helpers.h"

#include "govwatch.h"
#include "outbox.h"

#define NOW INT64_C(1700000000)

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

static const struct outbox_clock clock_day = {
        .now = NOW,
        .expire_usec = 24 * USEC_PER_HOUR,
        .backoff_scale = 1.0,
        .random = 12345,
};

/* A webhook's 429 with Retry-After: 1 h, from a sink that may well have a digest: the decision
 * takes no sink settings, so nothing but SINK_HELD can make it a hold. */
static void test_try_later_with_retry_after_is_a_failure(void **state)
{
        struct outbox_decision d =
                outbox_decide(SINK_TRY_LATER, USEC_PER_HOUR, 2, NOW - 60, &clock_day);
        assert_int_equal(d.action, OUTBOX_RETRY); /* an attempt counted */
        assert_true(d.alert);                     /* towards the sink's alert */
        /* the Retry-After, longer than the backoff (2 min ±20 % after two attempts) */
        assert_int_equal(d.next_attempt, NOW + 3600);

        /* past expire it is a dead letter, Retry-After or not */
        d = outbox_decide(SINK_TRY_LATER, USEC_PER_HOUR, 7, NOW - 24 * 3600, &clock_day);
        assert_int_equal(d.action, OUTBOX_DEAD);
        assert_true(d.alert);

        /* a Retry-After shorter than the backoff does not shorten it */
        d = outbox_decide(SINK_TRY_LATER, USEC_PER_SEC, 5, NOW - 60, &clock_day);
        assert_int_equal(d.action, OUTBOX_RETRY);
        assert_true(d.next_attempt >= NOW + 960 * 4 / 5 && d.next_attempt <= NOW + 960 * 6 / 5);

        /* the test clock scales the wait, never the kind of answer */
        struct outbox_clock fast = clock_day;
        fast.backoff_scale = 0.02;
        d = outbox_decide(SINK_TRY_LATER, 60 * USEC_PER_SEC, 0, NOW - 60, &fast);
        assert_int_equal(d.action, OUTBOX_RETRY);
        assert_int_equal(d.next_attempt, NOW + 2); /* 1.2 s, rounded up */
}

/* A digest's hold: back exactly when the sink said, with nothing counted against anyone. */
static void test_held_is_a_hold(void **state)
{
        for (uint64_t rnd = 0; rnd < 50; rnd++) {
                struct outbox_clock c = clock_day;
                c.random = rnd * UINT64_C(2654435761);
                c.backoff_scale = rnd % 2 ? 0.02 : 1.0;
                /* even past expire: the hold is the sink's job, not a failure */
                int64_t created = rnd % 3 ? NOW - 60 : NOW - 2 * 24 * 3600;
                struct outbox_decision d =
                        outbox_decide(SINK_HELD, 1800 * USEC_PER_SEC + 1, 4, created, &c);
                assert_int_equal(d.action, OUTBOX_DEFER); /* no attempt counted */
                assert_false(d.alert);
                /* no jitter, no scaling: every row of one digest comes back in the same second */
                assert_int_equal(d.next_attempt, NOW + 1801);
        }
        /* a hold with no time is not a busy loop */
        struct outbox_decision d = outbox_decide(SINK_HELD, 0, 0, NOW, &clock_day);
        assert_int_equal(d.action, OUTBOX_DEFER);
        assert_true(d.next_attempt > NOW);
}

static void test_other_answers(void **state)
{
        struct outbox_decision d = outbox_decide(SINK_ACCEPTED, 0, 3, NOW - 60, &clock_day);
        assert_int_equal(d.action, OUTBOX_DELIVERED);
        assert_true(d.alert); /* ends a run of failures */
        d = outbox_decide(SINK_REJECTED, 0, 0, NOW - 60, &clock_day);
        assert_int_equal(d.action, OUTBOX_DEAD);
        assert_true(d.alert);

        /* at shutdown a "try later" is ours, not the sink's: due again at the next start */
        struct outbox_clock stopping = clock_day;
        stopping.shutdown = true;
        d = outbox_decide(SINK_TRY_LATER, USEC_PER_HOUR, 3, NOW - 2 * 24 * 3600, &stopping);
        assert_int_equal(d.action, OUTBOX_DEFER);
        assert_int_equal(d.next_attempt, NOW);
        assert_false(d.alert);
        /* while a hold stays a hold */
        d = outbox_decide(SINK_HELD, 10 * USEC_PER_SEC, 0, NOW, &stopping);
        assert_int_equal(d.action, OUTBOX_DEFER);
        assert_int_equal(d.next_attempt, NOW + 10);
        assert_false(d.alert);
}

int main(void)
{
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(test_backoff_bounds),
                cmocka_unit_test(test_try_later_with_retry_after_is_a_failure),
                cmocka_unit_test(test_held_is_a_hold),
                cmocka_unit_test(test_other_answers),
        };
        return cmocka_run_group_tests(tests, NULL, NULL);
}
