/* test-scheduler.c — the quota-aware scheduler (src/scheduler.c), driven on a fake clock.
 * A failure here means a resident hears of a post later than the budget allows, a quiet community
 * goes unpolled for longer than max_interval, or the daemon runs into VK's error 29. */
#include <math.h>

#include "test-helpers.h"

#include "scheduler.h"

#define T0 (UINT64_C(1709499600) * USEC_PER_SEC) /* Monday 2024-03-04 00:00 Moscow */
#define ZEROS48                                                                                    \
        " 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 "  \
        "0 0 0 "                                                                                   \
        "0 0"

/* A deterministic world: community k posts every period[k] seconds, offset[k] seconds after the
 * multiples of it, only between local hours from[k] and to[k] (0 and 24: all day), and every
 * busy_period[k] seconds (0: never) in [busy_from[k], busy_to[k]) (unix seconds), a spell of its
 * own. */
struct world {
        size_t n;
        int64_t id[64];
        unsigned priority[64];
        int64_t period[64], offset[64];
        int from[64], to[64];
        int64_t busy_period[64], busy_from[64], busy_to[64];
        uint64_t last_poll[64];
        /* what happened */
        unsigned polls[64];
        uint64_t min_gap[64], max_gap[64];
        uint64_t *poll_times; /* every poll, for window checks */
        size_t n_polls, alloc_polls;
};

static bool posts_at(const struct world *w, size_t k, int64_t t)
{
        int64_t lh = ((t + 3 * 3600) % 86400) / 3600;
        if (w->busy_period[k] && t >= w->busy_from[k] && t < w->busy_to[k] &&
            t % w->busy_period[k] == 0)
                return true;
        return (t - w->offset[k]) % w->period[k] == 0 && lh >= w->from[k] && lh < w->to[k];
}

static size_t world_find(const struct world *w, int64_t id)
{
        for (size_t k = 0; k < w->n; k++)
                if (w->id[k] == id)
                        return k;
        fail_msg("unknown id %lld", (long long)id);
        return SIZE_MAX;
}

/* Runs the daemon's loop from *t to until. */
static void drive(struct scheduler *s, struct world *w, uint64_t *t, uint64_t until)
{
        while (*t < until) {
                uint64_t next = scheduler_next_wakeup(s, *t);
                assert_true(next >= *t);
                if (next >= until) {
                        *t = until;
                        break;
                }
                *t = next;
                for (;;) {
                        int64_t ids[25];
                        size_t n = 99;
                        assert_int_equal(scheduler_due(s, *t, ids, 25, &n), 0);
                        assert_true(n <= 25);
                        if (n == 0)
                                break;
                        for (size_t i = 0; i < n; i++) {
                                size_t k = world_find(w, ids[i]);
                                int64_t dates[200];
                                size_t nd = 0;
                                assert_int_equal(scheduler_record_poll(s, ids[i], *t), 0);
                                if (w->last_poll[k] != 0) {
                                        uint64_t gap = *t - w->last_poll[k];
                                        if (w->min_gap[k] == 0 || gap < w->min_gap[k])
                                                w->min_gap[k] = gap;
                                        if (gap > w->max_gap[k])
                                                w->max_gap[k] = gap;
                                        for (int64_t p =
                                                     (int64_t)(w->last_poll[k] / USEC_PER_SEC) + 1;
                                             p <= (int64_t)(*t / USEC_PER_SEC) && nd < 200; p++)
                                                if (posts_at(w, k, p))
                                                        dates[nd++] = p;
                                }
                                assert_int_equal(scheduler_observe(s, ids[i], *t, dates, nd, 0), 0);
                                w->last_poll[k] = *t;
                                w->polls[k]++;
                                assert_non_null(greedy_realloc((void **)&w->poll_times,
                                                               &w->alloc_polls, w->n_polls + 1,
                                                               sizeof(uint64_t)));
                                w->poll_times[w->n_polls++] = *t;
                        }
                }
        }
}

static unsigned max_in_window(const struct world *w)
{
        unsigned best = 0;
        for (size_t i = 0, j = 0; i < w->n_polls; i++) {
                while (w->poll_times[j] + USEC_PER_DAY <= w->poll_times[i])
                        j++;
                if (i - j + 1 > best)
                        best = (unsigned)(i - j + 1);
        }
        return best;
}

static void world_add(struct world *w, struct scheduler *s, int64_t period, int from, int to,
                      unsigned priority)
{
        size_t k = w->n++;
        w->id[k] = -(int64_t)(1000 + k);
        w->period[k] = period;
        w->from[k] = from;
        w->to[k] = to;
        w->priority[k] = priority;
        assert_int_equal(scheduler_add(s, w->id[k], priority), 0);
}

