/* test-budget.c — the VK limits as arithmetic (src/budget.c), on a fake clock. A failure here means
 * the daemon would provoke error 6 (too many requests a second) or 29 (daily limit), or would sit
 * idle with quota left. */
#include "test-helpers.h"

#include <inttypes.h>
#include <math.h>

#include "budget.h"

/* A realistic wall clock: 2024-03-04 00:00 Moscow, in µs. */
#define T0 (UINT64_C(1709499600) * USEC_PER_SEC)

#define W_MARGIN RATE_WINDOW_MARGIN_USEC

static void test_rate_window_whole_rate(void **state)
{
        struct rate_window w;
        uint64_t at;

        assert_int_equal(rate_window_init(&w, 3), 0);
        assert_int_equal(w.limit, 3);
        assert_int_equal(w.window_usec, USEC_PER_SEC);

        /* three leave at once; the fourth waits for one of them to be seen leaving */
        for (int i = 0; i < 3; i++)
                assert_int_equal(rate_window_take(&w, T0, &at), 0);
        assert_int_equal(rate_window_take(&w, T0, &at), -EAGAIN);
        assert_true(at == UINT64_MAX);

        /* connecting took 200 ms for the first, 300 for the others: the window counts from
         * when they left, not from when they were handed over */
        rate_window_sent(&w, T0 + 200 * USEC_PER_MSEC);
        /* the two on their way count as leaving now */
        assert_int_equal(rate_window_next(&w, T0 + 200 * USEC_PER_MSEC),
                         T0 + 200 * USEC_PER_MSEC + USEC_PER_SEC + W_MARGIN);
        rate_window_sent(&w, T0 + 300 * USEC_PER_MSEC);
        rate_window_sent(&w, T0 + 300 * USEC_PER_MSEC);
        uint64_t free_at = T0 + 200 * USEC_PER_MSEC + USEC_PER_SEC + W_MARGIN;
        assert_int_equal(rate_window_take(&w, T0 + USEC_PER_SEC, &at), -EAGAIN);
        assert_int_equal(at, free_at);
        assert_int_equal(rate_window_take(&w, free_at - 1, NULL), -EAGAIN);
        assert_int_equal(rate_window_take(&w, free_at, &at), 0);
        assert_int_equal(at, free_at);
        rate_window_sent(&w, free_at);
        /* the next two follow the two that left at 300 ms */
        assert_int_equal(rate_window_next(&w, free_at),
                         T0 + 300 * USEC_PER_MSEC + USEC_PER_SEC + W_MARGIN);

        /* after a long pause the whole window is free again, and no more than that */
        uint64_t t = T0 + USEC_PER_HOUR;
        unsigned n = 0;
        while (rate_window_take(&w, t, NULL) == 0)
                n++;
        assert_int_equal(n, 3);

        assert_int_equal(rate_window_init(&w, 0), -EINVAL);
        assert_int_equal(rate_window_init(&w, -1), -EINVAL);
        assert_int_equal(rate_window_init(&w, NAN), -EINVAL);
        assert_int_equal(rate_window_init(&w, INFINITY), -EINVAL);
}

static void test_rate_window_rounding(void **state)
{
        /* "at most that many in any second": a fraction of a request cannot be sent */
        static const struct {
                double rate;
                unsigned limit;
                uint64_t window_usec;
        } cases[] = {
                {3, 3, USEC_PER_SEC},
                {2.5, 2, USEC_PER_SEC},
                {2.999, 2, USEC_PER_SEC},
                {1, 1, USEC_PER_SEC},
                {1.5, 1, USEC_PER_SEC},
                {20, 20, USEC_PER_SEC},
                {1e6, RATE_WINDOW_MAX, USEC_PER_SEC},
                {0.5, 1, 2 * USEC_PER_SEC},
                {0.3, 1, 3333334},
                {1e-9, 1, USEC_PER_DAY},
        };
        for (size_t i = 0; i < ELEMENTSOF(cases); i++) {
                struct rate_window w;
                assert_int_equal(rate_window_init(&w, cases[i].rate), 0);
                assert_int_equal(w.limit, cases[i].limit);
                assert_int_equal(w.window_usec, cases[i].window_usec);
        }

        /* 0.5: one request, the next two seconds (and the margin) later */
        struct rate_window w;
        uint64_t at;
        assert_int_equal(rate_window_init(&w, 0.5), 0);
        assert_int_equal(rate_window_take(&w, T0, NULL), 0);
        rate_window_sent(&w, T0);
        assert_int_equal(rate_window_take(&w, T0 + USEC_PER_SEC, &at), -EAGAIN);
        assert_int_equal(at, T0 + 2 * USEC_PER_SEC + W_MARGIN);
}

