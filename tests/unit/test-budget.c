/* test-budget.c — the VK limits as arithmetic (src/budget.c), on a fake clock. A failure here means
 * the daemon would provoke error 6 (too many requests a second) or 29 (daily limit), or would sit
 * idle with quota left. */
#include "test-helpers.h"

#include "budget.h"

/* A realistic wall clock: 2024-03-04 00:00 Moscow, in µs. */
#define T0 (UINT64_C(1709499600) * USEC_PER_SEC)

static void test_token_bucket(void **state)
{
        struct token_bucket b;
        uint64_t wait;

        assert_int_equal(token_bucket_init(&b, 0, T0), -EINVAL);
        assert_int_equal(token_bucket_init(&b, 3, T0), 0);
        /* starts full: 3 requests at once, the fourth waits a third of a second */
        for (int i = 0; i < 3; i++)
                assert_int_equal(token_bucket_take(&b, T0, &wait), 0);
        assert_int_equal(token_bucket_take(&b, T0, &wait), -EAGAIN);
        assert_true(wait >= USEC_PER_SEC / 3 - 1 && wait <= USEC_PER_SEC / 3 + 1);
        assert_int_equal(token_bucket_take(&b, T0 + wait - 2, NULL), -EAGAIN);
        assert_int_equal(token_bucket_take(&b, T0 + wait, NULL), 0);

        /* a long idle time refills no more than N */
        uint64_t t = T0 + 3600 * USEC_PER_SEC;
        unsigned n = 0;
        while (token_bucket_take(&b, t, NULL) == 0)
                n++;
        assert_int_equal(n, 3);

        /* never more than N in any second, taking as fast as allowed for a minute */
        unsigned taken = 0;
        uint64_t start = t + 10 * USEC_PER_SEC;
        for (uint64_t now = start; now < start + 60 * USEC_PER_SEC;) {
                if (token_bucket_take(&b, now, &wait) == 0)
                        taken++;
                else
                        now += wait;
        }
        assert_true(taken <= 3 + 3 * 60 && taken >= 3 * 60);

        /* error 6: drained, the next request waits */
        token_bucket_drain(&b, start + 100 * USEC_PER_SEC);
        assert_true(token_bucket_wait_usec(&b, start + 100 * USEC_PER_SEC) > 0);

        /* a clock that goes back refills nothing */
        assert_int_equal(token_bucket_take(&b, start, NULL), -EAGAIN);

        /* less than one a second still allows one request */
        assert_int_equal(token_bucket_init(&b, 0.5, T0), 0);
        assert_int_equal(token_bucket_take(&b, T0, NULL), 0);
        assert_int_equal(token_bucket_take(&b, T0, &wait), -EAGAIN);
        assert_true(wait >= 2 * USEC_PER_SEC - 1 && wait <= 2 * USEC_PER_SEC + 1);
}

static void test_daily_limit_and_reserve(void **state)
{
        struct daily_budget b;

        assert_int_equal(daily_budget_init(&b, 0, 0), -EINVAL);
        assert_int_equal(daily_budget_init(&b, 100, 100), -EINVAL);
        assert_int_equal(daily_budget_init(&b, 100, 10), 0);

        assert_int_equal(daily_budget_available(&b, T0, false), 90);
        assert_int_equal(daily_budget_spend(&b, T0, 90, false), 0);
        assert_int_equal(daily_budget_spend(&b, T0, 1, false), -EDQUOT);
        /* paging may use the reserve, but no more */
        assert_int_equal(daily_budget_spend(&b, T0 + USEC_PER_HOUR, 10, true), 0);
        assert_int_equal(daily_budget_spend(&b, T0 + USEC_PER_HOUR, 1, true), -EDQUOT);
        assert_int_equal(daily_budget_used(&b, T0 + USEC_PER_HOUR), 100);

        /* the 90 of T0 leave the window only once a full day (and the slot) has passed */
        assert_int_equal(daily_budget_available(&b, T0 + USEC_PER_DAY - 1, false), 0);
        uint64_t free_at = daily_budget_next_free(&b, T0 + 2 * USEC_PER_HOUR, 1, false);
        assert_true(free_at >= T0 + USEC_PER_DAY);
        assert_true(free_at <= T0 + USEC_PER_DAY + 2 * DAILY_BUDGET_SLOT_USEC);
        assert_int_equal(daily_budget_freed_by(&b, T0 + 2 * USEC_PER_HOUR, free_at), 90);
        assert_int_equal(daily_budget_freed_by(&b, T0 + 2 * USEC_PER_HOUR, free_at - 1), 0);
        assert_int_equal(daily_budget_available(&b, free_at, false), 80);
        /* and everything after two days */
        assert_int_equal(daily_budget_used(&b, T0 + 2 * USEC_PER_DAY), 0);
        assert_true(daily_budget_next_free(&b, T0, 101, true) == UINT64_MAX);
}