static struct scheduler *new_scheduler(unsigned budget, double jitter)
{
        struct scheduler_params p;
        struct scheduler *s = NULL;
        scheduler_params_default(&p);
        p.daily_budget = budget;
        p.reserve = budget / 50;
        p.jitter = jitter;
        p.seed = 7;
        assert_int_equal(scheduler_new(&p, &s), 0);
        return s;
}

static void test_params(void **state)
{
        struct scheduler_params p;
        struct scheduler *s = NULL;
        scheduler_params_default(&p);
        assert_int_equal(p.daily_budget, 5000);
        p.reserve = 5000;
        assert_int_equal(scheduler_new(&p, &s), -EINVAL);
        scheduler_params_default(&p);
        p.max_interval_usec = p.min_interval_usec - 1;
        assert_int_equal(scheduler_new(&p, &s), -EINVAL);
        scheduler_params_default(&p);
        p.jitter = 0.9;
        assert_int_equal(scheduler_new(&p, &s), -EINVAL);
        assert_null(s);

        s = new_scheduler(5000, 0.1);
        assert_int_equal(scheduler_add(s, -1, 0), -EINVAL);
        assert_int_equal(scheduler_add(s, -1, 11), -EINVAL);
        assert_int_equal(scheduler_add(s, 0, 1), -EINVAL);
        assert_int_equal(scheduler_add(s, -1, 1), 0);
        assert_int_equal(scheduler_add(s, -1, 5), 0); /* reload: new priority, same community */
        assert_int_equal(scheduler_size(s), 1);
        assert_int_equal(scheduler_remove(s, -2), -ENOENT);
        assert_int_equal(scheduler_remove(s, -1), 0);
        assert_int_equal(scheduler_next_wakeup(s, T0), UINT64_MAX);
        assert_int_equal(scheduler_record_poll(s, -1, T0), -ENOENT);
        scheduler_free(s);
}

static void test_first_sight_and_bounds(void **state)
{
        /* A flood of posts and a silent wall: the first is polled no more often than
         * min_interval, the second still at least every max_interval (jitter never stretches
         * it). */
        _cleanup_scheduler_ struct scheduler *s = new_scheduler(1000, 0.3);
        struct world w = {};
        uint64_t t = T0;
        int64_t ids[4];
        size_t n;

        world_add(&w, s, 5, 0, 24, 10);          /* a post every 5 s */
        world_add(&w, s, 86400 * 100, 0, 24, 1); /* nothing */
        /* first sight: both due at once */
        assert_int_equal(scheduler_due(s, t, ids, 4, &n), 0);
        assert_int_equal(n, 2);
        assert_int_equal(scheduler_next_wakeup(s, t), t);

        drive(s, &w, &t, T0 + 3 * USEC_PER_DAY);
        assert_true(w.min_gap[0] >= 2 * USEC_PER_MINUTE);
        assert_true(w.max_gap[0] <= 2 * USEC_PER_MINUTE + USEC_PER_SEC);
        assert_true(w.max_gap[1] <= 6 * USEC_PER_HOUR);
        assert_true(w.min_gap[1] >= 2 * USEC_PER_MINUTE);
        print_message("polls in 3 days: flood %u, silent %u\n", w.polls[0], w.polls[1]);
        assert_true(w.polls[0] > 2 * w.polls[1]);
        free(w.poll_times);
}

static void test_allocation_and_priority(void **state)
{
        /* Equal priority: busier communities are polled more, but sub-linearly (square-root law
         * at most: 16× the posts, at most about 4× the polls). Equal rates: priority 10 is polled
         * more than 1. */
        _cleanup_scheduler_ struct scheduler *s = new_scheduler(600, 0.1);
        struct world w = {};
        uint64_t t = T0;

        world_add(&w, s, 86400 / 4, 0, 24, 1);  /* 4 a day */
        world_add(&w, s, 86400 / 16, 0, 24, 1); /* 16 a day */
        world_add(&w, s, 86400 / 64, 0, 24, 1); /* 64 a day */
        world_add(&w, s, 86400 / 16, 0, 24, 10);
        for (int i = 0; i < 12; i++) /* the rest of a watch list: 2 a day */
                world_add(&w, s, 86400 / 2, 0, 24, 1);
        drive(s, &w, &t, T0 + 2 * USEC_PER_DAY);
        unsigned before[64];
        memcpy(before, w.polls, sizeof(before));
        drive(s, &w, &t, T0 + 5 * USEC_PER_DAY);
        double p4 = w.polls[0] - before[0], p16 = w.polls[1] - before[1],
               p64 = w.polls[2] - before[2], p16hi = w.polls[3] - before[3],
               p2 = w.polls[4] - before[4];
        print_message(
                "polls in 3 days: 2/d %.0f, 4/d %.0f, 16/d %.0f, 64/d %.0f, 16/d prio 10 %.0f\n",
                p2, p4, p16, p64, p16hi);
        assert_true(p16 > 1.3 * p4 && p64 > 1.3 * p16);
        /* 16× the posts: √16 = 4× the polls by the square-root law, fewer where the soft
         * deadline holds the quieter ones in (about 2.4× here) and the max_interval floor; 16×
         * would be proportional, 1× round robin */
        assert_true(p64 / p4 > 1.8 && p64 / p4 < 8);
        assert_true(p16hi > 1.5 * p16);
        assert_true(p4 >= p2);
        free(w.poll_times);
}

