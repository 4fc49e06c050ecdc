/* test-timeparse.c — broadcast start times: if these fail, a resident's reminder comes at the
 * wrong hour, on the wrong day, or in the wrong year. Time is the post's date, never the clock. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>
#include <limits.h>
#include <stdio.h>

#include "timeparse.h"

static struct tz *moscow;

static int setup(void **state)
{
        return tz_load(NULL, &moscow) < 0 ? -1 : 0;
}

static int teardown(void **state)
{
        moscow = tz_free(moscow);
        return 0;
}

/* post date as Moscow wall time */
static int64_t msk(int y, int mo, int d, int h, int mi)
{
        return tz_from_civil(moscow, y, mo, d, h, mi, NULL);
}

static void assert_start_tz(const struct tz *tz, const char *text, int64_t post,
                            const char *expected)
{
        struct time_match m;
        char buf[40];
        int r = timeparse_text(text, post, tz, &m);
        if (!expected) {
                assert_int_equal(r, -ENOENT);
                return;
        }
        assert_int_equal(r, 0);
        timeparse_format_iso8601(m.at, m.utc_offset, buf, sizeof(buf));
        assert_string_equal(buf, expected);
}

static void assert_start(const char *text, int64_t post, const char *expected)
{
        assert_start_tz(moscow, text, post, expected);
}

static void test_formats(void **state)
{
        int64_t post = msk(2026, 3, 10, 10, 0); /* a Tuesday */
        assert_start("Сегодня в 18:00 — прямой эфир", post, "2026-03-10T18:00:00+03:00");
        assert_start("Завтра в 12.00 эфир", post, "2026-03-11T12:00:00+03:00");
        assert_start("5 декабря в 17:00", post, "2026-12-05T17:00:00+03:00");
        assert_start("05.12 в 17 ч. эфир", post, "2026-12-05T17:00:00+03:00");
        assert_start("в четверг в 19:00", post, "2026-03-12T19:00:00+03:00");
        assert_start("Начнём через час", post, "2026-03-10T11:00:00+03:00");
        assert_start("через 30 минут", post, "2026-03-10T10:30:00+03:00");
        assert_start("ВНИМАНИЕ! СЕГОДНЯ В 18.00 — ЭФИР", post, "2026-03-10T18:00:00+03:00");
        assert_start("Завтра в 9 ч. утра", post, "2026-03-11T09:00:00+03:00");
        assert_start("завтра в 7 вечера", post, "2026-03-11T19:00:00+03:00");
        assert_start("10.12.2026 в 14.00", post, "2026-12-10T14:00:00+03:00");
        assert_start("В пятницу, 20 марта, в 12:00 — встреча", post, "2026-03-20T12:00:00+03:00");
        assert_start("в 17:00 в пятницу", post, "2026-03-13T17:00:00+03:00");
        /* as press offices write it: "12-00", hours named once after a range */
        assert_start("В четверг первый эфир, в 12-00 часов", post, "2026-03-12T12:00:00+03:00");
        assert_start("Эфир 14 марта с 14 до 15 часов", post, "2026-03-14T14:00:00+03:00");
        assert_start("Звонок главе пройдёт 14 августа с 9 до 10 часов.", post,
                     "2026-08-14T09:00:00+03:00");
        /* a date holds until the next one, however many sentences lie between */
        assert_start("17 сентября глава проведет прямую линию в соцсети. Вопросов много. Ответим "
                     "на них. Начало трансляции в 18:00.",
                     post, "2026-09-17T18:00:00+03:00");
        assert_start("17 сентября собрание. 20 сентября эфир. Вопросы принимаем. Начало в 18:00.",
                     post, "2026-09-20T18:00:00+03:00");
}

static void test_ranges_and_non_times(void **state)
{
        int64_t post = msk(2026, 3, 10, 10, 0);
        /* the start of a range, not its end */
        assert_start("20 марта с 10:00 до 12:00 — прямая линия", post, "2026-03-20T10:00:00+03:00");
        assert_start("Приём до 17:00", post, NULL);
        /* phone numbers, addresses and counts are not times */
        assert_start("Телефон 8 (861) 259-00-00, ул. Красная, 22, 5 класс", post, NULL);
        /* a time without a date that has passed is tomorrow's */
        assert_start("В 9:00 эфир", msk(2026, 3, 10, 20, 0), "2026-03-11T09:00:00+03:00");
        /* the same weekday as the post, later that day, is today */
        assert_start("Во вторник в 18:00", post, "2026-03-10T18:00:00+03:00");
        /* dashes between numbers are ranges, not "12-00" times */
        assert_start("Дети 10-12 лет, с 10-15 мая, дома 3-30", post, NULL);
        assert_start("с 14 до 15", post, NULL); /* of what? days, years, minutes */
        assert_start("с 5 до 7 лет", post, NULL);
}