/* One run of the limiter in front of a fake HTTP library: requests arrive at random (alone, in
 * bursts, after pauses), each takes a random time to connect before it leaves (a few fail before
 * leaving), and the limiter is asked again whenever it said to or a request left. */
struct sim {
        uint64_t *departures;
        size_t n_departures;
};

static void simulate(double rate, uint64_t seed, size_t n_requests, uint64_t max_connect_usec,
                     struct sim *out)
{
        struct rate_window w;
        uint64_t rnd = seed, t = T0, next_arrival = T0, wake = UINT64_MAX;
        uint64_t *leave_at = calloc(n_requests, sizeof(uint64_t)); /* taken, not yet left */
        size_t n_pending = 0, arrived = 0, queued = 0;

        assert_non_null(leave_at);
        assert_int_equal(rate_window_init(&w, rate), 0);
        *out = (struct sim){.departures = calloc(n_requests, sizeof(uint64_t))};
        assert_non_null(out->departures);

        while (out->n_departures < n_requests) {
                /* the next event */
                t = wake;
                if (arrived < n_requests && next_arrival < t)
                        t = next_arrival;
                for (size_t i = 0; i < n_pending; i++)
                        if (leave_at[i] < t)
                                t = leave_at[i];
                assert_true(t != UINT64_MAX); /* something always wakes the limiter */

                while (arrived < n_requests && next_arrival <= t) {
                        arrived++;
                        queued++;
                        rnd = rnd * 6364136223846793005ULL + 1442695040888963407ULL;
                        unsigned kind = (rnd >> 61);
                        next_arrival += kind == 0   ? 0 /* a burst */
                                        : kind == 1 ? 3 * USEC_PER_SEC
                                                    : (rnd >> 20) % (400 * USEC_PER_MSEC);
                }
                for (size_t i = 0; i < n_pending;)
                        if (leave_at[i] <= t) {
                                rate_window_sent(&w, t);
                                out->departures[out->n_departures++] = t;
                                leave_at[i] = leave_at[n_pending - 1];
                                n_pending--;
                        } else
                                i++;
                wake = UINT64_MAX;
                while (queued > 0) {
                        uint64_t at;
                        if (rate_window_take(&w, t, &at) < 0) {
                                wake = at;
                                break;
                        }
                        queued--;
                        rnd = rnd * 6364136223846793005ULL + 1442695040888963407ULL;
                        uint64_t connect = max_connect_usec ? (rnd >> 16) % max_connect_usec : 0;
                        if ((rnd >> 60) == 0)
                                connect += 2 * USEC_PER_SEC; /* a slow TLS handshake */
                        leave_at[n_pending++] = t + connect;
                }
        }
        free(leave_at);
}

static void test_rate_window_never_exceeded(void **state)
{
        static const double rates[] = {3, 1, 2.5, 0.5, 20};
        for (size_t r = 0; r < ELEMENTSOF(rates); r++)
                for (uint64_t seed = 1; seed <= 20; seed++) {
                        struct rate_window w;
                        struct sim sim;
                        assert_int_equal(rate_window_init(&w, rates[r]), 0);
                        simulate(rates[r], seed, 300, seed % 2 ? 300 * USEC_PER_MSEC : 0, &sim);
                        /* departures in time order: any N+1 consecutive ones span a whole
                         * window and the margin, so no window holds more than N */
                        for (size_t i = 1; i < sim.n_departures; i++)
                                assert_true(sim.departures[i - 1] <= sim.departures[i]);
                        for (size_t i = 0; i + w.limit < sim.n_departures; i++)
                                if (sim.departures[i + w.limit] - sim.departures[i] <
                                    w.window_usec + W_MARGIN)
                                        fail_msg("rate %g seed %" PRIu64 ": departures %zu and %zu "
                                                 "are %" PRIu64 " us apart",
                                                 rates[r], seed, i, i + w.limit,
                                                 sim.departures[i + w.limit] - sim.departures[i]);
                        free(sim.departures);
                }
}