static void test_budget_never_exceeded(void **state)
{
        /* 60 communities posting every few minutes want far more than 500 polls a day. */
        _cleanup_scheduler_ struct scheduler *s = new_scheduler(500, 0.1);
        struct world w = {};
        uint64_t t = T0;
        bool ok;
        unsigned needed;

        for (int i = 0; i < 60; i++)
                world_add(&w, s, 300 + 60 * i, 0, 24, 1 + i % 10);
        scheduler_coverage(s, &ok, &needed);
        assert_true(ok); /* 60 × 4 = 240 ≤ 490 */
        assert_int_equal(needed, 240);
        drive(s, &w, &t, T0 + 4 * USEC_PER_DAY);
        assert_true(max_in_window(&w) <= 500 - 10); /* the reserve stays for paging */
        assert_true(max_in_window(&w) >= 450);      /* and the budget is used */
        /* paging may take the reserve, but no more */
        struct scheduler_status st;
        scheduler_status(s, t, &st);
        assert_true(st.used <= 490);
        assert_int_equal(scheduler_record_extra(s, t, 500 - st.used + 1), -EDQUOT);
        assert_int_equal(scheduler_record_extra(s, t, 500 - st.used), 0);
        free(w.poll_times);
}

static void test_coverage_warning(void **state)
{
        /* 300 communities at max_interval 6 h need 1200 calls a day; with 500 the daemon must say
         * so, and still poll every community, evenly, without exceeding the budget. */
        _cleanup_scheduler_ struct scheduler *s = new_scheduler(500, 0.1);
        struct world w = {};
        uint64_t t = T0;
        bool ok = true;
        unsigned needed = 0;

        for (int i = 0; i < 64; i++)
                world_add(&w, s, 3600 * (1 + i % 5), 0, 24, 1);
        for (int i = 64; i < 300; i++)
                assert_int_equal(scheduler_add(s, -(int64_t)(1000 + i), 1), 0);
        scheduler_coverage(s, &ok, &needed);
        assert_false(ok);
        assert_int_equal(needed, 1200);

        /* the unobserved 236 are polled too: drive only tracks the world's 64, so count the
         * budget through status */
        uint64_t until = T0 + 3 * USEC_PER_DAY;
        while (t < until) {
                t = scheduler_next_wakeup(s, t);
                if (t >= until)
                        break;
                int64_t ids[25];
                size_t n;
                assert_int_equal(scheduler_due(s, t, ids, 25, &n), 0);
                for (size_t i = 0; i < n; i++) {
                        assert_int_equal(scheduler_record_poll(s, ids[i], t), 0);
                        for (size_t k = 0; k < w.n; k++)
                                if (w.id[k] == ids[i])
                                        w.polls[k]++;
                        assert_int_equal(scheduler_observe(s, ids[i], t, NULL, 0, 0), 0);
                }
                struct scheduler_status st;
                scheduler_status(s, t, &st);
                assert_true(st.used <= 490);
        }
        /* 490 a day over 300 communities: each about 1.6 a day, none starved */
        for (size_t k = 0; k < w.n; k++)
                assert_true(w.polls[k] >= 3);
}