static void test_unknown_post_date(void **state)
{
        /* a post with no date (a text from elsewhere): a date is taken as written */
        assert_start("Смотрите трансляцию 22 декабря в 13:00", 0, "1970-12-22T13:00:00+03:00");
        assert_start("28 декабря в 8 часов вечера", 0, "1970-12-28T20:00:00+03:00");
}

static void test_month_and_year_boundaries(void **state)
{
        assert_start("завтра в 10:00", msk(2026, 1, 31, 12, 0), "2026-02-01T10:00:00+03:00");
        assert_start("завтра в 10:00", msk(2026, 12, 31, 12, 0), "2027-01-01T10:00:00+03:00");
        assert_start("5 января в 17:00", msk(2026, 12, 28, 10, 0), "2027-01-05T17:00:00+03:00");
        assert_start("05.01 в 17:00", msk(2026, 12, 28, 10, 0), "2027-01-05T17:00:00+03:00");
        /* a recent date (a recap) stays in its year */
        assert_start("28 декабря в 12:00", msk(2027, 1, 3, 10, 0), "2026-12-28T12:00:00+03:00");
        assert_start("в пятницу в 12:00", msk(2026, 12, 30, 10, 0), "2027-01-01T12:00:00+03:00");
        assert_start("29 февраля в 12:00", msk(2028, 2, 1, 10, 0), "2028-02-29T12:00:00+03:00");
}

static void test_time_zones(void **state)
{
        struct tz *ekb = NULL, *berlin = NULL;
        assert_int_equal(tz_load("Asia/Yekaterinburg", &ekb), 0);
        assert_int_equal(tz_load("Europe/Berlin", &berlin), 0);
        int64_t post = msk(2026, 3, 10, 10, 0); /* 12:00 in Yekaterinburg */
        assert_start_tz(ekb, "сегодня в 18:00", post, "2026-03-10T18:00:00+05:00");
        /* before and after the DST change (29 March 2026) */
        assert_start_tz(berlin, "28 марта в 12:00", post, "2026-03-28T12:00:00+01:00");
        assert_start_tz(berlin, "30 марта в 12:00", post, "2026-03-30T12:00:00+02:00");
        assert_int_equal(tz_offset_at(moscow, post), 3 * 3600);
        /* Moscow was UTC+4 in 2012 */
        assert_int_equal(tz_offset_at(moscow, 1340000000), 4 * 3600);
        tz_free(ekb);
        tz_free(berlin);

        struct tz *bad = NULL;
        assert_int_equal(tz_load("../../etc/passwd", &bad), -EINVAL);
        assert_int_equal(tz_load("Mars/Olympus", &bad), -ENOENT);
        assert_null(bad);
}

static void test_civil(void **state)
{
        struct civil_time ct;
        tz_to_civil(moscow, msk(2026, 3, 12, 19, 5), &ct);
        assert_int_equal(ct.year, 2026);
        assert_int_equal(ct.month, 3);
        assert_int_equal(ct.day, 12);
        assert_int_equal(ct.hour, 19);
        assert_int_equal(ct.minute, 5);
        assert_int_equal(ct.weekday, 3); /* Thursday */
        char buf[40];
        timeparse_format_iso8601(0, -5 * 3600 - 1800, buf, sizeof(buf));
        assert_string_equal(buf, "1969-12-31T18:30:00-05:30");
}

/* Fuzzers and hostile answers call these with any int64_t: no overflow (UBSan aborts this test
 * on one), times held to years 1..9999, and no start time read against a wild post date. */