static void test_rate_window_not_slower_than_needed(void **state)
{
        /* a backlog and instant connections: N leave at once, the next N one window and the
         * margin later, and so on; nobody waits longer */
        struct rate_window w;
        uint64_t t = T0;
        unsigned left = 0;

        assert_int_equal(rate_window_init(&w, 3), 0);
        while (left < 30) {
                uint64_t at;
                if (rate_window_take(&w, t, &at) == 0) {
                        assert_int_equal(t, T0 + (left / 3) * (USEC_PER_SEC + W_MARGIN));
                        rate_window_sent(&w, t);
                        left++;
                } else
                        t = at;
        }
}

static void test_rate_window_slow_down_and_retries(void **state)
{
        struct rate_window w;
        uint64_t at;

        assert_int_equal(rate_window_init(&w, 3), 0);
        assert_int_equal(rate_window_take(&w, T0, NULL), 0);
        rate_window_sent(&w, T0);
        /* error 6: a whole window from now before anything leaves */
        rate_window_slow_down(&w, T0 + 100 * USEC_PER_MSEC);
        assert_int_equal(rate_window_take(&w, T0 + 200 * USEC_PER_MSEC, &at), -EAGAIN);
        assert_int_equal(at, T0 + 100 * USEC_PER_MSEC + USEC_PER_SEC + W_MARGIN);
        assert_int_equal(rate_window_next(&w, at), at);

        /* a request sent twice counts twice, but the second was never taken: one unsent left,
         * which fills the window with the resend */
        assert_int_equal(rate_window_init(&w, 3), 0);
        for (int i = 0; i < 3; i++)
                assert_int_equal(rate_window_take(&w, T0, NULL), 0);
        rate_window_sent(&w, T0);
        rate_window_record(&w, T0 + 10);
        rate_window_sent(&w, T0 + 20);
        assert_int_equal(w.unsent, 1);
        assert_int_equal(rate_window_next(&w, T0 + 30), T0 + 10 + USEC_PER_SEC + W_MARGIN);
        rate_window_sent(&w, T0 + 40);
        assert_int_equal(w.unsent, 0);
}

static void test_rate_window_clock_back(void **state)
{
        struct rate_window w;
        uint64_t at;

        /* three left at T0+5 s, then the clock reads T0: they count as just now, so the next
         * waits one window from here, not five seconds more, and not nothing */
        assert_int_equal(rate_window_init(&w, 3), 0);
        for (int i = 0; i < 3; i++) {
                assert_int_equal(rate_window_take(&w, T0 + 5 * USEC_PER_SEC, NULL), 0);
                rate_window_sent(&w, T0 + 5 * USEC_PER_SEC);
        }
        assert_int_equal(rate_window_take(&w, T0, &at), -EAGAIN);
        assert_int_equal(at, T0 + USEC_PER_SEC + W_MARGIN);
        assert_int_equal(rate_window_take(&w, at, NULL), 0);
        rate_window_sent(&w, at);
        /* a departure stamped before the newest counts as the newest */
        assert_int_equal(rate_window_take(&w, at + USEC_PER_SEC + W_MARGIN, NULL), 0);
        rate_window_sent(&w, T0);
        assert_int_equal(w.log[w.n - 1], at);
}