static void test_learning_from_empty(void **state)
{
        /* Nothing known at the start. One community posts every 20 minutes in office hours
         * (9-18 local), one twice a day. After three days the scheduler knows the first is busy
         * in the day and quiet at night, and polls it far more than the second. */
        _cleanup_scheduler_ struct scheduler *s = new_scheduler(300, 0.1);
        struct world w = {};
        uint64_t t = T0;
        double r0[24], r1[24];

        world_add(&w, s, 1200, 9, 18, 1);
        world_add(&w, s, 43200, 0, 24, 1);
        for (int i = 0; i < 10; i++)
                world_add(&w, s, 86400 / 3, 0, 24, 1);
        assert_int_equal(scheduler_get_rates(s, w.id[0], t, r0), 0);
        assert_int_equal(scheduler_get_rates(s, w.id[1], t, r1), 0);
        assert_true(fabs(r0[12] - r1[12]) < 1e-9); /* empty: alike */

        drive(s, &w, &t, T0 + 3 * USEC_PER_DAY);
        assert_int_equal(scheduler_get_rates(s, w.id[0], t, r0), 0);
        assert_int_equal(scheduler_get_rates(s, w.id[1], t, r1), 0);
        double d0 = 0, d1 = 0;
        for (int h = 0; h < 24; h++) {
                d0 += r0[h];
                d1 += r1[h];
        }
        print_message("learnt: busy %.1f a day (true 27), quiet %.1f (true 2); busy at noon "
                      "%.2f/h, at 3 am "
                      "%.3f/h\n",
                      d0, d1, r0[12], r0[3]);
        assert_true(d0 > 15 && d0 < 40);
        assert_true(d1 > 0.5 && d1 < 4);
        assert_true(r0[12] > 3 * r0[3]);

        unsigned before0 = w.polls[0], before1 = w.polls[1];
        drive(s, &w, &t, T0 + 5 * USEC_PER_DAY);
        print_message("polls in 2 days: busy %u, quiet %u\n", w.polls[0] - before0,
                      w.polls[1] - before1);
        /* 300 a day for 12 walls is round robin every hour: the bound polls the quiet one every
         * 1.75 h at least (27 in 2 days, less the jitter), the busy one is polled more */
        assert_true(w.polls[0] - before0 > (w.polls[1] - before1) * 4 / 3);
        assert_true(w.max_gap[1] <= 1.75 * USEC_PER_HOUR + USEC_PER_SEC);

        double unseen;
        assert_int_equal(scheduler_expected_unseen(s, w.id[0], t, &unseen), 0);
        assert_true(unseen >= 0 && unseen < 5);

        /* the busy one is polled more in office hours than at night (asked last: the scheduler
         * takes the time it is asked at for now) */
        uint64_t iv_noon, iv_night;
        assert_int_equal(
                scheduler_interval(s, w.id[0], T0 + 5 * USEC_PER_DAY + 9 * USEC_PER_HOUR, &iv_noon),
                0);
        assert_int_equal(scheduler_interval(s, w.id[0], T0 + 5 * USEC_PER_DAY + 21 * USEC_PER_HOUR,
                                            &iv_night),
                         0);
        print_message("intervals: 9 am %.1f min, 9 pm %.1f min\n", iv_noon / 6e7, iv_night / 6e7);
        /* a rate 4× lower: 2× by the square-root law, less where the deadline holds it in */
        assert_true(iv_noon * 3 / 2 < iv_night);
        free(w.poll_times);
}

static void test_history_on_first_sight(void **state)
{
        /* The first page of a wall shows the last 20 posts, one every 12 h: the rate is known
         * before the second poll. */
        _cleanup_scheduler_ struct scheduler *s = new_scheduler(5000, 0.1);
        int64_t dates[20];
        double r[24], d = 0;
        int64_t now_sec = (int64_t)(T0 / USEC_PER_SEC);

        assert_int_equal(scheduler_add(s, -5, 1), 0);
        for (int i = 0; i < 20; i++)
                dates[i] = now_sec - 3600 - i * 43200;
        assert_int_equal(scheduler_record_poll(s, -5, T0), 0);
        assert_int_equal(scheduler_observe(s, -5, T0, dates, 20, now_sec + 1), -EINVAL);
        assert_int_equal(scheduler_observe(s, -5, T0, dates, 20, dates[19]), 0);
        assert_int_equal(scheduler_get_rates(s, -5, T0, r), 0);
        for (int h = 0; h < 24; h++)
                d += r[h];
        assert_true(d > 1.3 && d < 3); /* 19 posts in 9.5 days */
        assert_int_equal(scheduler_observe(s, -6, T0, dates, 20, 0), -ENOENT);
}

static void test_first_sweep_replans_at_once(void **state)
{
        /* Six quiet walls (4 posts in 20 days each) and a budget of 5000: round robin could poll
         * each every 1.8 min. What the first sweep's pages show must change the plan at once,
         * not at the next periodic refit, or the budget lies idle and new posts wait. */
        _cleanup_scheduler_ struct scheduler *s = NULL;
        struct scheduler_params p;
        int64_t ids[25], dates[4];
        int64_t now_sec = (int64_t)(T0 / USEC_PER_SEC);
        size_t n;

        scheduler_params_default(&p);
        p.min_interval_usec = 10 * USEC_PER_SEC; /* the demo's: the budget decides, not this */
        p.seed = 7;
        assert_int_equal(scheduler_new(&p, &s), 0);
        for (int i = 0; i < 6; i++)
                assert_int_equal(scheduler_add(s, -1 - i, 1), 0);
        assert_int_equal(scheduler_due(s, T0, ids, 25, &n), 0);
        assert_int_equal(n, 6);
        for (int k = 0; k < 4; k++) /* 2, 6, 12 and 20 days ago */
                dates[k] = now_sec - (k + 1) * (k + 2) * 86400;
        for (size_t i = 0; i < n; i++) {
                assert_int_equal(scheduler_record_poll(s, ids[i], T0), 0);
                assert_int_equal(scheduler_observe(s, ids[i], T0, dates, 4, dates[3]), 0);
        }
        uint64_t next = scheduler_next_wakeup(s, T0);
        print_message("next poll after the first sweep: %.1f min\n",
                      (double)(next - T0) / USEC_PER_MINUTE);
        assert_true(next <= T0 + 2 * USEC_PER_MINUTE + 10 * USEC_PER_SEC);
}

