/* test-route.c — who hears about a post, and when quiet hours hold it back. A failure here means
 * a resident gets a post twice, gets one they did not ask for, or is woken at night. */
#include "test-helpers.h"

#include "route.h"

static struct sink_conf sinks[3] = {
        {.name = "screen", .type = "console"},
        {.name = "desk", .type = "desktop"},
        {.name = "mail", .type = "email"},
};

static void test_union_once_per_sink(void **state)
{
        size_t s01[] = {0, 1}, s12[] = {1, 2}, s2[] = {2};
        struct watch_conf watch[3] = {
                {.topic = "Район", .categories = 1u << 0 | 1u << 2, .sinks = s01, .n_sinks = 2},
                {.topic = "Школа", .all_categories = true, .sinks = s12, .n_sinks = 2},
                {.topic = "Всё",
                 .uncategorized = true,
                 .categories = 1u << 5,
                 .sinks = s2,
                 .n_sinks = 1},
        };
        struct config conf = {.sinks = sinks, .n_sinks = 3, .watch = watch, .n_watch = 3};
        size_t both[] = {0, 1};
        struct route_target t = {.owner_id = -1, .watch = both, .n_watch = 2};
        const char **out = NULL, *topic = NULL;

        /* live (bit 0): entry 0 and 1 want it; desk is named by both but listed once */
        assert_int_equal(route_post(&conf, &t, 1u << 0, &out, &topic), 3);
        assert_string_equal(out[0], "screen");
        assert_string_equal(out[1], "desk");
        assert_string_equal(out[2], "mail");
        assert_null(out[3]);
        assert_string_equal(topic, "Район");
        free(out);

        /* service (bit 1): only the "all" entry */
        assert_int_equal(route_post(&conf, &t, 1u << 1, &out, &topic), 2);
        assert_string_equal(out[0], "desk");
        assert_string_equal(topic, "Школа");
        free(out);

        /* no category: nobody, unless an entry says uncategorized */
        assert_int_equal(route_post(&conf, &t, 0, &out, &topic), 0);
        assert_null(topic);
        free(out);
        size_t third[] = {2};
        struct route_target t3 = {.owner_id = -1, .watch = third, .n_watch = 1};
        assert_int_equal(route_post(&conf, &t3, 0, &out, &topic), 1);
        assert_string_equal(out[0], "mail");
        free(out);
        /* entry 2 wants civic only (plus uncategorized) */
        assert_int_equal(route_post(&conf, &t3, 1u << 3, &out, &topic), 0);
        free(out);
}

static void test_quiet_hours(void **state)
{
        int start = 23 * 60, end = 7 * 60; /* 23:00-07:00 */
        assert_true(quiet_hours_contains(start, end, 23 * 60));
        assert_true(quiet_hours_contains(start, end, 0));
        assert_true(quiet_hours_contains(start, end, 6 * 60 + 59));
        assert_false(quiet_hours_contains(start, end, 7 * 60));
        assert_false(quiet_hours_contains(start, end, 12 * 60));
        assert_false(quiet_hours_contains(-1, -1, 0));
        assert_false(quiet_hours_contains(600, 600, 600));
        /* same-day window 13:00-14:30 */
        assert_true(quiet_hours_contains(13 * 60, 14 * 60 + 30, 14 * 60 + 29));
        assert_false(quiet_hours_contains(13 * 60, 14 * 60 + 30, 14 * 60 + 30));

        /* 23:30:00 -> 7.5 hours to go; 06:59:30 -> 30 s; noon -> 0 */
        assert_int_equal(quiet_hours_remaining(start, end, 23 * 3600 + 1800), 7 * 3600 + 1800);
        assert_int_equal(quiet_hours_remaining(start, end, 6 * 3600 + 59 * 60 + 30), 30);
        assert_int_equal(quiet_hours_remaining(start, end, 12 * 3600), 0);

        struct sink_conf s = {.name = "desk"};
        char *storm[] = {"outage", "emergency", NULL};
        char *bus[] = {"schedule", NULL};
        assert_true(quiet_hours_bypass(&s, storm));
        assert_false(quiet_hours_bypass(&s, bus));
        s.quiet_emergency = true;
        assert_false(quiet_hours_bypass(&s, storm));
}

int main(void)
{
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(test_union_once_per_sink),
                cmocka_unit_test(test_quiet_hours),
        };
        return cmocka_run_group_tests(tests, NULL, NULL);
}
