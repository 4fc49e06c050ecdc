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

static struct post *mkpost(int64_t id, bool pinned)
{
        struct post *p = calloc(1, sizeof(*p));
        p->id = id;
        p->owner_id = -1;
        p->is_pinned = pinned;
        p->text = strdup("");
        return p;
}

static void test_mark_new(void **state)
{
        /* a wall page: an old pinned post first, then newest to oldest */
        struct post *posts[] = {mkpost(3, true), mkpost(12, false), mkpost(11, false),
                                mkpost(10, false), mkpost(9, false)};
        bool is_new[5];

        sweep_mark_new(posts, 5, 10, is_new);
        assert_false(is_new[0]); /* old pinned: never new */
        assert_true(is_new[1]);
        assert_true(is_new[2]);
        assert_false(is_new[3]);
        assert_false(is_new[4]);

        /* a brand-new pinned post is new */
        posts[0]->id = 13;
        sweep_mark_new(posts, 5, 12, is_new);
        assert_true(is_new[0]);
        assert_false(is_new[1]);

        for (size_t i = 0; i < ELEMENTSOF(posts); i++)
                post_free(posts[i]);
}

int main(void)
{
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(test_backoff_bounds),
                cmocka_unit_test(test_mark_new),
        };
        return cmocka_run_group_tests(tests, NULL, NULL);
}