static void test_jitter_bounds(void **state)
{
        /* Known constant rates: each interval is the planned one × (1 ± 0.2), and they vary. */
        _cleanup_scheduler_ struct scheduler *s = new_scheduler(2000, 0.2);
        uint64_t t = T0, planned[10] = {}, last[10] = {};
        double flat[24], lo = INFINITY, hi = 0;

        for (int h = 0; h < 24; h++)
                flat[h] = 0.5;
        for (int i = 0; i < 10; i++) {
                assert_int_equal(scheduler_add(s, -1 - i, 1), 0);
                assert_int_equal(scheduler_set_rates(s, -1 - i, flat), 0);
        }
        flat[3] = -1;
        assert_int_equal(scheduler_set_rates(s, -1, flat), -EINVAL);
        while (t < T0 + 4 * USEC_PER_DAY) {
                int64_t ids[25];
                size_t n;
                t = scheduler_next_wakeup(s, t);
                assert_int_equal(scheduler_due(s, t, ids, 25, &n), 0);
                for (size_t i = 0; i < n; i++) {
                        size_t k = (size_t)(-1 - ids[i]);
                        if (last[k] != 0 && t > T0 + USEC_PER_DAY) {
                                double ratio = (double)(t - last[k]) / (double)planned[k];
                                lo = ratio < lo ? ratio : lo;
                                hi = ratio > hi ? ratio : hi;
                        }
                        assert_int_equal(scheduler_record_poll(s, ids[i], t), 0);
                        assert_int_equal(scheduler_interval(s, ids[i], t, &planned[k]), 0);
                        last[k] = t;
                }
        }
        print_message("interval / planned: %.3f .. %.3f\n", lo, hi);
        /* a refit between two polls may move the plan a little */
        assert_true(lo >= 0.8 - 0.03 && hi <= 1.2 + 0.03);
        assert_true(hi - lo > 0.2);
}

static void test_quota_exhausted(void **state)
{
        /* VK said 29: nothing is handed out until calls age out of the window. */
        _cleanup_scheduler_ struct scheduler *s = new_scheduler(1000, 0.1);
        int64_t ids[25];
        size_t n;

        assert_int_equal(scheduler_add(s, -1, 1), 0);
        assert_int_equal(scheduler_due(s, T0, ids, 25, &n), 0);
        assert_int_equal(n, 1);
        assert_int_equal(scheduler_record_poll(s, -1, T0), 0);
        scheduler_quota_exhausted(s, T0 + USEC_PER_MINUTE);
        uint64_t next = scheduler_next_wakeup(s, T0 + 7 * USEC_PER_HOUR);
        assert_true(next >= T0 + USEC_PER_DAY);
        assert_int_equal(scheduler_due(s, T0 + 7 * USEC_PER_HOUR, ids, 25, &n), 0);
        assert_int_equal(n, 0);
        assert_int_equal(scheduler_due(s, next + USEC_PER_HOUR, ids, 25, &n), 0);
        assert_int_equal(n, 1);
}