static void test_extreme_times(void **state)
{
        static const int64_t wild[] = {
                INT64_MAX,     INT64_MAX - 3600,       INT64_MIN,
                INT64_MIN + 1, TIMEPARSE_TIME_MAX + 1, TIMEPARSE_TIME_MIN - 1};
        static const char *const texts[] = {"через 2 часа",     "завтра в 10:00",
                                            "5 января в 17:00", "в пятницу в 12:00",
                                            "в 18:00",          "28 декабря в 12:00"};
        struct civil_time ct;
        struct time_match m;
        char buf[40];

        for (size_t i = 0; i < sizeof(wild) / sizeof(wild[0]); i++) {
                bool high = wild[i] > 0;
                tz_to_civil(moscow, wild[i], &ct);
                assert_int_equal(ct.year, high ? 9999 : 1);
                assert_int_equal(ct.month, high ? 12 : 1);
                assert_int_equal(ct.day, high ? 31 : 1);
                for (size_t k = 0; k < sizeof(texts) / sizeof(texts[0]); k++)
                        assert_int_equal(timeparse_text(texts[k], wild[i], moscow, &m), -ENOENT);
                timeparse_format_iso8601(wild[i], 3 * 3600, buf, sizeof(buf));
                assert_string_equal(buf, high ? "9999-12-31T23:59:59+03:00"
                                              : "0001-01-01T03:00:00+03:00");
        }
        /* any offset, INT32_MIN included (its negation overflows an int32_t) */
        timeparse_format_iso8601(INT64_MAX, INT32_MAX, buf, sizeof(buf));
        assert_string_equal(buf, "9999-12-31T23:59:59+596523:14");
        timeparse_format_iso8601(INT64_MIN, INT32_MIN, buf, sizeof(buf));
        assert_string_equal(buf, "0001-01-01T00:00:00-596523:14"); /* local held too */
        /* the ends themselves are read as usual */
        assert_start("через 2 часа", TIMEPARSE_TIME_MAX - 7200, "9999-12-31T23:59:59+03:00");
        /* wall-clock fields out of range carry over, whatever their size */
        int64_t t = tz_from_civil(moscow, INT_MAX, INT_MAX, INT_MAX, INT_MAX, INT_MAX, NULL);
        int64_t u = tz_from_civil(moscow, INT_MIN, INT_MIN, INT_MIN, INT_MIN, INT_MIN, NULL);
        assert_true(t > u);
        assert_true(tz_from_civil(moscow, 2026, 3, 10, 24 * 30, 0, NULL) == msk(2026, 4, 9, 0, 0));
}

/* A date written in the text far after its post is no start: never a reminder in a century. */
static void test_horizon(void **state)
{
        int64_t post = msk(2026, 12, 6, 10, 0);
        struct time_match m;

        assert_start("12 мая 2027 года в 18:00", post, "2027-05-12T18:00:00+03:00");
        assert_int_equal(timeparse_text("31.12.9999 в 18:00", post, moscow, &m), -ENOENT);
        assert_int_equal(timeparse_text("1 марта 2028 в 10:00", post, moscow, &m), -ENOENT);
        /* the edge itself: 400 days on is kept, a minute more is not */
        int64_t edge = post + TIMEPARSE_HORIZON;
        struct civil_time ct;
        char text[64];
        tz_to_civil(moscow, edge, &ct);
        snprintf(text, sizeof(text), "%02d.%02d.%04d в %02d:%02d", ct.day, ct.month, ct.year,
                 ct.hour, ct.minute);
        assert_int_equal(timeparse_text(text, post, moscow, &m), 0);
        assert_true(m.at == edge);
        snprintf(text, sizeof(text), "%02d.%02d.%04d в %02d:%02d", ct.day, ct.month, ct.year,
                 ct.hour, ct.minute + 1);
        assert_int_equal(timeparse_text(text, post, moscow, &m), -ENOENT);
        /* and the next time in the text is still read */
        assert_start("31.12.9999 в 18:00. Прямой эфир завтра в 12:00", post,
                     "2026-12-07T12:00:00+03:00");
}

int main(void)
{
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(test_formats),
                cmocka_unit_test(test_ranges_and_non_times),
                cmocka_unit_test(test_unknown_post_date),
                cmocka_unit_test(test_month_and_year_boundaries),
                cmocka_unit_test(test_time_zones),
                cmocka_unit_test(test_civil),
                cmocka_unit_test(test_extreme_times),
                cmocka_unit_test(test_horizon),
        };
        return cmocka_run_group_tests(tests, setup, teardown);
}