static void test_never_exceeded(void **state)
{
        /* Spend greedily at random moments for five days; count every 24 h window independently. */
        struct daily_budget b;
        uint64_t *log = calloc(20000, sizeof(uint64_t));
        size_t n = 0;
        uint64_t t = T0, rnd = 42;

        assert_non_null(log);
        assert_int_equal(daily_budget_init(&b, 500, 20), 0);
        while (t < T0 + 5 * USEC_PER_DAY && n < 20000) {
                rnd = rnd * 6364136223846793005ULL + 1442695040888963407ULL;
                unsigned want = 1 + (rnd >> 60);
                bool reserve = (rnd >> 40) % 4 == 0;
                if (daily_budget_spend(&b, t, want, reserve) == 0)
                        for (unsigned i = 0; i < want; i++)
                                log[n++] = t;
                else
                        assert_true(daily_budget_available(&b, t, reserve) < want);
                t += (rnd >> 33) % (10 * USEC_PER_MINUTE);
        }
        assert_true(n > 2000); /* it did spend: about 500 a day */
        for (size_t i = 0, j = 0; i < n; i++) {
                while (log[j] + USEC_PER_DAY <= log[i])
                        j++;
                assert_true(i - j + 1 <= 500);
        }
        free(log);
}

static void test_error_29(void **state)
{
        struct daily_budget b;
        assert_int_equal(daily_budget_init(&b, 5000, 100), 0);
        assert_int_equal(daily_budget_spend(&b, T0, 10, false), 0);
        daily_budget_exhausted(&b, T0 + USEC_PER_HOUR);
        assert_int_equal(daily_budget_available(&b, T0 + USEC_PER_HOUR, true), 0);
        /* the 10 of T0 free first, then the rest a day after VK said 29 */
        uint64_t t = daily_budget_next_free(&b, T0 + USEC_PER_HOUR, 1, true);
        assert_true(t >= T0 + USEC_PER_DAY && t < T0 + USEC_PER_DAY + USEC_PER_HOUR);
        assert_int_equal(daily_budget_available(&b, t, true), 10);
        assert_int_equal(
                daily_budget_available(
                        &b, T0 + USEC_PER_HOUR + USEC_PER_DAY + 2 * DAILY_BUDGET_SLOT_USEC, false),
                4900);
}

static void test_clock_back(void **state)
{
        /* A clock set back must not forget calls already made. */
        struct daily_budget b;
        assert_int_equal(daily_budget_init(&b, 10, 0), 0);
        assert_int_equal(daily_budget_spend(&b, T0 + USEC_PER_HOUR, 6, false), 0);
        assert_int_equal(daily_budget_spend(&b, T0, 4, false), 0);
        assert_int_equal(daily_budget_spend(&b, T0, 1, false), -EDQUOT);
        assert_int_equal(daily_budget_used(&b, T0 + USEC_PER_HOUR), 10);
}

static void test_save_load(void **state)
{
        struct daily_budget b, c;
        _cleanup_free_ char *text = NULL, *again = NULL;

        assert_int_equal(daily_budget_init(&b, 5000, 100), 0);
        for (unsigned i = 0; i < 50; i++)
                daily_budget_force(&b, T0 + i * 17 * USEC_PER_MINUTE, i % 7 + 1);
        assert_int_equal(daily_budget_save(&b, &text), 0);
        assert_non_null(strstr(text, "budget 1 "));

        /* limits come from the config now, the window from the store */
        assert_int_equal(daily_budget_init(&c, 3000, 50), 0);
        assert_int_equal(daily_budget_load(&c, text), 0);
        assert_int_equal(c.limit, 3000);
        uint64_t now = T0 + 20 * USEC_PER_HOUR;
        assert_int_equal(daily_budget_used(&c, now), daily_budget_used(&b, now));
        struct daily_budget same;
        assert_int_equal(daily_budget_init(&same, 5000, 100), 0);
        assert_int_equal(daily_budget_load(&same, text), 0);
        assert_int_equal(daily_budget_next_free(&same, now, 4850, false),
                         daily_budget_next_free(&b, now, 4850, false));
        assert_int_equal(daily_budget_save(&c, &again), 0);

        /* malformed text changes nothing */
        static const char *bad[] = {"",
                                    "budget",
                                    "budget 2 5",
                                    "budget 1 100 99:x",
                                    "budget 1 100 101:1",
                                    "budget 1 5000 5:1",
                                    "budget 1 100 99:1 99:2",
                                    "nonsense"};
        for (size_t i = 0; i < ELEMENTSOF(bad); i++) {
                struct daily_budget d = c;
                assert_int_equal(daily_budget_load(&d, bad[i]), -EBADMSG);
                assert_memory_equal(&d, &c, sizeof(d));
        }
        /* an empty window round-trips too */
        struct daily_budget e;
        _cleanup_free_ char *empty = NULL;
        assert_int_equal(daily_budget_init(&e, 10, 0), 0);
        assert_int_equal(daily_budget_save(&e, &empty), 0);
        assert_int_equal(daily_budget_load(&e, empty), 0);
        assert_int_equal(daily_budget_used(&e, T0), 0);
}

int main(void)
{
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(test_token_bucket),
                cmocka_unit_test(test_daily_limit_and_reserve),
                cmocka_unit_test(test_never_exceeded),
                cmocka_unit_test(test_error_29),
                cmocka_unit_test(test_clock_back),
                cmocka_unit_test(test_save_load),
        };
        return cmocka_run_group_tests(tests, NULL, NULL);
}