static void test_state_round_trip(void **state)
{
        _cleanup_scheduler_ struct scheduler *s = new_scheduler(800, 0.1);
        _cleanup_scheduler_ struct scheduler *r = new_scheduler(800, 0.1);
        _cleanup_free_ char *text = NULL, *again = NULL;
        struct world w = {};
        uint64_t t = T0;

        for (int i = 0; i < 8; i++)
                world_add(&w, s, 600 * (i + 1), 6, 22, 1 + i);
        drive(s, &w, &t, T0 + 2 * USEC_PER_DAY + 5 * USEC_PER_HOUR);
        assert_int_equal(scheduler_save(s, &text), 0);

        /* a restart with one community dropped from the watch list and one new */
        for (int i = 0; i < 7; i++)
                assert_int_equal(scheduler_add(r, w.id[i], 1 + i), 0);
        assert_int_equal(scheduler_add(r, -999, 1), 0);
        assert_int_equal(scheduler_load(r, text), 0);

        struct scheduler_status a, b;
        scheduler_status(s, t, &a);
        scheduler_status(r, t, &b);
        assert_int_equal(a.used, b.used);
        assert_int_equal(b.n_never_polled, 1);
        for (int i = 0; i < 7; i++) {
                double ra[24], rb[24];
                assert_int_equal(scheduler_get_rates(s, w.id[i], t, ra), 0);
                assert_int_equal(scheduler_get_rates(r, w.id[i], t, rb), 0);
                /* within 3 %: the shared rhythms take an EM step at each refit, and the two
                 * watch lists differ by a wall */
                for (int h = 0; h < 24; h++)
                        assert_true(fabs(ra[h] - rb[h]) <= 0.03 * ra[h] + 1e-3);
        }
        /* the restored ones are not due at once (no burst after a restart), the new one is: it
         * is first as soon as the window (the restored budget) has room for more than the walls
         * at their floor */
        int64_t ids[25];
        size_t n = 0;
        uint64_t when = t;
        for (;;) {
                when = scheduler_next_wakeup(r, when);
                assert_true(when < t + 30 * USEC_PER_MINUTE);
                assert_int_equal(scheduler_due(r, when, ids, 25, &n), 0);
                bool found = false;
                for (size_t i = 0; i < n; i++)
                        found = found || ids[i] == -999;
                if (found)
                        break;
                for (size_t i = 0; i < n; i++)
                        assert_int_equal(scheduler_record_poll(r, ids[i], when), 0);
        }
        assert_int_equal(ids[0], -999);

        /* saving what was loaded gives the same per-community lines */
        assert_int_equal(scheduler_save(r, &again), 0);
        assert_non_null(strstr(again, "scheduler 1\nbudget 1 "));

        /* malformed state is refused and changes nothing */
        _cleanup_free_ char *before = NULL, *after = NULL;
        assert_int_equal(scheduler_save(r, &before), 0);
        static const char *bad[] = {"", "scheduler 2\n", "scheduler 1\nbudget 1 0\n",
                                    "scheduler 1\nbudget 1 0\nglobal 1 2 3\n",
                                    "scheduler 1\nbudget 1 0\nglobal 0" /* too short */};
        for (size_t i = 0; i < ELEMENTSOF(bad); i++)
                assert_int_equal(scheduler_load(r, bad[i]), -EBADMSG);
        char *truncated = strndup(text, strlen(text) - 7);
        assert_int_equal(scheduler_load(r, truncated), -EBADMSG);
        free(truncated);
        assert_int_equal(
                scheduler_load(r, "scheduler 1\nbudget 1 0\nglobal 0" ZEROS48 "\nmix 1 2\n"),
                -EBADMSG);
        assert_int_equal(scheduler_save(r, &after), 0);
        assert_string_equal(before, after);

        /* what an older version saved (no shared rhythms, no short-term level) still loads */
        assert_int_equal(scheduler_load(r, "scheduler 1\nbudget 1 0\nglobal 0" ZEROS48 "\n"
                                           "c -1 1 1 1" ZEROS48 "\n"),
                         0);
        free(w.poll_times);
}

/* Drives w as drive() does and returns the longest wait of any post of community k found in
 * [from, until): the time from the post to the poll that found it; their mean in *ret_mean when
 * not NULL. */
static uint64_t waits(struct scheduler *s, struct world *w, size_t k, uint64_t *t, uint64_t until,
                      double *ret_mean)
{
        uint64_t worst = 0, prev = w->last_poll[k];
        double sum = 0;
        size_t n = 0;
        while (*t < until) {
                drive(s, w, t, *t + 5 * USEC_PER_MINUTE < until ? *t + 5 * USEC_PER_MINUTE : until);
                if (w->last_poll[k] == prev)
                        continue;
                for (int64_t p = (int64_t)(prev / USEC_PER_SEC) + 1;
                     p <= (int64_t)(w->last_poll[k] / USEC_PER_SEC); p++)
                        if (posts_at(w, k, p)) {
                                uint64_t wait = w->last_poll[k] - (uint64_t)p * USEC_PER_SEC;
                                worst = wait > worst ? wait : worst;
                                sum += (double)wait;
                                n++;
                        }
                prev = w->last_poll[k];
        }
        if (ret_mean)
                *ret_mean = n > 0 ? sum / (double)n : 0;
        return worst;
}