static void test_rate_window_save_load(void **state)
{
        /* process A: monotonic clock near 1000 s, realtime T0 */
        const uint64_t mono_a = 1000 * USEC_PER_SEC, mono_b = 7 * USEC_PER_SEC;
        struct rate_window a, b;
        _cleanup_free_ char *text = NULL;
        uint64_t at;

        assert_int_equal(rate_window_init(&a, 3), 0);
        /* an old one, out of the window by the time of the save */
        assert_int_equal(rate_window_take(&a, mono_a - 5 * USEC_PER_SEC, NULL), 0);
        rate_window_sent(&a, mono_a - 5 * USEC_PER_SEC);
        for (int i = 0; i < 3; i++)
                assert_int_equal(rate_window_take(&a, mono_a + i * 100 * USEC_PER_MSEC, NULL), 0);
        rate_window_sent(&a, mono_a + 10 * USEC_PER_MSEC);
        rate_window_sent(&a, mono_a + 110 * USEC_PER_MSEC);
        /* the third is still on its way when A exits at mono_a + 300 ms */
        assert_int_equal(
                rate_window_save(&a, mono_a + 300 * USEC_PER_MSEC, T0 + 300 * USEC_PER_MSEC, &text),
                0);
        char expect[128];
        snprintf(expect, sizeof(expect), "window 1 %" PRIu64 " %" PRIu64 " %" PRIu64,
                 T0 + 10 * USEC_PER_MSEC, T0 + 110 * USEC_PER_MSEC, T0 + 300 * USEC_PER_MSEC);
        assert_string_equal(text, expect);

        /* process B starts 100 ms later with another monotonic clock: it continues A's window */
        uint64_t now_b = mono_b, rt_b = T0 + 400 * USEC_PER_MSEC;
        assert_int_equal(rate_window_init(&b, 3), 0);
        assert_int_equal(rate_window_load(&b, text, now_b, rt_b), 0);
        assert_int_equal(b.n, 3);
        assert_int_equal(rate_window_take(&b, now_b, &at), -EAGAIN);
        /* A's first of the three left 390 ms before B's now */
        assert_int_equal(at, now_b - 390 * USEC_PER_MSEC + USEC_PER_SEC + W_MARGIN);

        /* the rate went down to 2 meanwhile: the newest two are what matter */
        struct rate_window c;
        assert_int_equal(rate_window_init(&c, 2), 0);
        assert_int_equal(rate_window_load(&c, text, now_b, rt_b), 0);
        assert_int_equal(c.n, 2);
        assert_int_equal(rate_window_next(&c, now_b),
                         now_b - 290 * USEC_PER_MSEC + USEC_PER_SEC + W_MARGIN);

        /* the realtime clock went back since the save: all of it counts as now */
        struct rate_window d;
        assert_int_equal(rate_window_init(&d, 3), 0);
        assert_int_equal(rate_window_load(&d, text, now_b, T0 - USEC_PER_HOUR), 0);
        assert_int_equal(rate_window_next(&d, now_b), now_b + USEC_PER_SEC + W_MARGIN);

        /* saved long ago: nothing holds back, and a save of it is empty */
        struct rate_window e;
        _cleanup_free_ char *empty = NULL;
        assert_int_equal(rate_window_init(&e, 3), 0);
        assert_int_equal(rate_window_load(&e, text, now_b, T0 + USEC_PER_HOUR), 0);
        assert_int_equal(rate_window_next(&e, now_b), now_b);
        assert_int_equal(rate_window_save(&e, now_b, T0 + USEC_PER_HOUR, &empty), 0);
        assert_string_equal(empty, "window 1");
        assert_int_equal(rate_window_load(&e, empty, now_b, T0 + USEC_PER_HOUR), 0);

        /* malformed text changes nothing */
        static const char *bad[] = {"",           "window",      "window 2 5",
                                    "window 1 x", "window 1 -5", "window 1 5x",
                                    "bucket 1 5", "window 1 5,6"};
        for (size_t i = 0; i < ELEMENTSOF(bad); i++) {
                struct rate_window f = b;
                assert_int_equal(rate_window_load(&f, bad[i], now_b, rt_b), -EBADMSG);
                assert_memory_equal(&f, &b, sizeof(f));
        }
        /* more than any window can have written */
        struct strbuf many = {};
        assert_int_equal(strbuf_appendf(&many, "window 1"), 0);
        for (int i = 0; i < 2 * RATE_WINDOW_MAX + 1; i++)
                assert_int_equal(strbuf_appendf(&many, " %d", i + 1), 0);
        struct rate_window g = b;
        assert_int_equal(rate_window_load(&g, many.buf, now_b, rt_b), -EBADMSG);
        strbuf_done(&many);
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
                cmocka_unit_test(test_rate_window_whole_rate),
                cmocka_unit_test(test_rate_window_rounding),
                cmocka_unit_test(test_rate_window_never_exceeded),
                cmocka_unit_test(test_rate_window_not_slower_than_needed),
                cmocka_unit_test(test_rate_window_slow_down_and_retries),
                cmocka_unit_test(test_rate_window_clock_back),
                cmocka_unit_test(test_rate_window_save_load),
                cmocka_unit_test(test_daily_limit_and_reserve),
                cmocka_unit_test(test_never_exceeded),
                cmocka_unit_test(test_error_29),
                cmocka_unit_test(test_clock_back),
                cmocka_unit_test(test_save_load),
        };
        return cmocka_run_group_tests(tests, NULL, NULL);
}