static void test_bound_priority_and_max_interval(void **state)
{
        /* 60 walls at 1000 a day: round robin every 1.5 h, so none waits more than the bound
         * of 1.75 × that, 2.62 h; a priority-4 wall half as long; a watch's own max_interval of
         * 90 min is kept however quiet its wall is; and the budget is never exceeded. Most walls
         * post twice a week, five every 10 minutes in office hours. (The bounds and the
         * max_interval cost 565 polls a day here, just under 60 % of the budget: more, and the
         * bounds would be stretched to fit.) */
        _cleanup_scheduler_ struct scheduler *s = new_scheduler(1000, 0.1);
        struct world w = {};
        uint64_t t = T0;

        for (int i = 0; i < 60; i++)
                world_add(&w, s, i < 5 ? 600 : 86400 * 7 / 2 + 7 * i, i < 5 ? 9 : 0,
                          i < 5 ? 18 : 24, i == 10 ? 4 : 1);
        assert_int_equal(scheduler_set_max_interval(s, w.id[11], 90 * USEC_PER_MINUTE), 0);
        assert_int_equal(scheduler_set_max_interval(s, w.id[11], USEC_PER_MINUTE), -EINVAL);
        assert_int_equal(scheduler_set_max_interval(s, -424242, USEC_PER_HOUR), -ENOENT);
        drive(s, &w, &t, T0 + 3 * USEC_PER_DAY);

        double rr_h = 60 * 24 / (980 * 0.98), bound_h = 1.75 * rr_h;
        uint64_t longest = 0;
        for (size_t k = 0; k < w.n; k++)
                if (k != 10 && k != 11 && w.max_gap[k] > longest)
                        longest = w.max_gap[k];
        print_message("longest gap %.2f h (bound %.2f h); priority 4: %.2f h; max_interval 90m: "
                      "%.1f min; busiest 24 h %u\n",
                      longest / 3.6e9, bound_h, w.max_gap[10] / 3.6e9, w.max_gap[11] / 6e7,
                      max_in_window(&w));
        /* The busy walls spend the whole planned budget here: a wall at its floor then takes
         * the paging reserve rather than wait for the window, and VK's limit is never reached. */
        uint64_t slack = USEC_PER_MINUTE;
        assert_true(longest <= (uint64_t)(bound_h * USEC_PER_HOUR) + slack);
        assert_true(w.max_gap[10] <= (uint64_t)(bound_h / 2 * USEC_PER_HOUR) + slack);
        assert_true(w.max_gap[11] <= 90 * USEC_PER_MINUTE + slack);
        assert_true(max_in_window(&w) <= 1000);
        /* the busy walls are polled well within the bound in their hours */
        assert_true(w.polls[0] > 2 * w.polls[20]);
        free(w.poll_times);
}

static void test_a_quiet_wall_turning_busy(void **state)
{
        /* A wall that posted once a day for ten days posts every 15 minutes for six hours (a
         * storm). Its first posts of the spell wait up to the bound, but after a few of them the
         * scheduler follows it: in the spell's last four hours no post waits more than 35
         * minutes, where its bound (round robin every 1 h here, so 1.75 h) would allow 105. Ten
         * days of history alone would not do it: without the short-term level the wait is 47
         * minutes and the wall is polled 5 times in the 6 hours, with it 21 minutes and 17. */
        _cleanup_scheduler_ struct scheduler *s = new_scheduler(1000, 0.1);
        struct world w = {};
        uint64_t t = T0;

        for (int i = 0; i < 40; i++)
                world_add(&w, s, i < 4 ? 900 : 86400 + 60 * i, i < 4 ? 9 : 0, i < 4 ? 18 : 24, 1);
        size_t k = 20;
        int64_t from = (int64_t)(T0 / USEC_PER_SEC) + 10 * 86400 + 11 * 3600;
        w.busy_period[k] = 900;
        w.busy_from[k] = from;
        w.busy_to[k] = from + 6 * 3600;
        drive(s, &w, &t, (uint64_t)from * USEC_PER_SEC);
        unsigned before = w.polls[k];
        uint64_t early = waits(s, &w, k, &t, (uint64_t)(from + 2 * 3600) * USEC_PER_SEC, NULL);
        uint64_t late = waits(s, &w, k, &t, (uint64_t)(from + 6 * 3600) * USEC_PER_SEC, NULL);
        print_message("spell: longest wait %.0f min in its first 2 h, %.0f min after; %u polls "
                      "in 6 h\n",
                      early / 6e7, late / 6e7, w.polls[k] - before);
        assert_true(late <= 35 * USEC_PER_MINUTE);
        assert_true(w.polls[k] - before >= 12);
        free(w.poll_times);
}

static void test_own_hours_are_learnt(void **state)
{
        /* Most walls keep office hours; six post only at dawn (5-7 local), as a transport
         * operator does. After four days the scheduler expects them at dawn and not at noon,
         * and polls them accordingly. */
        _cleanup_scheduler_ struct scheduler *s = new_scheduler(1000, 0.1);
        struct world w = {};
        uint64_t t = T0;

        for (int i = 0; i < 40; i++)
                world_add(&w, s, i < 6 ? 1200 : 3600 * (2 + i % 5), i < 6 ? 5 : 9, i < 6 ? 7 : 18,
                          1);
        drive(s, &w, &t, T0 + 4 * USEC_PER_DAY);
        double r[24];
        assert_int_equal(scheduler_get_rates(s, w.id[0], t, r), 0);
        uint64_t iv_dawn, iv_noon;
        assert_int_equal(
                scheduler_interval(s, w.id[0], T0 + 4 * USEC_PER_DAY + 5 * USEC_PER_HOUR, &iv_dawn),
                0);
        assert_int_equal(scheduler_interval(s, w.id[0], T0 + 4 * USEC_PER_DAY + 12 * USEC_PER_HOUR,
                                            &iv_noon),
                         0);
        print_message("dawn wall: %.2f/h at 5 am, %.3f/h at noon; interval %.0f min at 5 am, %.0f "
                      "at noon\n",
                      r[5], r[12], iv_dawn / 6e7, iv_noon / 6e7);
        assert_true(r[5] > 10 * r[12]);
        assert_true(iv_dawn * 2 < iv_noon);
        free(w.poll_times);
}

/* Drives w as drive() does until `until` and puts the mean wait (µs) of each community's posts
 * found on the way in ret_mean[]. */
static void mean_waits(struct scheduler *s, struct world *w, uint64_t *t, uint64_t until,
                       double ret_mean[])
{
        uint64_t prev[64];
        double sum[64] = {};
        size_t n[64] = {};
        memcpy(prev, w->last_poll, sizeof(prev));
        while (*t < until) {
                drive(s, w, t, *t + USEC_PER_MINUTE < until ? *t + USEC_PER_MINUTE : until);
                for (size_t k = 0; k < w->n; k++) {
                        for (int64_t p = (int64_t)(prev[k] / USEC_PER_SEC) + 1;
                             p <= (int64_t)(w->last_poll[k] / USEC_PER_SEC); p++)
                                if (posts_at(w, k, p)) {
                                        sum[k] += (double)(w->last_poll[k] -
                                                           (uint64_t)p * USEC_PER_SEC);
                                        n[k]++;
                                }
                        prev[k] = w->last_poll[k];
                }
        }
        for (size_t k = 0; k < w->n; k++)
                ret_mean[k] = n[k] > 0 ? sum[k] / (double)n[k] : 0;
}

static void test_postponed_posts_are_awaited(void **state)
{
        /* Two walls post every 3 hours all day: one from the postponed queue, on the hour (VK
         * shows the post seconds after it), the other by hand, 7 min 23 s past the hour. Once
         * the first's slot is learnt, its polls land just after the hour, and its posts wait a
         * fraction of what its twin's do, for no more polls. 38 walls post every 2 hours by
         * hand around them. */
        _cleanup_scheduler_ struct scheduler *s = new_scheduler(1000, 0.1);
        struct world w = {};
        uint64_t t = T0;
        double mean[64];

        for (int i = 0; i < 40; i++) {
                world_add(&w, s, i < 2 ? 3 * 3600 : 2 * 3600, 0, 24, 1);
                w.offset[i] = i == 0 ? 5 : i == 1 ? 7 * 60 + 23 : 97 * i;
        }
        drive(s, &w, &t, T0 + USEC_PER_DAY);
        unsigned before0 = w.polls[0], before1 = w.polls[1];
        mean_waits(s, &w, &t, T0 + 3 * USEC_PER_DAY, mean);
        unsigned polls0 = w.polls[0] - before0, polls1 = w.polls[1] - before1;
        print_message("postponed: mean wait %.1f min, %u polls in 2 days; by hand: %.1f min, %u "
                      "polls\n",
                      mean[0] / 6e7, polls0, mean[1] / 6e7, polls1);
        assert_true(mean[0] * 2 < mean[1]);
        assert_true(polls0 <= polls1 + polls1 / 5);

        /* what it learnt of the slot survives a restart: the wall's saved line is the same */
        _cleanup_scheduler_ struct scheduler *r = new_scheduler(1000, 0.1);
        _cleanup_free_ char *text = NULL, *again = NULL;
        for (size_t i = 0; i < w.n; i++)
                assert_int_equal(scheduler_add(r, w.id[i], 1), 0);
        assert_int_equal(scheduler_save(s, &text), 0);
        assert_int_equal(scheduler_load(r, text), 0);
        assert_int_equal(scheduler_save(r, &again), 0);
        const char *a = strstr(text, "\nc -1000 "), *b = strstr(again, "\nc -1000 ");
        assert_non_null(a);
        assert_non_null(b);
        size_t len = strcspn(a + 1, "\n");
        assert_true(len == strcspn(b + 1, "\n") && strncmp(a, b, len + 1) == 0);
        free(w.poll_times);
}

int main(void)
{
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(test_params),
                cmocka_unit_test(test_first_sight_and_bounds),
                cmocka_unit_test(test_allocation_and_priority),
                cmocka_unit_test(test_budget_never_exceeded),
                cmocka_unit_test(test_coverage_warning),
                cmocka_unit_test(test_learning_from_empty),
                cmocka_unit_test(test_history_on_first_sight),
                cmocka_unit_test(test_first_sweep_replans_at_once),
                cmocka_unit_test(test_jitter_bounds),
                cmocka_unit_test(test_quota_exhausted),
                cmocka_unit_test(test_state_round_trip),
                cmocka_unit_test(test_bound_priority_and_max_interval),
                cmocka_unit_test(test_a_quiet_wall_turning_busy),
                cmocka_unit_test(test_own_hours_are_learnt),
                cmocka_unit_test(test_postponed_posts_are_awaited),
        };
        return cmocka_run_group_tests(tests, NULL, NULL);
}
